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

	// YearFrom and YearTo restrict the hits to documents of those years,
	// inclusive; 0 leaves that end open. When either is set, documents of
	// unknown year (0) are excluded.
	YearFrom, YearTo int
	// Filters restricts the hits by facet: a document must have, for every
	// facet named (AND across facets), at least one of the listed values
	// (OR within a facet). Names and values match case- and
	// accent-insensitively, ignoring surrounding white space. The built-in
	// facets "type" and "decade" (values such as "1990s") can be filtered
	// on too. A facet with an empty list is ignored; an unknown facet, or
	// one none of whose values exist, matches nothing.
	Filters map[string][]string
	// Facets names the facets to count over all matching documents (after
	// filters), including the built-in "type" and "decade".
	Facets []string
	// FacetLimit is the number of values per facet in Result.Facets;
	// <= 0 means DefaultFacetLimit.
	FacetLimit int
	// Fuzzy enables typo tolerance (see MaxTypoTerms); nil means on.
	Fuzzy *bool
}

// Hit is one matching document.
type Hit struct {
	ID    string
	Type  string
	Title string // as indexed
	Year  int
	Score float64
}

// Result is one page of hits plus the total number of matching documents.
type Result struct {
	Total int
	Hits  []Hit
	// Facets has one entry per name in Query.Facets: the most frequent
	// values among all matching documents, by descending count, then
	// value. Unknown facets have an empty list. Nil when no facets were
	// requested.
	Facets map[string][]FacetCount
	// Corrected is true when typo expansion of a misspelled query word
	// contributed matching documents.
	Corrected bool
}

// queryTerm is a dictionary term to score, with its multiplier (1 for query
// terms, prefixWeight for prefix expansions, typoWeight for typo expansions).
type queryTerm struct {
	term  int
	mult  float64
	typo  bool
	group int32 // Suggest: index of the query word the term stands for
}

// scored is a candidate in the top-k heap.
type scored struct {
	score float64
	doc   uint32
}

// searchState is per-query scratch space, recycled through Index.pool.
type searchState struct {
	acc     []float32 // dense per-document score accumulator, all zero between queries
	cnt     []uint8   // Suggest: per-document matched word count, all zero between queries
	touched []uint32  // documents with acc != 0
	scores  []float32 // scores of filtered documents, parallel to touched
	heap    []scored
	terms   []queryTerm
	tok     tokenizer
	key     []byte // folded facet name or value
	filter  docFilter
	facets  facetCounter
	qr      []rune // query word being typo-expanded
	typo    typoWalker
	// Suggest: postings per query word group.
	groupSize []uint32
}

// Search runs q and returns one page of hits ordered by descending score,
// ties broken by ascending ID. A document matches when it contains at least
// one query term (or, for the last term, a term it is a prefix of, or, for a
// word not in the dictionary, a term within its typo distance) and passes
// the type, year and facet filters; Total counts all matching documents.
func (ix *Index) Search(q Query) Result {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)
	if ix.n == 0 {
		return Result{Facets: emptyFacets(&q)}
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
			return Result{Facets: emptyFacets(&q)}
		}
	}

	st := ix.getState()
	defer ix.putState(st)

	if !ix.prepareFilters(st, &q) {
		return Result{Facets: emptyFacets(&q)}
	}
	filter := &st.filter
	counting := len(q.Facets) > 0 && ix.prepareFacets(st, &q)

	st.tok.reset()
	st.tok.add(q.Text)
	if st.tok.len() == 0 {
		return Result{Facets: emptyFacets(&q)}
	}
	titleHash := st.tok.hash()
	terms := ix.queryTerms(st, q.Text, q.Fuzzy == nil || *q.Fuzzy)

	ix.accumulate(st, terms, typeCode)

	// Select the top offset+limit with a bounded min-heap (root = worst kept),
	// resetting the accumulator as we go. Without document filters every
	// touched document matches; with them, Total is known only at the end,
	// so the heap keeps up to offset+limit of the filtered documents.
	k := 0
	if n := len(st.touched); offset < n {
		k = min(offset+limit, n)
	}
	var total int
	if !filter.active && !counting {
		total = ix.selectTop(st, k, titleHash)
	} else {
		total = ix.selectFiltered(st, k, titleHash, counting)
	}
	h := st.heap
	res := Result{Total: total}
	if len(q.Facets) > 0 {
		res.Facets = ix.facetResult(st, &q)
	}
	if total > 0 {
		res.Corrected = ix.corrected(terms, typeCode, filter)
	}
	if offset >= total || len(h) == 0 {
		return res
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
			Title: ix.title(c.doc),
			Year:  int(ix.year(c.doc)),
			Score: c.score,
		})
	}
	res.Hits = hits
	return res
}

