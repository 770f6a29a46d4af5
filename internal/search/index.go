package search

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// BM25F parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// fieldBoost is the BM25F weight of each field (title, people, text).
func fieldBoost(f int) float64 {
	switch f {
	case fieldTitle:
		return 3.0
	case fieldPeople:
		return 2.0
	default:
		return 1.0
	}
}

// Index answers queries over a set of segments. It is immutable after
// NewIndex and safe for concurrent use.
//
// Documents are numbered globally (segment base + local number, in the order
// the segments were passed to NewIndex). Postings are stored flat: for term t
// the documents are postDoc[postStart[t]:postStart[t+1]] with the matching
// precomputed BM25F term-frequency components in postW. Because the index is
// immutable, the global statistics are fixed, so the per-posting factor
// wtf*(k1+1)/(wtf+k1) can be computed once at load time; a query then only
// multiplies it by the term's idf.
type Index struct {
	n int

	typeNames []string
	docType   []uint32
	attr      []docAttr // per doc plus a sentinel (see docAttr)
	titleHash []uint64
	ids       string // all ids concatenated
	idEnd     []int  // per doc end offset in ids
	titles    string // all titles (as given) concatenated
	titleEnd  []int  // per doc end offset in titles

	terms     string // all terms concatenated, sorted
	termEnd   []int  // per term end offset in terms
	postStart []int  // len(termEnd)+1 offsets into postDoc/postW
	postDoc   []uint32
	postW     []float32

	// Title-only postings for Suggest, with the same term numbering:
	// documents whose title contains term t are
	// tpostDoc[tpostStart[t]:tpostStart[t+1]], with their BM25 (title
	// field only) saturated term frequencies in tpostW.
	tpostStart []uint32
	tpostDoc   []uint32
	tpostW     []float32

	// Facets (see buildFacets): facets sorted by name, each owning a
	// contiguous range of value ids; per value its folded key and display
	// form; per document its sorted value ids
	// tagVals[attr[d].tagStart:attr[d+1].tagStart].
	facets   []facetInfo
	valKey   []string
	valShow  []string
	valFacet []uint32 // per value: index into facets
	tagVals  []uint32

	trie *termTrie // typo-tolerance dictionary trie

	pool sync.Pool // *searchState
}

// IndexStats describes the size of an Index.
type IndexStats struct {
	Docs     int   // documents
	Terms    int   // distinct terms
	Postings int   // (term, document) pairs
	Bytes    int64 // approximate heap bytes held by the index
}

