package search

import (
	"cmp"
	"slices"
)

// Suggest limits.
const (
	// DefaultSuggestLimit is the number of suggestions when limit <= 0.
	DefaultSuggestLimit = 8
	// MaxSuggestLimit is the largest number of suggestions; larger limits
	// are clamped.
	MaxSuggestLimit = 20
)

// Suggestion is one search-as-you-type completion.
type Suggestion struct {
	ID    string
	Type  string
	Title string // as indexed
	Score float64
}

// Suggest completes prefix, as typed so far, to document titles. Every word
// of prefix must match a word of the title: the last word as a prefix
// (unless prefix ends with a space), the others exactly or, when no title
// contains them, within the typo distance (see MaxTypoTerms); the last word
// falls back to typo matching too when no title word starts with it.
// Suggestions are ranked by BM25 over the title field, then shorter title,
// then ID. typ restricts them to one document type ("" = any); limit <= 0
// means DefaultSuggestLimit and is capped at MaxSuggestLimit.
func (ix *Index) Suggest(prefix string, typ string, limit int) []Suggestion {
	if limit <= 0 {
		limit = DefaultSuggestLimit
	}
	limit = min(limit, MaxSuggestLimit)
	if ix.n == 0 {
		return nil
	}
	typeCode := uint32(noTypeFilterCode)
	if typ != "" {
		typeCode = unknownTypeCode
		for i, name := range ix.typeNames {
			if name == typ {
				typeCode = uint32(i)
			}
		}
		if typeCode == unknownTypeCode {
			return nil
		}
	}

	st := ix.getState()
	defer ix.pool.Put(st)
	st.tok.reset()
	st.tok.add(prefix)
	nTok := st.tok.len()
	if nTok == 0 {
		return nil
	}
	isPrefix := prefixEligible(&st.tok, prefix)

	// One group of terms per distinct query word; a title must match every
	// group.
	terms := st.terms[:0]
	groups := int32(0)
	for i := range min(nTok, MaxQueryTerms) {
		if st.tok.seen(i) {
			continue
		}
		tok := st.tok.token(i)
		start := len(terms)
		if t, ok := ix.lookup(tok); ok && ix.titleDF(t) > 0 {
			terms = append(terms, queryTerm{term: t, mult: 1, group: groups})
		}
		if i == nTok-1 && isPrefix {
			terms = ix.prefixTerms(terms, start, tok, true, groups)
		}
		if len(terms) == start {
			terms = ix.typoTerms(st, terms, start, tok, groups, true)
		}
		if len(terms) == start {
			st.terms = terms
			return nil
		}
		groups++
	}
	st.terms = terms

	// Process the group with the fewest postings first, so later groups
	// only extend the documents that are still candidates.
	sizes := st.groupSize[:0]
	for range groups {
		sizes = append(sizes, 0)
	}
	for _, qt := range terms {
		sizes[qt.group] += uint32(ix.titleDF(qt.term))
	}
	slices.SortStableFunc(terms, func(a, b queryTerm) int {
		if c := cmp.Compare(sizes[a.group], sizes[b.group]); c != 0 {
			return c
		}
		return cmp.Compare(a.group, b.group)
	})
	st.groupSize = sizes

	if len(st.cnt) < ix.n {
		st.cnt = make([]uint8, ix.n)
	}
	acc, cnt, touched := st.acc, st.cnt, st.touched[:0]
	level := uint8(0) // groups processed before the current one
	for i, qt := range terms {
		if i > 0 && qt.group != terms[i-1].group {
			level++
		}
		c := float32(ix.titleIDF(qt.term) * qt.mult)
		lo, hi := ix.tpostStart[qt.term], ix.tpostStart[qt.term+1]
		docs := ix.tpostDoc[lo:hi]
		ws := ix.tpostW[lo:hi]
		ws = ws[:len(docs)]
		for j, d := range docs {
			switch cnt[d] {
			case level:
				if level == 0 {
					if typeCode != noTypeFilterCode && ix.docType[d] != typeCode {
						continue
					}
					touched = append(touched, d)
				}
				cnt[d] = level + 1
			case level + 1:
			default:
				continue
			}
			acc[d] += c * ws[j]
		}
	}
	st.touched = touched
	want := level + 1

	h := st.heap[:0]
	for _, d := range touched {
		s := float64(acc[d])
		ok := cnt[d] == want
		acc[d], cnt[d] = 0, 0
		if !ok {
			continue
		}
		c := scored{score: s, doc: d}
		if len(h) < limit {
			h = append(h, c)
			ix.suggestUp(h, len(h)-1)
		} else if ix.suggestWorse(h[0], c) {
			h[0] = c
			ix.suggestDown(h, 0)
		}
	}
	st.heap = h
	if len(h) == 0 {
		return nil
	}
	slices.SortFunc(h, func(a, b scored) int {
		switch {
		case ix.suggestWorse(b, a):
			return -1
		case ix.suggestWorse(a, b):
			return 1
		}
		return 0
	})
	out := make([]Suggestion, len(h))
	for i, c := range h {
		out[i] = Suggestion{ID: ix.id(c.doc), Type: ix.typeNames[ix.docType[c.doc]], Title: ix.title(c.doc), Score: c.score}
	}
	return out
}

// titleIDF is the BM25 inverse document frequency of term t over titles.
func (ix *Index) titleIDF(t int) float64 {
	return bm25IDF(ix.n, ix.titleDF(t))
}

// suggestWorse reports whether suggestion a ranks below b: lower score, or
// equal score and a longer title, or equal title length and a larger ID.
func (ix *Index) suggestWorse(a, b scored) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	la, lb := ix.titleLen(a.doc), ix.titleLen(b.doc)
	if la != lb {
		return la > lb
	}
	return ix.id(a.doc) > ix.id(b.doc)
}

func (ix *Index) titleLen(d uint32) int {
	if d == 0 {
		return ix.titleEnd[0]
	}
	return ix.titleEnd[d] - ix.titleEnd[d-1]
}

func (ix *Index) suggestUp(h []scored, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !ix.suggestWorse(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (ix *Index) suggestDown(h []scored, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && ix.suggestWorse(h[r], h[l]) {
			c = r
		}
		if !ix.suggestWorse(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
