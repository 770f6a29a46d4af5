package search

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Built-in facet names, derived from Doc.Type and Doc.Year.
const (
	FacetType   = "type"
	FacetDecade = "decade"
)

// DefaultFacetLimit is the number of values per facet returned when
// Query.FacetLimit <= 0.
const DefaultFacetLimit = 10

// FacetCount is the number of matching documents with one facet value.
type FacetCount struct {
	Value string `json:"value"` // as given in the first document (in index order) that has it
	Count int    `json:"count"`
}

// facetInfo is one facet of an Index. Its values have the contiguous global
// ids lo..hi-1, ordered by folded key.
type facetInfo struct {
	name   string // folded
	lo, hi uint32
}

// foldKey appends to dst the matching key of a facet name or value: NFD with
// combining marks removed, lowercased as by the tokenizer, leading and
// trailing white space trimmed and inner runs of white space collapsed to one
// space. Invalid UTF-8 bytes are dropped. t's normalization scratch is
// clobbered; its tokens are not.
func (t *tokenizer) foldKey(dst []byte, s string) []byte {
	t.normalize(s)
	start := len(dst)
	space := false
	for p := t.norm; len(p) > 0; {
		r, w := rune(p[0]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRune(p)
		}
		p = p[w:]
		switch {
		case r == utf8.RuneError && w <= 1:
		case r < utf8.RuneSelf && r != ' ' && (r < '\t' || r > '\r'):
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
		case unicode.IsSpace(r):
			space = true
		case unicode.In(r, unicode.Mn, unicode.Me):
		default:
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			dst = utf8.AppendRune(dst, foldRune(r))
		}
	}
	return dst
}

// decadeKey returns the decade facet value of year y ("1990s"), or "" for
// year 0 (unknown).
func decadeKey(y int32) string {
	if y == 0 {
		return ""
	}
	d := int64(y) - int64(y)%10
	if y < 0 && y%10 != 0 {
		d -= 10
	}
	return strconv.FormatInt(d, 10) + "s"
}

// facetBuilder collects the facet values of the segments of a new Index.
type facetBuilder struct {
	tok     tokenizer
	buf     []byte
	facetID map[string]int // folded name → provisional facet number
	names   []string
	keyID   []map[string]uint32 // per provisional facet: folded key → provisional value
	keys    [][]string          // per provisional facet
	remap   [][]uint32          // per provisional facet: provisional value → global id
}

func (fb *facetBuilder) fold(s string) string {
	fb.buf = fb.tok.foldKey(fb.buf[:0], s)
	return string(fb.buf)
}

// facet returns the provisional number of the facet with folded name.
func (fb *facetBuilder) facet(name string) int {
	f, ok := fb.facetID[name]
	if !ok {
		f = len(fb.names)
		fb.facetID[name] = f
		fb.names = append(fb.names, name)
		fb.keyID = append(fb.keyID, make(map[string]uint32))
		fb.keys = append(fb.keys, nil)
	}
	return f
}

// value returns the provisional number of folded key in facet f.
func (fb *facetBuilder) value(f int, key string) uint32 {
	v, ok := fb.keyID[f][key]
	if !ok {
		v = uint32(len(fb.keys[f]))
		fb.keyID[f][key] = v
		fb.keys[f] = append(fb.keys[f], key)
	}
	return v
}

