// Package similar computes item-to-item similarity ("more like this") over
// catalogue documents using TF-IDF weighted cosine similarity.
//
// The package is pure: it performs no I/O and keeps no package-level state.
// Results are deterministic: the same set of documents yields bit-identical
// neighbour lists whatever the order in which the documents are passed to
// Build, so that a batch shard re-run on another worker produces identical
// output.
//
// # Weighting
//
// Every document is turned into a sparse term vector built from four fields:
//
//   - Title words, weight 2. Titles go through search.Tokenize unchanged, so
//     a title made only of stop words ("It", "The The") keeps them.
//   - Tags (genres, medium, classification), weight 1.5. Each tag is a single
//     term "tag:<normalized tag>", e.g. "tag:science fiction".
//   - People (directors, cast, artists), weight 1.5. Each person is a single
//     term "person:<normalized name>", e.g. "person:lana wachowski".
//   - Text words, weight 1. Stop words (search.IsStopWord) are always
//     dropped from the text.
//
// Names and tags are normalized with search.Tokenize (lowercased,
// accent-folded, punctuation removed) and the resulting tokens are joined by
// single spaces.
//
// For a term occurring tf times in a field of weight w, the field contributes
// w·(1+ln tf); contributions of the fields are summed. The sum is multiplied
// by IDF = ln(N/df)+1, where N is the number of documents and df the number
// of documents containing the term, and each vector is L2-normalized, so that
// the score of two documents is the cosine of their vectors, in [0, 1].
//
// # Candidate generation
//
// Neighbours are found through an inverted index: only documents sharing at
// least one term with the query document are scored. Terms that occur in
// more than 20% of the documents (and in more than 50 documents, so that
// small corpora are searched exhaustively) are not used to generate
// candidates, but they still count in the cosine of the candidates that are
// scored. A document that shares only such very common terms with the query
// is therefore never returned; with the default MinScore such documents
// would seldom qualify anyway.
package similar

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/curiodata/curio/internal/search"
)

// Default option values, used when the corresponding Options field is zero.
const (
	// DefaultK is the default number of neighbours returned per document.
	DefaultK = 10
	// DefaultMinScore is the default minimum cosine score of a neighbour.
	DefaultMinScore = 0.05
)

// Field weights and candidate-generation thresholds.
const (
	titleWeight  = 2.0
	tagWeight    = 1.5
	personWeight = 1.5
	textWeight   = 1.0

	// commonFraction is the document-frequency fraction above which a
	// term is not used to generate candidates.
	commonFraction = 0.2
	// minCommonDF is the smallest document frequency at which a term may
	// be considered common; below it posting lists are cheap to scan.
	minCommonDF = 50

	// pruneSlack is added to score upper bounds to absorb rounding.
	pruneSlack = 1e-9
)

// Doc is one catalogue item to compare.
type Doc struct {
	// ID identifies the document. IDs are unique within a Model; when
	// several documents passed to Build share an ID, the last one wins.
	ID string
	// Type is the kind of item ("movie", "artwork", ...). Only documents of
	// the same Type are neighbours of each other.
	Type string
	// Title is the item's title.
	Title string
	// Text is free text: a synopsis, a description.
	Text string
	// Tags are genres or medium/classification labels.
	Tags []string
	// People are directors, cast members, artists.
	People []string
}

// Options tunes a neighbour query. The zero value selects the defaults.
type Options struct {
	// K is the maximum number of neighbours returned per document. Zero or
	// a negative value selects DefaultK.
	K int
	// MinScore is the minimum cosine score of a neighbour. Zero selects
	// DefaultMinScore; a negative value disables the threshold (every
	// candidate sharing a term with the document may be returned).
	MinScore float64
	// MaxPostings bounds the work of one query: at most this many postings are scanned
	// to generate candidates, the most promising terms first (see neighborsBounded).
	// Zero scans every posting of the document's terms (exact, but on a catalog whose
	// common words each occur in thousands of items the work per item grows with the
	// catalog, and the whole job with its square).
	MaxPostings int
	// Rescore is how many candidates, those with the best partial scores, are scored
	// exactly when MaxPostings is set; default DefaultRescore.
	Rescore int

	alwaysBound bool // tests: run the bounded search even where the exact one is cheaper
}

// DefaultRescore is the default Options.Rescore.
const DefaultRescore = 1000

