package search

import (
	"math"
	"slices"
	"strings"
)

// Doc is one searchable document.
type Doc struct {
	ID     string
	Type   string   // "movie" or "artwork"
	Title  string   // highest weight
	People []string // directors, cast, artists
	Text   string   // plot, description, genres, medium ... (lowest weight)
	Year   int
	// Tags are facet values by facet name, for example "genre": {"Drama",
	// "Crime"} or "medium": {"Oil on canvas"}. Values are stored as given
	// and shown as given in facet counts; filters match them
	// case-insensitively (see Query.Filters). Empty names and values are
	// ignored, and so are the built-in facet names "type" and "decade".
	Tags map[string][]string
}

// Field indexes into per-field arrays.
const (
	fieldTitle = iota
	fieldPeople
	fieldText
	numFields
)

// posting is one (term, document) pair of a segment: the local document
// index and the term frequency per field (saturating at 65535).
type posting struct {
	doc uint32
	tf  [numFields]uint16
}

// Segment is the inverted index of one shard of documents. It is built by
// BuildSegment or UnmarshalSegment and is read-only afterwards; combine
// segments with NewIndex to search them.
type Segment struct {
	ids       []string
	typeNames []string // distinct types in order of first appearance
	typeCodes []uint32 // per doc, index into typeNames
	years     []int32
	titleHash []uint64            // per doc, hash of the tokenized title
	titles    []string            // per doc, the title as given
	lens      [numFields][]uint32 // per field, per doc token counts
	totals    [numFields]uint64   // per field sum of lens
	terms     []string            // sorted, distinct
	termStart []int               // len(terms)+1 offsets into postings
	postings  []posting           // grouped by term, ascending doc within a term

	// Facets: names and values as given, each in order of first appearance
	// (documents in order, a document's facet names sorted, its values in
	// the given order). Document d's pairs are tags[tagStart[d]:tagStart[d+1]].
	facetNames []string
	facetVals  [][]string // per facet
	tagStart   []int      // len(ids)+1
	tags       []tagRef
}

// tagRef is one facet value of a document: indexes into Segment.facetNames
// and Segment.facetVals[facet].
type tagRef struct {
	facet, val uint32
}

// Len returns the number of documents in the segment.
func (s *Segment) Len() int { return len(s.ids) }

// Terms returns the number of distinct terms in the segment.
func (s *Segment) Terms() int { return len(s.terms) }

// Postings returns the number of (term, document) pairs in the segment.
func (s *Segment) Postings() int { return len(s.postings) }

// BuildSegment indexes docs. The result is deterministic: the same documents
// in the same order always produce byte-identical MarshalBinary output.
// Document positions in docs become the segment-local document numbers, so
// callers should pass shards in a stable order. Duplicate IDs are not
// detected.
func BuildSegment(docs []Doc) *Segment {
	b := NewSegmentBuilder(len(docs))
	for i := range docs {
		b.Add(&docs[i])
	}
	return b.Build()
}

// SegmentBuilder builds a Segment from documents added one at a time, so that
// a caller streaming documents from storage never holds all of them at once:
// adding documents d0, d1, ... and calling Build gives the same segment as
// BuildSegment([]Doc{d0, d1, ...}).
//
// Add keeps (shares, does not copy) a document's ID, Type, Title and facet
// names and values; it keeps nothing of People, Text or the Tags map itself,
// so callers may reuse those (and their backing memory) once Add returns.
type SegmentBuilder struct {
	s       *Segment
	typeIdx map[string]uint32
	b       segmentBuilder
	tb      tagBuilder
}

// NewSegmentBuilder returns an empty builder with room for sizeHint documents
// (0 when unknown; the builder grows as needed).
func NewSegmentBuilder(sizeHint int) *SegmentBuilder {
	n := max(sizeHint, 0)
	s := &Segment{
		ids:       make([]string, 0, n),
		typeCodes: make([]uint32, 0, n),
		years:     make([]int32, 0, n),
		titleHash: make([]uint64, 0, n),
		titles:    make([]string, 0, n),
		tagStart:  make([]int, 1, n+1),
	}
	for f := range s.lens {
		s.lens[f] = make([]uint32, 0, n)
	}
	sb := &SegmentBuilder{s: s, typeIdx: make(map[string]uint32)}
	sb.b.termIdx = make(map[string]uint32)
	sb.b.docEnd = make([]int, 0, n)
	return sb
}

// Len returns the number of documents added so far.
func (sb *SegmentBuilder) Len() int { return len(sb.s.ids) }

// Add appends doc as the next document of the segment.
func (sb *SegmentBuilder) Add(doc *Doc) {
	s, b := sb.s, &sb.b
	i := len(s.ids)
	d := uint32(i)
	s.ids = append(s.ids, doc.ID)
	code, ok := sb.typeIdx[doc.Type]
	if !ok {
		code = uint32(len(s.typeNames))
		sb.typeIdx[doc.Type] = code
		s.typeNames = append(s.typeNames, doc.Type)
	}
	s.typeCodes = append(s.typeCodes, code)
	s.years = append(s.years, clampYear(doc.Year))

	s.titles = append(s.titles, doc.Title)
	sb.tb.add(s, doc.Tags)
	s.tagStart = append(s.tagStart, len(s.tags))
	for f := range s.lens {
		s.lens[f] = append(s.lens[f], 0)
	}

	b.tok.reset()
	b.tok.add(doc.Title)
	s.titleHash = append(s.titleHash, b.tok.hash())
	b.addField(s, d, fieldTitle)

	b.tok.reset()
	for _, p := range doc.People {
		b.tok.add(p)
	}
	b.addField(s, d, fieldPeople)

	b.tok.reset()
	b.tok.add(doc.Text)
	b.addField(s, d, fieldText)
	b.docEnd = append(b.docEnd, b.nEntries)
}