// accumulate adds the scores of the postings of terms (of type typeCode
// unless it is noTypeFilterCode) into st.acc, listing the documents in
// st.touched.
func (ix *Index) accumulate(st *searchState, terms []queryTerm, typeCode uint32) {
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
}

// selectTop keeps the best k touched documents in st.heap, resetting the
// accumulator, and returns the number of touched documents.
func (ix *Index) selectTop(st *searchState, k int, titleHash uint64) int {
	acc := st.acc
	h := st.heap[:0]
	if k == 0 {
		for _, d := range st.touched {
			acc[d] = 0
		}
		st.heap = h
		return len(st.touched)
	}
	// Only look at the title hash (a random memory access) when the boosted
	// score could still enter the heap, that is beat thr, the worst score
	// kept once the heap is full.
	thr := math.Inf(-1)
	for _, d := range st.touched {
		s := float64(acc[d])
		acc[d] = 0
		if s*exactTitleBoost < thr {
			continue
		}
		h = ix.offer(h, k, s, d, titleHash)
		if len(h) == k {
			thr = h[0].score
		}
	}
	st.heap = h
	return len(st.touched)
}

// selectFiltered is selectTop for queries with document filters or facet
// counts: it returns the number of touched documents that pass the
// filters, counting their facets when counting is set.
func (ix *Index) selectFiltered(st *searchState, k int, titleHash uint64, counting bool) int {
	acc, f := st.acc, &st.filter
	touched := st.touched
	scores := slices.Grow(st.scores[:0], len(touched))[:len(touched)]
	st.scores = scores

	// Phase 1: move the scores of the documents that pass the filters to
	// scores, compacting touched in place, and reset the accumulator. The
	// loop is branch-free per document (n += ok) so that the CPU can
	// overlap the cache misses of consecutive documents.
	n := 0
	attr := ix.attr
	yearLo, yearSpan, need, slow := f.yearLo, uint32(f.yearHi-f.yearLo), f.need, len(f.slow) > 0
	for _, d := range touched {
		s := acc[d]
		acc[d] = 0
		a := attr[d]
		ok := 1
		if f.yearOn {
			ok = b2i(uint32(a.year-yearLo) <= yearSpan) & b2i(a.year != 0)
		}
		if need != 0 {
			ok &= b2i(f.marks(ix, d) == need)
		}
		if slow && ok == 1 && !ix.passSlow(f, d) {
			ok = 0
		}
		touched[n] = d
		scores[n] = s
		n += ok
	}
	touched, scores = touched[:n], scores[:n]

	// Phase 2: count facets and select the top k.
	if counting {
		ix.countFacets(&st.facets, touched)
	}
	k = min(k, n)
	h := st.heap[:0]
	if k > 0 {
		thr := math.Inf(-1)
		for i, d := range touched {
			s := float64(scores[i])
			if s*exactTitleBoost < thr {
				continue
			}
			h = ix.offer(h, k, s, d, titleHash)
			if len(h) == k {
				thr = h[0].score
			}
		}
	}
	st.heap = h
	return n
}

// b2i returns 1 for true and 0 for false, without a branch.
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// offer adds document d with score s (boosted when its title hash is
// titleHash) to the bounded heap h of capacity k.
func (ix *Index) offer(h []scored, k int, s float64, d uint32, titleHash uint64) []scored {
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
	return h
}

// corrected reports whether a typo expansion among terms matches a document
// that passes the filters.
func (ix *Index) corrected(terms []queryTerm, typeCode uint32, filter *docFilter) bool {
	for _, qt := range terms {
		if !qt.typo {
			continue
		}
		if typeCode == noTypeFilterCode && !filter.active {
			return true // every dictionary term has postings
		}
		for _, d := range ix.postDoc[ix.postStart[qt.term]:ix.postStart[qt.term+1]] {
			if (typeCode == noTypeFilterCode || ix.docType[d] == typeCode) && (!filter.active || ix.pass(filter, d)) {
				return true
			}
		}
	}
	return false
}

// prefixEligible reports whether the last token in t (from text) is matched
// as a prefix: it survived stop-word removal, has at least minPrefixRunes
// runes and text does not end with white space.
func prefixEligible(t *tokenizer, text string) bool {
	if t.len() == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(text)
	return t.lastKept && utf8.RuneCount(t.token(t.len()-1)) >= minPrefixRunes && !unicode.IsSpace(r)
}

