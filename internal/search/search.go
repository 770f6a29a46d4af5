package search

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Query limits and scoring constants.
const (
	// DefaultLimit is the page size used when Query.Limit <= 0.
	DefaultLimit = 10
	// MaxLimit is the largest page size; larger limits are clamped.
	MaxLimit = 100
	// MaxQueryTerms caps how many distinct query terms found in the
	// dictionary are scored; later ones are ignored.
	MaxQueryTerms = 64
	// MaxPrefixTerms caps how many dictionary terms the last query token
	// expands to when matched as a prefix (most frequent first).
	MaxPrefixTerms = 50

	prefixWeight     = 0.8
	exactTitleBoost  = 1.5
	minPrefixRunes   = 2
	unknownTypeCode  = math.MaxUint32
	noTypeFilterCode = math.MaxUint32 - 1
)

// Query is a search request.
type Query struct {
	Text   string // free text; the last word also matches as a prefix unless Text ends with a space
	Type   string // "" = any type
	Limit  int    // page size; <= 0 means DefaultLimit, capped at MaxLimit
	Offset int    // number of hits to skip; < 0 means 0
}

// Hit is one matching document.
type Hit struct {
	ID    string
	Type  string
	Year  int
	Score float64
}

// Result is one page of hits plus the total number of matching documents.
type Result struct {
	Total int
	Hits  []Hit
}

// queryTerm is a dictionary term to score, with its multiplier (1 for query
// terms, prefixWeight for prefix expansions).
type queryTerm struct {
	term int
	mult float64
}

// scored is a candidate in the top-k heap.
type scored struct {
	score float64
	doc   uint32
}

// searchState is per-query scratch space, recycled through Index.pool.
type searchState struct {
	acc     []float32 // dense per-document score accumulator, all zero between queries
	touched []uint32  // documents with acc != 0
	heap    []scored
	terms   []queryTerm
	tok     tokenizer
}

// Search runs q and returns one page of hits ordered by descending score,
// ties broken by ascending ID. A document matches when it contains at least
// one query term (or, for the last term, a term it is a prefix of); Total
// counts all matching documents of the requested type.
func (ix *Index) Search(q Query) Result {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)
	if ix.n == 0 {
		return Result{}
	}

	typeCode := uint32(noTypeFilterCode)
	if q.Type != "" {
		typeCode = unknownTypeCode
		for i, name := range ix.typeNames {
			if name == q.Type {
				typeCode = uint32(i)
			}
		}
		if typeCode == unknownTypeCode {
			return Result{}
		}
	}

	st := ix.getState()
	defer ix.pool.Put(st)

	st.tok.reset()
	st.tok.add(q.Text)
	if st.tok.len() == 0 {
		return Result{}
	}
	titleHash := st.tok.hash()
	terms := ix.queryTerms(st, q.Text)

	// Accumulate scores.
	acc, touched := st.acc, st.touched[:0]
	for _, qt := range terms {
		c := float32(ix.idf(qt.term) * qt.mult)
		lo, hi := ix.postStart[qt.term], ix.postStart[qt.term+1]
		docs := ix.postDoc[lo:hi]
		ws := ix.postW[lo:hi]
		ws = ws[:len(docs)]
		if typeCode == noTypeFilterCode {
			for i, d := range docs {
				v := acc[d]
				if v == 0 {
					touched = append(touched, d)
				}
				acc[d] = v + c*ws[i]
			}
		} else {
			types := ix.docType
			for i, d := range docs {
				if types[d] != typeCode {
					continue
				}
				v := acc[d]
				if v == 0 {
					touched = append(touched, d)
				}
				acc[d] = v + c*ws[i]
			}
		}
	}
	st.touched = touched

	// Select the top offset+limit with a bounded min-heap (root = worst kept),
	// resetting the accumulator as we go.
	total := len(touched)
	k := 0
	if offset < total {
		k = min(offset+limit, total)
	}
	h := st.heap[:0]
	for _, d := range touched {
		s := float64(acc[d])
		acc[d] = 0
		if k == 0 {
			continue
		}
		// Only look at the title hash (a random memory access) when the
		// boosted score could still enter the heap.
		if len(h) == k && s*exactTitleBoost < h[0].score {
			continue
		}
		if ix.titleHash[d] == titleHash {
			s *= exactTitleBoost
		}
		c := scored{score: s, doc: d}
		if len(h) < k {
			h = append(h, c)
			ix.up(h, len(h)-1)
		} else if ix.worse(h[0], c) {
			h[0] = c
			ix.down(h, 0)
		}
	}
	st.heap = h
	if k == 0 {
		return Result{Total: total}
	}

	slices.SortFunc(h, func(a, b scored) int {
		switch {
		case ix.worse(b, a):
			return -1
		case ix.worse(a, b):
			return 1
		}
		return 0
	})
	hits := make([]Hit, 0, len(h)-offset)
	for _, c := range h[offset:] {
		hits = append(hits, Hit{
			ID:    ix.id(c.doc),
			Type:  ix.typeNames[ix.docType[c.doc]],
			Year:  int(ix.years[c.doc]),
			Score: c.score,
		})
	}
	return Result{Total: total, Hits: hits}
}