// NewIndex combines segments into a searchable index, computing global BM25
// statistics over all of them. Nil segments are skipped. The segments are
// not retained and may be discarded afterwards. The total number of
// documents must fit in a uint32.
func NewIndex(segs ...*Segment) *Index {
	live := make([]*Segment, 0, len(segs))
	for _, s := range segs {
		if s != nil {
			live = append(live, s)
		}
	}
	segs = live

	ix := &Index{}
	bases := make([]uint32, len(segs))
	var totals, withField [numFields]uint64
	nPost, idBytes, termBytes, titleBytes := 0, 0, 0, 0
	for i, s := range segs {
		if uint64(ix.n)+uint64(s.Len()) > math.MaxUint32 {
			panic("search: too many documents for one index")
		}
		bases[i] = uint32(ix.n)
		ix.n += s.Len()
		for f := range totals {
			totals[f] += s.totals[f]
			for _, l := range s.lens[f] {
				if l > 0 {
					withField[f]++
				}
			}
		}
		nPost += len(s.postings)
		for _, id := range s.ids {
			idBytes += len(id)
		}
		for _, t := range s.titles {
			titleBytes += len(t)
		}
		for _, t := range s.terms {
			termBytes += len(t)
		}
	}

	// Per-document data.
	ix.docType = make([]uint32, 0, ix.n)
	ix.attr = make([]docAttr, 0, ix.n+1)
	ix.titleHash = make([]uint64, 0, ix.n)
	ix.idEnd = make([]int, 0, ix.n)
	ix.titleEnd = make([]int, 0, ix.n)
	var ids, titles strings.Builder
	ids.Grow(idBytes)
	titles.Grow(titleBytes)
	for _, s := range segs {
		remap := make([]uint32, len(s.typeNames))
		for i, name := range s.typeNames {
			remap[i] = ix.typeCode(name)
		}
		for d, id := range s.ids {
			ids.WriteString(id)
			ix.idEnd = append(ix.idEnd, ids.Len())
			ix.docType = append(ix.docType, remap[s.typeCodes[d]])
			titles.WriteString(s.titles[d])
			ix.titleEnd = append(ix.titleEnd, titles.Len())
		}
		for _, y := range s.years {
			ix.attr = append(ix.attr, docAttr{year: y})
		}
		ix.titleHash = append(ix.titleHash, s.titleHash...)
	}
	ix.ids = ids.String()
	ix.titles = titles.String()
	ix.buildFacets(segs)

	// Global average field lengths, over the documents that have the field
	// (as Lucene does), so that a field many documents lack (say, people
	// of an anonymous artwork) does not make its matches look overlong.
	var avg [numFields]float64
	for f := range avg {
		if withField[f] > 0 {
			avg[f] = float64(totals[f]) / float64(withField[f])
		}
	}

	avgTitle := avg[fieldTitle]

	// Merge the sorted term dictionaries and their postings.
	ix.postDoc = make([]uint32, 0, nPost)
	ix.tpostStart = append(make([]uint32, 0, 1024), 0)
	ix.postW = make([]float32, 0, nPost)
	ix.postStart = append(make([]int, 0, 1024), 0)
	termArena := make([]byte, 0, termBytes)
	m := newTermMerger(segs)
	var same []int
	for {
		term, ok := m.next(&same)
		if !ok {
			break
		}
		termArena = append(termArena, term...)
		ix.termEnd = append(ix.termEnd, len(termArena))
		for _, si := range same {
			s := segs[si]
			ti := m.pos[si] - 1
			base := bases[si]
			for _, p := range s.postings[s.termStart[ti]:s.termStart[ti+1]] {
				ix.postDoc = append(ix.postDoc, base+p.doc)
				ix.postW = append(ix.postW, postingWeight(s, p, &avg))
				if p.tf[fieldTitle] > 0 {
					ix.tpostDoc = append(ix.tpostDoc, base+p.doc)
					ix.tpostW = append(ix.tpostW, titleWeight(s, p, avgTitle))
				}
			}
		}
		ix.postStart = append(ix.postStart, len(ix.postDoc))
		ix.tpostStart = append(ix.tpostStart, uint32(len(ix.tpostDoc)))
	}
	ix.terms = string(termArena)
	ix.tpostDoc = slices.Clip(ix.tpostDoc)
	ix.tpostW = slices.Clip(ix.tpostW)
	// Built here rather than on first use: it takes a few percent of
	// NewIndex, and this keeps the first misspelled query fast.
	ix.trie = buildTrie(ix)
	return ix
}

// titleWeight returns the BM25 saturated term frequency of posting p of
// segment s over the title field alone, under the global average title
// length avg.
func titleWeight(s *Segment, p posting, avg float64) float32 {
	ratio := 0.0
	if avg > 0 {
		ratio = float64(s.lens[fieldTitle][p.doc]) / avg
	}
	wtf := float64(p.tf[fieldTitle]) / (1 - bm25B + bm25B*ratio)
	return max(float32(wtf*(bm25K1+1)/(wtf+bm25K1)), 1e-30)
}

// postingWeight returns the BM25F saturated term frequency
// wtf*(k1+1)/(wtf+k1) of posting p of segment s under global averages avg.
func postingWeight(s *Segment, p posting, avg *[numFields]float64) float32 {
	wtf := 0.0
	for f := range numFields {
		if p.tf[f] == 0 {
			continue
		}
		ratio := 0.0
		if avg[f] > 0 {
			ratio = float64(s.lens[f][p.doc]) / avg[f]
		}
		norm := 1 - bm25B + bm25B*ratio
		wtf += fieldBoost(f) * float64(p.tf[f]) / norm
	}
	w := float32(wtf * (bm25K1 + 1) / (wtf + bm25K1))
	// The accumulator uses 0 as "not yet matched", so weights must be > 0.
	return max(w, 1e-30)
}