func (o Options) withDefaults() Options {
	if o.K <= 0 {
		o.K = DefaultK
	}
	if o.MinScore == 0 {
		o.MinScore = DefaultMinScore
	}
	if o.Rescore <= 0 {
		o.Rescore = DefaultRescore
	}
	o.Rescore = max(o.Rescore, o.K)
	return o
}

// Neighbor is a similar document and its cosine similarity score.
type Neighbor struct {
	// ID is the neighbour's document ID.
	ID string
	// Score is the cosine similarity, in (0, 1].
	Score float64
}

// entry is one non-zero component of a document vector.
type entry struct {
	term int32
	w    float64
}

// posting is one document in a term's posting list.
type posting struct {
	doc int32
	w   float64
}

// Model is a similarity index over a set of documents. It is immutable after
// Build and safe for concurrent use.
//
// Documents are numbered in (Type, ID) order, so that the documents of one
// type are contiguous in every posting list and, within a type, comparing
// document numbers compares IDs.
type Model struct {
	ids       []string         // document IDs by document number
	types     []int32          // type number per document
	typeStart []int32          // first document number of each type, plus len(ids)
	byID      map[string]int32 // ID → document number
	idOrder   []int32          // document numbers in ascending ID order
	// Each document's normalized vector is split into its rare part
	// (terms that generate candidates) and its common part, both sorted
	// by term. The common parts are stored contiguously: document d's
	// entries are commonEnt[commonOff[d]:commonOff[d+1]], and their term
	// field is the term's rank among the common terms (which preserves
	// term order) instead of its term number.
	rare       [][]entry
	commonEnt  []entry
	commonOff  []int32
	commonNorm []float64 // L2 norm of each document's common part
	nCommon    int       // number of common terms
	// maxW is the largest weight in each rare term's postings, and maxCommonNorm the
	// largest common-part norm of each type's documents: what bounds a score from above.
	maxW          []float64
	maxCommonNorm []float64
	// meanLen is the mean number of entries (rare and common) of a document's vector:
	// what scoring one candidate exactly costs, in postings' worth.
	meanLen float64
	// postings holds, for every rare term, the documents containing it in
	// ascending doc order. Common terms have no posting list.
	postings [][]posting
}