// queryTerms resolves the tokens in st.tok to dictionary terms, adding the
// prefix expansions of the last token when applicable.
func (ix *Index) queryTerms(st *searchState, text string) []queryTerm {
	terms := st.terms[:0]
	nTok := st.tok.len()
	for i := range nTok {
		tok := st.tok.token(i)
		t, ok := ix.lookup(tok)
		if !ok || slices.ContainsFunc(terms, func(q queryTerm) bool { return q.term == t }) {
			continue
		}
		terms = append(terms, queryTerm{term: t, mult: 1})
		if len(terms) == MaxQueryTerms {
			break
		}
	}

	last := st.tok.token(nTok - 1)
	r, _ := utf8.DecodeLastRuneInString(text)
	if st.tok.lastKept && utf8.RuneCount(last) >= minPrefixRunes && !unicode.IsSpace(r) {
		exact := len(terms)
		lo := sort.Search(len(ix.termEnd), func(i int) bool { return ix.term(i) >= string(last) })
		// Keep the MaxPrefixTerms most frequent expansions; the scan is in
		// term order, so on equal df the earlier (smaller) term wins.
		minAt := -1
		for t := lo; t < len(ix.termEnd) && strings.HasPrefix(ix.term(t), string(last)); t++ {
			if slices.ContainsFunc(terms[:exact], func(q queryTerm) bool { return q.term == t }) {
				continue
			}
			if len(terms)-exact < MaxPrefixTerms {
				terms = append(terms, queryTerm{term: t, mult: prefixWeight})
				if len(terms)-exact == MaxPrefixTerms {
					minAt = ix.minDF(terms[exact:]) + exact
				}
				continue
			}
			if ix.df(t) > ix.df(terms[minAt].term) {
				terms[minAt] = queryTerm{term: t, mult: prefixWeight}
				minAt = ix.minDF(terms[exact:]) + exact
			}
		}
		exp := terms[exact:]
		slices.SortFunc(exp, func(a, b queryTerm) int {
			if da, db := ix.df(a.term), ix.df(b.term); da != db {
				return db - da
			}
			return a.term - b.term
		})
	}
	st.terms = terms
	return terms
}

// minDF returns the index in ts of the least frequent term, the largest term
// on ties (that is the one a later, equally frequent term must not replace,
// and the first to go otherwise).
func (ix *Index) minDF(ts []queryTerm) int {
	m := 0
	for i := 1; i < len(ts); i++ {
		di, dm := ix.df(ts[i].term), ix.df(ts[m].term)
		if di < dm || di == dm && ts[i].term > ts[m].term {
			m = i
		}
	}
	return m
}

// lookup binary-searches the term dictionary.
func (ix *Index) lookup(tok []byte) (int, bool) {
	i := sort.Search(len(ix.termEnd), func(i int) bool { return ix.term(i) >= string(tok) })
	if i < len(ix.termEnd) && ix.term(i) == string(tok) {
		return i, true
	}
	return 0, false
}

// idf is the BM25 inverse document frequency of term t over the whole index.
func (ix *Index) idf(t int) float64 {
	n, df := float64(ix.n), float64(ix.df(t))
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

func (ix *Index) getState() *searchState {
	if st, ok := ix.pool.Get().(*searchState); ok {
		return st
	}
	return &searchState{acc: make([]float32, ix.n)}
}

// worse reports whether a ranks below b: lower score, or equal score and a
// larger ID.
func (ix *Index) worse(a, b scored) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return ix.id(a.doc) > ix.id(b.doc)
}

func (ix *Index) up(h []scored, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !ix.worse(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (ix *Index) down(h []scored, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && ix.worse(h[r], h[l]) {
			c = r
		}
		if !ix.worse(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