func (ix *Index) typeCode(name string) uint32 {
	for i, n := range ix.typeNames {
		if n == name {
			return uint32(i)
		}
	}
	ix.typeNames = append(ix.typeNames, name)
	return uint32(len(ix.typeNames) - 1)
}

// Len returns the number of documents in the index.
func (ix *Index) Len() int { return ix.n }

// Stats reports the size of the index.
func (ix *Index) Stats() IndexStats {
	const intSize = strconv.IntSize / 8
	b := int64(len(ix.ids)) + int64(len(ix.terms)) + int64(len(ix.titles)) +
		int64(len(ix.idEnd))*intSize + int64(len(ix.titleEnd))*intSize +
		int64(len(ix.termEnd))*intSize + int64(len(ix.postStart))*intSize +
		int64(len(ix.docType))*4 + int64(len(ix.attr))*8 + int64(len(ix.titleHash))*8 +
		int64(len(ix.postDoc))*4 + int64(len(ix.postW))*4 +
		int64(len(ix.tpostStart))*4 + int64(len(ix.tpostDoc))*4 + int64(len(ix.tpostW))*4 +
		int64(len(ix.tagVals))*4 + int64(len(ix.valFacet))*4
	for i := range ix.valKey {
		b += int64(len(ix.valKey[i])) + int64(len(ix.valShow[i])) + 2*2*intSize
	}
	b += int64(len(ix.trie.label))*4 + int64(len(ix.trie.first))*4 + int64(len(ix.trie.term))*4
	return IndexStats{Docs: ix.n, Terms: len(ix.termEnd), Postings: len(ix.postDoc), Bytes: b}
}

func (ix *Index) id(d uint32) string {
	start := 0
	if d > 0 {
		start = ix.idEnd[d-1]
	}
	return ix.ids[start:ix.idEnd[d]]
}

// docAttr holds the per-document data that filters read, together so that
// filtering a document costs one cache miss rather than several: its year
// and the start of its facet values in Index.tagVals (they end where the
// next document's start; the sentinel after the last document marks the
// end).
type docAttr struct {
	tagStart uint32
	year     int32
}

func (ix *Index) year(d uint32) int32 { return ix.attr[d].year }

func (ix *Index) title(d uint32) string {
	start := 0
	if d > 0 {
		start = ix.titleEnd[d-1]
	}
	return ix.titles[start:ix.titleEnd[d]]
}

func (ix *Index) term(t int) string {
	start := 0
	if t > 0 {
		start = ix.termEnd[t-1]
	}
	return ix.terms[start:ix.termEnd[t]]
}

// df returns the global document frequency of term t.
func (ix *Index) df(t int) int { return ix.postStart[t+1] - ix.postStart[t] }

// titleDF returns the number of documents whose title contains term t.
func (ix *Index) titleDF(t int) int { return int(ix.tpostStart[t+1] - ix.tpostStart[t]) }

// termMerger walks the union of the segments' sorted term lists in order.
type termMerger struct {
	segs []*Segment
	pos  []int // per segment, index of the next unread term
	heap []int // segment indexes ordered by (current term, segment index)
}

func newTermMerger(segs []*Segment) *termMerger {
	m := &termMerger{segs: segs, pos: make([]int, len(segs))}
	for i, s := range segs {
		if len(s.terms) > 0 {
			m.heap = append(m.heap, i)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m
}

func (m *termMerger) cur(si int) string { return m.segs[si].terms[m.pos[si]] }

func (m *termMerger) less(a, b int) bool {
	ta, tb := m.cur(a), m.cur(b)
	if ta != tb {
		return ta < tb
	}
	return a < b
}

func (m *termMerger) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// next returns the smallest unread term and sets *same to the segments that
// contain it, in ascending segment order; each of those segments is advanced
// past the term (so its index is m.pos[si]-1).
func (m *termMerger) next(same *[]int) (string, bool) {
	*same = (*same)[:0]
	if len(m.heap) == 0 {
		return "", false
	}
	term := m.cur(m.heap[0])
	for len(m.heap) > 0 && m.cur(m.heap[0]) == term {
		si := m.heap[0]
		*same = append(*same, si)
		m.pos[si]++
		if m.pos[si] == len(m.segs[si].terms) {
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap = m.heap[:last]
		}
		m.down(0)
	}
	return term, true
}