// Build indexes docs. Documents with an ID already seen earlier in docs
// replace the earlier one. The result does not depend on the order of docs
// (apart from that rule).
func Build(docs []Doc) *Model {
	// Deduplicate by ID (last wins) and order by (Type, ID).
	last := make(map[string]int, len(docs))
	for i := range docs {
		last[docs[i].ID] = i
	}
	order := make([]int, 0, len(last))
	for _, i := range last {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(docs[a].Type, docs[b].Type); c != 0 {
			return c
		}
		return strings.Compare(docs[a].ID, docs[b].ID)
	})

	n := len(order)
	m := &Model{
		ids:        make([]string, n),
		types:      make([]int32, n),
		byID:       make(map[string]int32, n),
		idOrder:    make([]int32, n),
		rare:       make([][]entry, n),
		commonOff:  make([]int32, 1, n+1),
		commonNorm: make([]float64, n),
	}

	// Raw (pre-IDF) term weights per document, as (provisional term id, weight) lists —
	// a map per document would hold several times the model's size until the end — and
	// document frequencies.
	raw := make([][]entry, n)
	provisional := make(map[string]int32)
	var termStr []string
	var dfByID []int
	for i, di := range order {
		d := &docs[di]
		m.ids[i] = d.ID
		m.byID[d.ID] = int32(i)
		m.idOrder[i] = int32(i)
		if i == 0 || d.Type != docs[order[i-1]].Type {
			m.typeStart = append(m.typeStart, int32(i))
		}
		m.types[i] = int32(len(m.typeStart) - 1)
		tw := termWeights(d)
		vec := make([]entry, 0, len(tw))
		for term, w := range tw {
			id, ok := provisional[term]
			if !ok {
				id = int32(len(termStr))
				provisional[term] = id
				termStr = append(termStr, term)
				dfByID = append(dfByID, 0)
			}
			dfByID[id]++
			vec = append(vec, entry{term: id, w: w})
		}
		raw[i] = vec
	}
	provisional = nil
	m.typeStart = append(m.typeStart, int32(n))
	slices.SortFunc(m.idOrder, func(a, b int32) int { return strings.Compare(m.ids[a], m.ids[b]) })

	// Term numbers follow the sorted term strings so that the summation
	// order of dot products does not depend on map iteration or input order.
	byString := make([]int32, len(termStr)) // provisional ids in term order
	for i := range byString {
		byString[i] = int32(i)
	}
	slices.SortFunc(byString, func(a, b int32) int { return strings.Compare(termStr[a], termStr[b]) })
	termNum := make([]int32, len(termStr)) // provisional id → term number
	df := make([]int, len(termStr))        // by term number
	for i, id := range byString {
		termNum[id] = int32(i)
		df[i] = dfByID[id]
	}
	termStr, dfByID, byString = nil, nil, nil
	idf := make([]float64, len(df))
	isCommon := make([]bool, len(df))
	commonRank := make([]int32, len(df))
	maxDF := max(int(commonFraction*float64(n)), minCommonDF)
	for i := range df {
		idf[i] = math.Log(float64(n)/float64(df[i])) + 1
		if df[i] > maxDF {
			isCommon[i] = true
			commonRank[i] = int32(m.nCommon)
			m.nCommon++
		}
	}

	m.postings = make([][]posting, len(df))
	for i := range df {
		if !isCommon[i] {
			m.postings[i] = make([]posting, 0, df[i])
		}
	}
	for i := range n {
		vec := raw[i]
		for j, e := range vec {
			t := termNum[e.term]
			vec[j] = entry{term: t, w: e.w * idf[t]}
		}
		slices.SortFunc(vec, func(a, b entry) int { return cmp.Compare(a.term, b.term) })
		var norm float64
		for _, e := range vec {
			norm += e.w * e.w
		}
		norm = math.Sqrt(norm)
		nRare := 0
		for _, e := range vec {
			if !isCommon[e.term] {
				nRare++
			}
		}
		rare := make([]entry, 0, nRare)
		for _, e := range vec {
			e.w /= norm
			if isCommon[e.term] {
				m.commonEnt = append(m.commonEnt, entry{term: commonRank[e.term], w: e.w})
			} else {
				rare = append(rare, e)
				m.postings[e.term] = append(m.postings[e.term], posting{doc: int32(i), w: e.w})
			}
		}
		m.rare[i] = rare
		m.commonOff = append(m.commonOff, int32(len(m.commonEnt)))
		var cn float64
		for _, e := range m.commonOf(int32(i)) {
			cn += e.w * e.w
		}
		m.commonNorm[i] = math.Sqrt(cn)
		raw[i] = nil
	}
	m.bounds()
	return m
}

// TermWeights returns the weighted, pre-IDF term weights of d: for every term, the sum
// over the fields it occurs in of the field weight times 1+ln(tf). Multiplied by
// IDF = ln(N/df)+1 and L2-normalized they are d's vector (scikit-learn's
// TfidfTransformer(smooth_idf=False) over these weights computes the same vectors).
func TermWeights(d Doc) map[string]float64 { return termWeights(&d) }

// termWeights returns the weighted, pre-IDF term weights of d.
func termWeights(d *Doc) map[string]float64 {
	out := make(map[string]float64)
	counts := make(map[string]int)
	flush := func(weight float64) {
		for term, c := range counts {
			out[term] += weight * (1 + math.Log(float64(c)))
		}
		clear(counts)
	}

	for _, tok := range search.Tokenize(d.Title) {
		counts[tok]++
	}
	flush(titleWeight)

	for _, tag := range d.Tags {
		if norm := normalizeName(tag); norm != "" {
			counts["tag:"+norm]++
		}
	}
	flush(tagWeight)

	for _, p := range d.People {
		if norm := normalizeName(p); norm != "" {
			counts["person:"+norm]++
		}
	}
	flush(personWeight)

	for _, tok := range search.Tokenize(d.Text) {
		if !search.IsStopWord(tok) {
			counts[tok]++
		}
	}
	flush(textWeight)
	return out
}

// normalizeName normalizes a tag or a person's name into the text of a
// single term.
func normalizeName(s string) string {
	return strings.Join(search.Tokenize(s), " ")
}

// IDs returns the model's document IDs in ascending order (the order NeighborsShard
// shards by).
func (m *Model) IDs() []string {
	out := make([]string, len(m.idOrder))
	for i, d := range m.idOrder {
		out[i] = m.ids[d]
	}
	return out
}