// queryTerms resolves the tokens in st.tok to dictionary terms, adding the
// prefix expansions of the last token when applicable and, when fuzzy is
// set, the typo expansions of tokens missing from the dictionary (the last
// token only when it has no prefix expansion either).
func (ix *Index) queryTerms(st *searchState, text string, fuzzy bool) []queryTerm {
	terms := st.terms[:0]
	nTok := st.tok.len()
	var found uint64 // bit i: token i is in the dictionary (first 64 tokens)
	for i := range nTok {
		tok := st.tok.token(i)
		t, ok := ix.lookup(tok)
		if ok && i < 64 {
			found |= 1 << i
		}
		if !ok || slices.ContainsFunc(terms, func(q queryTerm) bool { return q.term == t }) {
			continue
		}
		terms = append(terms, queryTerm{term: t, mult: 1})
		if len(terms) == MaxQueryTerms {
			break
		}
	}

	prefix := prefixEligible(&st.tok, text)
	if prefix {
		terms = ix.prefixTerms(terms, 0, st.tok.token(nTok-1), false, 0)
	}

	if fuzzy {
		words := 0
		for i := 0; i < nTok && i < 64 && words < maxTypoWords; i++ {
			tok := st.tok.token(i)
			if found&(1<<i) != 0 || st.tok.seen(i) {
				continue
			}
			if i == nTok-1 && prefix && ix.hasPrefix(tok) {
				continue // still being typed: the prefix expansions apply
			}
			words++
			terms = ix.typoTerms(st, terms, 0, tok, 0, false)
		}
	}
	st.terms = terms
	return terms
}

// hasPrefix reports whether some dictionary term starts with tok.
func (ix *Index) hasPrefix(tok []byte) bool {
	i := sort.Search(len(ix.termEnd), func(i int) bool { return ix.term(i) >= string(tok) })
	return i < len(ix.termEnd) && strings.HasPrefix(ix.term(i), string(tok))
}

// has reports whether tok is in the dictionary.
func (ix *Index) has(tok []byte) bool {
	_, ok := ix.lookup(tok)
	return ok
}

// prefixTerms appends to terms the (at most MaxPrefixTerms) most frequent
// dictionary terms that start with last, except those already in
// terms[from:], with weight prefixWeight. With titles set, frequency is the
// title frequency and terms absent from titles are skipped.
func (ix *Index) prefixTerms(terms []queryTerm, from int, last []byte, titles bool, group int32) []queryTerm {
	freq := ix.df
	if titles {
		freq = ix.titleDF
	}
	exact := len(terms)
	lo := sort.Search(len(ix.termEnd), func(i int) bool { return ix.term(i) >= string(last) })
	// Keep the MaxPrefixTerms most frequent expansions; the scan is in
	// term order, so on equal frequency the earlier (smaller) term wins.
	minAt := -1
	for t := lo; t < len(ix.termEnd) && strings.HasPrefix(ix.term(t), string(last)); t++ {
		if slices.ContainsFunc(terms[from:exact], func(q queryTerm) bool { return q.term == t }) {
			continue
		}
		f := freq(t)
		if f == 0 {
			continue
		}
		if len(terms)-exact < MaxPrefixTerms {
			terms = append(terms, queryTerm{term: t, mult: prefixWeight, group: group})
			if len(terms)-exact == MaxPrefixTerms {
				minAt = minFreq(terms[exact:], freq) + exact
			}
			continue
		}
		if f > freq(terms[minAt].term) {
			terms[minAt] = queryTerm{term: t, mult: prefixWeight, group: group}
			minAt = minFreq(terms[exact:], freq) + exact
		}
	}
	exp := terms[exact:]
	slices.SortFunc(exp, func(a, b queryTerm) int {
		if da, db := freq(a.term), freq(b.term); da != db {
			return db - da
		}
		return a.term - b.term
	})
	return terms
}

// minFreq returns the index in ts of the least frequent term, the largest
// term on ties (that is the one a later, equally frequent term must not
// replace, and the first to go otherwise).
func minFreq(ts []queryTerm, freq func(int) int) int {
	m := 0
	for i := 1; i < len(ts); i++ {
		di, dm := freq(ts[i].term), freq(ts[m].term)
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
	return bm25IDF(ix.n, ix.df(t))
}

// bm25IDF is the BM25 inverse document frequency of a term in df of n
// documents.
func bm25IDF(n, df int) float64 {
	fn, fdf := float64(n), float64(df)
	return math.Log(1 + (fn-fdf+0.5)/(fdf+0.5))
}

// putState returns st to the pool, undoing per-query marks.
func (ix *Index) putState(st *searchState) {
	st.filter.clear()
	ix.pool.Put(st)
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