// buildFacets interns the facet values of segs (plus the built-in type and
// decade facets) into dense global ids and builds the per-document value
// lists. Facets are ordered by folded name and the values of a facet by
// folded key, and a value's display form is its first occurrence in document
// order, so the result does not depend on how the documents were split into
// segments.
func (ix *Index) buildFacets(segs []*Segment) {
	fb := &facetBuilder{facetID: make(map[string]int)}
	const none = math.MaxUint32
	typeF := fb.facet(FacetType)
	decadeF := fb.facet(FacetDecade)

	// Pass 1: provisional ids per segment dictionary entry.
	type segMap struct {
		types  []uint32   // per type code: provisional value of typeF, or none
		facet  []int      // per segment facet: provisional facet, or -1
		vals   [][]uint32 // per segment facet and value: provisional value, or none
		decade []uint32   // per doc: provisional value of decadeF, or none
	}
	maps := make([]segMap, len(segs))
	decadeVal := make(map[int64]uint32)
	for si, s := range segs {
		m := &maps[si]
		m.types = make([]uint32, len(s.typeNames))
		for i, name := range s.typeNames {
			m.types[i] = none
			if k := fb.fold(name); k != "" {
				m.types[i] = fb.value(typeF, k)
			}
		}
		m.facet = make([]int, len(s.facetNames))
		m.vals = make([][]uint32, len(s.facetNames))
		for fi, name := range s.facetNames {
			m.facet[fi] = -1
			k := fb.fold(name)
			if k == "" || k == FacetType || k == FacetDecade {
				continue
			}
			f := fb.facet(k)
			m.facet[fi] = f
			m.vals[fi] = make([]uint32, len(s.facetVals[fi]))
			for vi, v := range s.facetVals[fi] {
				m.vals[fi][vi] = none
				if vk := fb.fold(v); vk != "" {
					m.vals[fi][vi] = fb.value(f, vk)
				}
			}
		}
		m.decade = make([]uint32, len(s.years))
		for d, y := range s.years {
			m.decade[d] = none
			if y == 0 {
				continue
			}
			dec := int64(y) - int64(y%10)
			if y < 0 && y%10 != 0 {
				dec -= 10
			}
			v, ok := decadeVal[dec]
			if !ok {
				v = fb.value(decadeF, decadeKey(y))
				decadeVal[dec] = v
			}
			m.decade[d] = v
		}
	}

	// Pass 2: global ids, facets sorted by name, values by key.
	order := make([]int, len(fb.names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(fb.names[a], fb.names[b]) })
	fb.remap = make([][]uint32, len(fb.names))
	nVals := 0
	for _, f := range order {
		nVals += len(fb.keys[f])
	}
	ix.valKey = make([]string, 0, nVals)
	ix.facets = make([]facetInfo, 0, len(order))
	for _, f := range order {
		keys := fb.keys[f]
		idx := make([]uint32, len(keys))
		for i := range idx {
			idx[i] = uint32(i)
		}
		slices.SortFunc(idx, func(a, b uint32) int { return strings.Compare(keys[a], keys[b]) })
		lo := uint32(len(ix.valKey))
		fb.remap[f] = make([]uint32, len(keys))
		for rank, v := range idx {
			fb.remap[f][v] = lo + uint32(rank)
			ix.valKey = append(ix.valKey, keys[v])
		}
		ix.facets = append(ix.facets, facetInfo{name: fb.names[f], lo: lo, hi: uint32(len(ix.valKey))})
	}
	if uint64(len(ix.valKey)) >= math.MaxUint32 {
		panic("search: too many facet values for one index")
	}
	ix.valFacet = make([]uint32, len(ix.valKey))
	for fi, f := range ix.facets {
		for g := f.lo; g < f.hi; g++ {
			ix.valFacet[g] = uint32(fi)
		}
	}

	// Pass 3: per-document sorted value lists and display values.
	ix.valShow = make([]string, len(ix.valKey))
	gd := 0 // global document number
	nTags := 0
	for _, s := range segs {
		nTags += len(s.tags) + 2*s.Len()
	}
	ix.tagVals = make([]uint32, 0, nTags)
	show := func(g uint32, v string) {
		if ix.valShow[g] == "" {
			ix.valShow[g] = v
		}
	}
	for si, s := range segs {
		m := &maps[si]
		for d := range s.ids {
			start := len(ix.tagVals)
			ix.attr[gd].tagStart = uint32(start)
			gd++
			if v := m.types[s.typeCodes[d]]; v != none {
				g := fb.remap[typeF][v]
				show(g, s.typeNames[s.typeCodes[d]])
				ix.tagVals = append(ix.tagVals, g)
			}
			if v := m.decade[d]; v != none {
				g := fb.remap[decadeF][v]
				show(g, ix.valKey[g])
				ix.tagVals = append(ix.tagVals, g)
			}
			for _, t := range s.tags[s.tagStart[d]:s.tagStart[d+1]] {
				f := m.facet[t.facet]
				if f < 0 {
					continue
				}
				v := m.vals[t.facet][t.val]
				if v == none {
					continue
				}
				g := fb.remap[f][v]
				show(g, s.facetVals[t.facet][t.val])
				ix.tagVals = append(ix.tagVals, g)
			}
			doc := ix.tagVals[start:]
			slices.Sort(doc)
			ix.tagVals = ix.tagVals[:start+len(slices.Compact(doc))]
			if uint64(len(ix.tagVals)) > math.MaxUint32 {
				panic("search: too many facet values for one index")
			}
		}
	}
	ix.attr = append(ix.attr, docAttr{tagStart: uint32(len(ix.tagVals))})
	// Padding, so that the first tagUnroll values of any document can be
	// read without a bounds check on the document's own count.
	ix.tagVals = slices.Clip(append(ix.tagVals, make([]uint32, tagUnroll)...))
}