// Len returns the number of distinct documents in the model.
func (m *Model) Len() int { return len(m.ids) }

// Neighbors returns up to opts.K documents of the same Type as the document
// id, excluding the document itself, whose cosine score is at least
// opts.MinScore, sorted by score descending, then by ID ascending. It returns
// false if id is not in the model. A document without neighbours yields a nil
// slice and true.
func (m *Model) Neighbors(id string, opts Options) ([]Neighbor, bool) {
	q, ok := m.byID[id]
	if !ok {
		return nil, false
	}
	s := m.newScratch()
	return m.query(q, opts.withDefaults(), s), true
}

// NeighborsShard computes Neighbors for every document whose position i in
// the ID-sorted document list satisfies i % shards == shard. The map holds
// one key per such document (a nil slice when it has no neighbours). Taken
// over shard = 0..shards-1 the maps partition the model's documents, and each
// value equals what Neighbors returns for that document. It returns an empty
// map when shards < 1 or shard is outside [0, shards).
func (m *Model) NeighborsShard(shard, shards int, opts Options) map[string][]Neighbor {
	if shards < 1 || shard < 0 || shard >= shards {
		return map[string][]Neighbor{}
	}
	opts = opts.withDefaults()
	out := make(map[string][]Neighbor, len(m.ids)/shards+1)
	s := m.newScratch()
	for i := shard; i < len(m.idOrder); i += shards {
		d := m.idOrder[i]
		out[m.ids[d]] = m.query(d, opts, s)
	}
	return out
}

// query runs the exact or the bounded search, as opts says.
func (m *Model) query(q int32, opts Options, s *scratch) []Neighbor {
	if opts.MaxPostings > 0 {
		return m.neighborsBounded(q, opts, s)
	}
	return m.neighbors(q, opts, s)
}

// scratch is the per-query working memory, reused across the queries of one
// call.
type scratch struct {
	acc     []float64 // partial dot product per document
	qCommon []float64 // the query's weight per common term (dense)
	seen    []bool    // whether the document is in touched
	touched []int32   // candidates, in first-seen order
	top     []cand    // bounded heap of the best candidates
	qterms  []qterm   // the query's rare terms (neighborsPruned)
	vals    []float64 // partial scores, for selecting the K-th
	qRare   []float64 // the query's weight per rare term (dense)
}

func (m *Model) newScratch() *scratch {
	return &scratch{
		acc:     make([]float64, len(m.ids)),
		seen:    make([]bool, len(m.ids)),
		qCommon: make([]float64, m.nCommon),
	}
}

// cand is a scored candidate. Candidates all have the query's type, and
// within a type documents are numbered in ID order, so comparing doc numbers
// compares IDs.
type cand struct {
	doc   int32
	score float64
}

// better reports whether a ranks before b: higher score, then lower ID.
func better(a, b cand) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.doc < b.doc
}