// Build finishes the segment and returns it. The builder must not be used
// afterwards.
func (sb *SegmentBuilder) Build() *Segment {
	s := sb.s
	sb.b.finish(s)
	*sb = SegmentBuilder{}
	return s
}

// tagBuilder interns the facet names and values of a segment.
type tagBuilder struct {
	facetIdx map[string]uint32
	valIdx   []map[string]uint32 // per facet
	names    []string            // scratch: one document's facet names
}

// add appends the facet values of one document to s.tags.
func (tb *tagBuilder) add(s *Segment, tags map[string][]string) {
	if len(tags) == 0 {
		return
	}
	tb.names = tb.names[:0]
	for name, vals := range tags {
		if name != "" && len(vals) > 0 {
			tb.names = append(tb.names, name)
		}
	}
	slices.Sort(tb.names)
	if tb.facetIdx == nil {
		tb.facetIdx = make(map[string]uint32)
	}
	for _, name := range tb.names {
		fi, ok := tb.facetIdx[name]
		if !ok {
			fi = uint32(len(s.facetNames))
			tb.facetIdx[name] = fi
			s.facetNames = append(s.facetNames, name)
			s.facetVals = append(s.facetVals, nil)
			tb.valIdx = append(tb.valIdx, make(map[string]uint32))
		}
		start := len(s.tags)
		for _, v := range tags[name] {
			if v == "" {
				continue
			}
			vi, ok := tb.valIdx[fi][v]
			if !ok {
				vi = uint32(len(s.facetVals[fi]))
				tb.valIdx[fi][v] = vi
				s.facetVals[fi] = append(s.facetVals[fi], v)
			}
			ref := tagRef{facet: fi, val: vi}
			if !slices.Contains(s.tags[start:], ref) {
				s.tags = append(s.tags, ref)
			}
		}
	}
}

// segmentBuilder accumulates the postings of a segment. Postings are first
// collected per document in entries (one per distinct term of a document),
// then scattered into term order with a counting sort, which avoids growing
// one slice per term.
type segmentBuilder struct {
	tok       tokenizer
	termIdx   map[string]uint32
	termNames []string
	lastDoc   []uint32  // per term: 1 + last document that contained it, 0 = none
	slot      []int     // per term: index in entries of that document's entry
	entries   [][]entry // fixed-size blocks, so growing never copies
	nEntries  int
	docEnd    []int // per document: end offset in entries
}

const entryBlock = 1 << 16

// entry returns entry i.
func (b *segmentBuilder) entry(i int) *entry { return &b.entries[i/entryBlock][i%entryBlock] }

// entry is a posting without its document number (implied by docEnd).
type entry struct {
	term uint32
	tf   [numFields]uint16
}

// addField adds the tokens in b.tok as field f of document d.
func (b *segmentBuilder) addField(s *Segment, d uint32, f int) {
	n := b.tok.len()
	for i := range n {
		tok := b.tok.token(i)
		id, ok := b.termIdx[string(tok)]
		if !ok {
			term := string(tok)
			id = uint32(len(b.termNames))
			b.termIdx[term] = id
			b.termNames = append(b.termNames, term)
			b.lastDoc = append(b.lastDoc, 0)
			b.slot = append(b.slot, 0)
		}
		if b.lastDoc[id] != d+1 {
			b.lastDoc[id] = d + 1
			if b.nEntries%entryBlock == 0 {
				b.entries = append(b.entries, make([]entry, entryBlock))
			}
			b.slot[id] = b.nEntries
			*b.entry(b.nEntries) = entry{term: id}
			b.nEntries++
		}
		e := b.entry(b.slot[id])
		if e.tf[f] < math.MaxUint16 {
			e.tf[f]++
		}
	}
	s.lens[f][d] = satU32(n)
	s.totals[f] += uint64(n)
}

// finish sorts the dictionary and lays the postings out in term order.
func (b *segmentBuilder) finish(s *Segment) {
	nt := len(b.termNames)
	order := make([]uint32, nt)
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int { return strings.Compare(b.termNames[x], b.termNames[y]) })

	// next[id] = write position of term id's next posting.
	next := b.slot[:nt]
	clear(next)
	for i := range b.nEntries {
		next[b.entry(i).term]++
	}
	s.terms = make([]string, nt)
	s.termStart = make([]int, nt+1)
	pos := 0
	for i, id := range order {
		s.terms[i] = b.termNames[id]
		cnt := next[id]
		next[id] = pos
		pos += cnt
		s.termStart[i+1] = pos
	}
	s.postings = make([]posting, b.nEntries)
	i := 0
	for d, end := range b.docEnd {
		for ; i < end; i++ {
			e := b.entry(i)
			s.postings[next[e.term]] = posting{doc: uint32(d), tf: e.tf}
			next[e.term]++
		}
	}
}

// hash returns a 64-bit FNV-1a hash of the current token sequence; it is used
// for the exact-title boost.
func (t *tokenizer) hash() uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	start := 0
	for _, end := range t.ends {
		for _, c := range t.buf[start:end] {
			h ^= uint64(c)
			h *= prime64
		}
		// 0xFF never occurs in UTF-8, so it separates tokens unambiguously.
		h ^= 0xFF
		h *= prime64
		start = end
	}
	return h
}

func satU32(n int) uint32 {
	if uint64(n) > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}

func clampYear(y int) int32 {
	switch {
	case y > math.MaxInt32:
		return math.MaxInt32
	case y < math.MinInt32:
		return math.MinInt32
	}
	return int32(y)
}