// findFacet returns the index in ix.facets of the facet with folded name.
func (ix *Index) findFacet(name []byte) (int, bool) {
	lo, hi := 0, len(ix.facets)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ix.facets[m].name < string(name) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(ix.facets) && ix.facets[lo].name == string(name)
}

// findValue returns the global id of folded key in facet f.
func (ix *Index) findValue(f facetInfo, key []byte) (uint32, bool) {
	lo, hi := f.lo, f.hi
	for lo < hi {
		m := lo + (hi-lo)/2
		if ix.valKey[m] < string(key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < f.hi && ix.valKey[lo] == string(key)
}

// docTags returns the sorted facet value ids of document d.
func (ix *Index) docTags(d uint32) []uint32 {
	return ix.tagVals[ix.attr[d].tagStart:ix.attr[d+1].tagStart]
}

// tagUnroll is the number of facet values per document that the filter and
// count loops handle without branching on the document's value count.
const tagUnroll = 4

// mask8 returns 0xFF for true and 0 for false, without a branch.
func mask8(b bool) uint8 { return uint8(-b2i(b)) }

// span is a range of a scratch slice of searchState.
type span struct{ lo, hi int }

// markedFilters is the number of facet filters checked through
// docFilter.mark; further ones are checked by scanning.
const markedFilters = 8

// docFilter holds the per-query document filters beyond the type filter.
//
// The accepted values of the first markedFilters facet filters are marked in
// mark (bit i for filter i), so a document passes them when the OR of the
// marks of its values is need.
type docFilter struct {
	active         bool
	yearOn         bool
	yearLo, yearHi int32
	need           uint8
	mark           []uint8  // per value id; all zero between queries
	ids            []uint32 // accepted value ids of all filters
	slow           []span   // filters beyond markedFilters: ranges of ids
}

// prepareFilters resolves the year range and the facet filters of q into
// st.filter. It reports false when the filters cannot match any document.
// The marks it sets are cleared by docFilter.clear.
func (ix *Index) prepareFilters(st *searchState, q *Query) bool {
	f := &st.filter
	f.slow, f.ids, f.need = f.slow[:0], f.ids[:0], 0
	f.yearOn = q.YearFrom != 0 || q.YearTo != 0
	f.yearLo, f.yearHi = math.MinInt32, math.MaxInt32
	if q.YearFrom != 0 {
		f.yearLo = clampYear(q.YearFrom)
	}
	if q.YearTo != 0 {
		f.yearHi = clampYear(q.YearTo)
	}
	f.active = f.yearOn
	if f.yearOn && f.yearLo > f.yearHi {
		return false
	}
	n := 0
	for name, vals := range q.Filters {
		if len(vals) == 0 {
			continue
		}
		st.key = st.tok.foldKey(st.key[:0], name)
		fi, ok := ix.findFacet(st.key)
		if !ok {
			return false
		}
		start := len(f.ids)
		for _, v := range vals {
			st.key = st.tok.foldKey(st.key[:0], v)
			if g, ok := ix.findValue(ix.facets[fi], st.key); ok {
				f.ids = append(f.ids, g)
			}
		}
		if len(f.ids) == start {
			return false
		}
		f.active = true
		if n < markedFilters {
			if f.mark == nil {
				f.mark = make([]uint8, len(ix.valKey))
			}
			for _, g := range f.ids[start:] {
				f.mark[g] |= 1 << n
			}
			f.need |= 1 << n
		} else {
			f.slow = append(f.slow, span{start, len(f.ids)})
		}
		n++
	}
	return true
}

// clear undoes the marks of prepareFilters.
func (f *docFilter) clear() {
	if f.need != 0 {
		for _, g := range f.ids {
			f.mark[g] = 0
		}
		f.need = 0
	}
	f.ids, f.slow = f.ids[:0], f.slow[:0]
	f.active = false
}

// pass reports whether document d satisfies f.
func (ix *Index) pass(f *docFilter, d uint32) bool {
	if f.yearOn {
		if y := ix.attr[d].year; y == 0 || y < f.yearLo || y > f.yearHi {
			return false
		}
	}
	if f.need == 0 {
		return true
	}
	if f.marks(ix, d) != f.need {
		return false
	}
	return ix.passSlow(f, d)
}

// marks returns the OR of the marks of document d's values.
func (f *docFilter) marks(ix *Index, d uint32) uint8 {
	start, end := ix.attr[d].tagStart, ix.attr[d+1].tagStart
	n := end - start
	t := ix.tagVals[start : start+tagUnroll : start+tagUnroll]
	mark := f.mark
	got := mark[t[0]]&mask8(n > 0) | mark[t[1]]&mask8(n > 1) | mark[t[2]]&mask8(n > 2) | mark[t[3]]&mask8(n > 3)
	if n > tagUnroll {
		for _, g := range ix.tagVals[start+tagUnroll : end] {
			got |= mark[g]
		}
	}
	return got
}

// passSlow reports whether document d passes the filters of f that are not
// marked.
func (ix *Index) passSlow(f *docFilter, d uint32) bool {
	tags := ix.docTags(d)
	for _, sp := range f.slow {
		if !anyIn(tags, f.ids[sp.lo:sp.hi]) {
			return false
		}
	}
	return true
}

// facetCounter counts facet values over the matching documents of a query.
//
// When the requested facets have at most smallFacetValues values in all,
// counting is branch-free (every value of a matching document is counted,
// with weight 0 when its facet is not requested) and the counted values are
// found by scanning the requested facets' ranges; otherwise the values seen
// are listed in touched as they are first counted.
type facetCounter struct {
	want    []int32  // per Query.Facets entry: index into ix.facets, or -1
	on      []uint8  // per facet of the index: 1 when counted
	small   bool     // see above
	count   []uint32 // per global value id; all zero between queries
	touched []uint32 // value ids with count > 0
	sorted  []uint32 // scratch
}

// smallFacetValues bounds the number of values for branch-free counting.
const smallFacetValues = 4096

// prepareFacets resolves q.Facets; it reports whether there is anything to
// count.
func (ix *Index) prepareFacets(st *searchState, q *Query) bool {
	fc := &st.facets
	fc.want = fc.want[:0]
	if len(fc.on) != len(ix.facets) {
		fc.on = make([]uint8, len(ix.facets))
	}
	clear(fc.on)
	values := 0
	for _, name := range q.Facets {
		st.key = st.tok.foldKey(st.key[:0], name)
		fi, ok := ix.findFacet(st.key)
		if !ok {
			fc.want = append(fc.want, -1)
			continue
		}
		fc.want = append(fc.want, int32(fi))
		if fc.on[fi] == 0 {
			fc.on[fi] = 1
			values += int(ix.facets[fi].hi - ix.facets[fi].lo)
		}
	}
	if values > 0 && len(fc.count) < len(ix.valKey) {
		fc.count = make([]uint32, len(ix.valKey))
	}
	fc.small = values <= smallFacetValues
	return values > 0
}

// countFacets counts the requested facet values of the documents docs.
func (ix *Index) countFacets(fc *facetCounter, docs []uint32) {
	attr, tagVals := ix.attr, ix.tagVals
	on, count, facetOf := fc.on, fc.count, ix.valFacet
	if !fc.small {
		for _, d := range docs {
			for _, g := range tagVals[attr[d].tagStart:attr[d+1].tagStart] {
				if on[facetOf[g]] != 0 {
					if count[g] == 0 {
						fc.touched = append(fc.touched, g)
					}
					count[g]++
				}
			}
		}
		return
	}
	for _, d := range docs {
		start, end := attr[d].tagStart, attr[d+1].tagStart
		n := end - start
		t := tagVals[start : start+tagUnroll : start+tagUnroll]
		count[t[0]] += uint32(on[facetOf[t[0]]] & mask8(n > 0))
		count[t[1]] += uint32(on[facetOf[t[1]]] & mask8(n > 1))
		count[t[2]] += uint32(on[facetOf[t[2]]] & mask8(n > 2))
		count[t[3]] += uint32(on[facetOf[t[3]]] & mask8(n > 3))
		if n > tagUnroll {
			for _, g := range tagVals[start+tagUnroll : end] {
				count[g] += uint32(on[facetOf[g]])
			}
		}
	}
	for fi, f := range ix.facets {
		if on[fi] == 0 {
			continue
		}
		for g := f.lo; g < f.hi; g++ {
			if count[g] != 0 {
				fc.touched = append(fc.touched, g)
			}
		}
	}
}

// facetResult builds Result.Facets from the counts and resets them.
func (ix *Index) facetResult(st *searchState, q *Query) map[string][]FacetCount {
	if len(q.Facets) == 0 {
		return nil
	}
	fc := &st.facets
	limit := q.FacetLimit
	if limit <= 0 {
		limit = DefaultFacetLimit
	}
	out := make(map[string][]FacetCount, len(q.Facets))
	for i, name := range q.Facets {
		if _, done := out[name]; done {
			continue
		}
		if i >= len(fc.want) || fc.want[i] < 0 {
			out[name] = []FacetCount{}
			continue
		}
		if j := slices.Index(fc.want[:i], fc.want[i]); j >= 0 {
			out[name] = out[q.Facets[j]]
			continue
		}
		f := ix.facets[fc.want[i]]
		fc.sorted = fc.sorted[:0]
		for _, g := range fc.touched {
			if g >= f.lo && g < f.hi {
				fc.sorted = append(fc.sorted, g)
			}
		}
		slices.SortFunc(fc.sorted, func(a, b uint32) int {
			if c := cmp.Compare(fc.count[b], fc.count[a]); c != 0 {
				return c
			}
			if c := strings.Compare(ix.valShow[a], ix.valShow[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		n := min(limit, len(fc.sorted))
		counts := make([]FacetCount, n)
		for j, g := range fc.sorted[:n] {
			counts[j] = FacetCount{Value: ix.valShow[g], Count: int(fc.count[g])}
		}
		out[name] = counts
	}
	for _, g := range fc.touched {
		fc.count[g] = 0
	}
	fc.touched = fc.touched[:0]
	return out
}

// emptyFacets returns the Result.Facets of a query that matches nothing.
func emptyFacets(q *Query) map[string][]FacetCount {
	if len(q.Facets) == 0 {
		return nil
	}
	out := make(map[string][]FacetCount, len(q.Facets))
	for _, name := range q.Facets {
		out[name] = []FacetCount{}
	}
	return out
}

// anyIn reports whether some element of tags is in ids.
func anyIn(tags, ids []uint32) bool {
	for _, t := range tags {
		for _, id := range ids {
			if t == id {
				return true
			}
		}
	}
	return false
}