func (m *Model) neighbors(q int32, opts Options, s *scratch) []Neighbor {
	qType := m.types[q]
	lo, hi := m.typeStart[qType], m.typeStart[qType+1]
	touched := s.touched[:0]

	// Sparse dot products over the rare terms, through the postings. The
	// terms of q are visited in term order, so every candidate's sum is
	// accumulated in the same order as a direct merge of the two vectors.
	for _, e := range m.rare[q] {
		ps := m.postings[e.term]
		if len(ps) > 0 && (ps[0].doc < lo || ps[len(ps)-1].doc >= hi) {
			// Restrict to the query's type.
			from, _ := slices.BinarySearchFunc(ps, lo, cmpPostingDoc)
			to, _ := slices.BinarySearchFunc(ps[from:], hi, cmpPostingDoc)
			ps = ps[from : from+to]
		}
		for _, p := range ps {
			if p.doc == q {
				continue
			}
			if !s.seen[p.doc] {
				s.seen[p.doc] = true
				touched = append(touched, p.doc)
			}
			s.acc[p.doc] += e.w * p.w
		}
	}

	// Complete each candidate's cosine with the common terms and keep the
	// best K in a heap whose root is the worst kept candidate. The query's
	// common terms are spread into a dense vector; terms the query lacks
	// add exact zeros, so the sum equals a merge over the shared terms in
	// term order.
	top := s.top[:0]
	qc := s.qCommon
	for _, e := range m.commonOf(q) {
		qc[e.term] = e.w
	}
	qNorm := m.commonNorm[q]
	// threshold is the score a candidate must reach to be kept: MinScore
	// until K candidates are kept, then the worst kept score.
	threshold := opts.MinScore
	consider := func(d int32) {
		// By Cauchy-Schwarz the common part is at most the product of
		// the norms; skip candidates that cannot reach the threshold
		// even so. The slack absorbs rounding, so skipping never
		// changes the result.
		if s.acc[d]+qNorm*m.commonNorm[d]+pruneSlack < threshold {
			s.acc[d] = 0
			s.seen[d] = false
			return
		}
		var common float64
		for _, e := range m.commonEnt[m.commonOff[d]:m.commonOff[d+1]] {
			common += qc[e.term] * e.w
		}
		score := s.acc[d] + common
		s.acc[d] = 0
		s.seen[d] = false
		if score > 1 {
			score = 1 // rounding of identical vectors
		}
		if score < opts.MinScore {
			return
		}
		top = pushTop(top, opts.K, cand{doc: d, score: score})
		if len(top) == opts.K {
			threshold = max(threshold, top[0].score)
		}
	}
	// Visit the candidates in document order, which walks commonEnt
	// forward: by scanning the type's range when candidates are dense,
	// by sorting them otherwise. The order does not affect the result.
	if len(touched) > int(hi-lo)/16 {
		for d := lo; d < hi; d++ {
			if s.seen[d] {
				consider(d)
			}
		}
	} else {
		slices.Sort(touched)
		for _, d := range touched {
			consider(d)
		}
	}
	for _, e := range m.commonOf(q) {
		qc[e.term] = 0
	}
	s.touched = touched[:0]
	s.top = top[:0]

	return sortedNeighbors(m, top)
}

// sortedNeighbors returns the kept candidates best first.
func sortedNeighbors(m *Model, top []cand) []Neighbor {
	if len(top) == 0 {
		return nil
	}
	out := make([]Neighbor, len(top))
	slices.SortFunc(top, func(a, b cand) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	for i, c := range top {
		out[i] = Neighbor{ID: m.ids[c.doc], Score: c.score}
	}
	return out
}

// commonOf returns the common-term part of document d's vector.
func (m *Model) commonOf(d int32) []entry {
	return m.commonEnt[m.commonOff[d]:m.commonOff[d+1]]
}

func cmpPostingDoc(p posting, doc int32) int { return cmp.Compare(p.doc, doc) }

// dot returns the dot product of two term-sorted sparse vectors.
func dot(a, b []entry) float64 {
	var sum float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].term < b[j].term:
			i++
		case a[i].term > b[j].term:
			j++
		default:
			sum += a[i].w * b[j].w
			i++
			j++
		}
	}
	return sum
}

// pushTop offers c to top, a heap of at most k candidates whose root ranks last.
func pushTop(top []cand, k int, c cand) []cand {
	switch {
	case len(top) < k:
		top = append(top, c)
		heapUp(top, len(top)-1)
	case better(c, top[0]):
		top[0] = c
		heapDown(top, 0)
	}
	return top
}

// heapUp and heapDown maintain a min-heap ordered by "worse first": the
// root is the candidate that ranks last.
func heapUp(h []cand, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !better(h[p], h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func heapDown(h []cand, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		w := l
		if r := l + 1; r < len(h) && better(h[l], h[r]) {
			w = r
		}
		if !better(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// bounds computes maxW, maxCommonNorm and meanLen.
func (m *Model) bounds() {
	if n := len(m.ids); n > 0 {
		entries := len(m.commonEnt)
		for _, r := range m.rare {
			entries += len(r)
		}
		m.meanLen = float64(entries) / float64(n)
	}
	m.maxW = make([]float64, len(m.postings))
	for t, ps := range m.postings {
		for _, p := range ps {
			m.maxW[t] = max(m.maxW[t], p.w)
		}
	}
	m.maxCommonNorm = make([]float64, len(m.typeStart)-1)
	for d, cn := range m.commonNorm {
		ty := m.types[d]
		m.maxCommonNorm[ty] = max(m.maxCommonNorm[ty], cn)
	}
}
