package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// Segment encoding, version 2:
//
//	"CSEG" | version byte | uvarint payload length | payload | CRC-32 (IEEE) of payload, little endian
//
// The payload is:
//
//	uvarint #types, then per type: uvarint length, bytes
//	uvarint #facets, then per facet:
//	    uvarint name length, name bytes,
//	    uvarint #values, then per value: uvarint length, bytes
//	uvarint #docs, then per doc:
//	    uvarint shared prefix with previous id, uvarint suffix length, suffix bytes,
//	    uvarint type code, varint year, 8-byte little-endian title hash,
//	    uvarint title, people and text lengths (tokens),
//	    uvarint title length (bytes), title bytes,
//	    uvarint #tags, then per tag: uvarint facet index, uvarint value index
//	uvarint #terms (sorted), then per term:
//	    uvarint shared prefix with previous term, uvarint suffix length, suffix bytes,
//	    uvarint #postings, then per posting:
//	        uvarint doc (first: absolute, then gap from previous doc, >= 1),
//	        byte field mask (bit f set when tf[f] > 0), uvarint tf per set bit
//
// All integers are encoding/binary varints, so the format is independent of
// the machine's byte order and word size.
//
// Version 1 (no titles, no facets) is no longer readable: segments written
// by it are rejected with ErrUnsupportedVersion and must be rebuilt.
const (
	segmentMagic   = "CSEG"
	segmentVersion = 2
)

// Errors returned (wrapped) by UnmarshalSegment; test with errors.Is.
var (
	// ErrBadMagic means the data does not start with the segment magic.
	ErrBadMagic = errors.New("not a search segment (bad magic)")
	// ErrUnsupportedVersion means the segment was written by an unknown
	// format version.
	ErrUnsupportedVersion = errors.New("unsupported search segment version")
	// ErrTruncated means the data ends before the segment does.
	ErrTruncated = errors.New("search segment truncated")
	// ErrCorrupt means the data is structurally invalid or fails its
	// checksum.
	ErrCorrupt = errors.New("search segment corrupt")
)

// MarshalBinary encodes the segment. The encoding is deterministic: equal
// segments produce equal bytes. It never returns a non-nil error today; the
// error is part of the encoding.BinaryMarshaler contract.
func (s *Segment) MarshalBinary() ([]byte, error) {
	// The payload is written after room for the longest header, which is then
	// written right in front of it: the segment is encoded in one buffer,
	// never copied.
	const maxHeader = len(segmentMagic) + 1 + binary.MaxVarintLen64
	p := make([]byte, maxHeader, maxHeader+s.encodedSizeHint()+4)

	p = binary.AppendUvarint(p, uint64(len(s.typeNames)))
	for _, t := range s.typeNames {
		p = appendString(p, t)
	}

	p = binary.AppendUvarint(p, uint64(len(s.facetNames)))
	for fi, name := range s.facetNames {
		p = appendString(p, name)
		p = binary.AppendUvarint(p, uint64(len(s.facetVals[fi])))
		for _, v := range s.facetVals[fi] {
			p = appendString(p, v)
		}
	}

	p = binary.AppendUvarint(p, uint64(len(s.ids)))
	prev := ""
	for d, id := range s.ids {
		p = appendPrefixed(p, prev, id)
		prev = id
		p = binary.AppendUvarint(p, uint64(s.typeCodes[d]))
		p = binary.AppendVarint(p, int64(s.years[d]))
		p = binary.LittleEndian.AppendUint64(p, s.titleHash[d])
		for f := range numFields {
			p = binary.AppendUvarint(p, uint64(s.lens[f][d]))
		}
		p = appendString(p, s.titles[d])
		tags := s.tags[s.tagStart[d]:s.tagStart[d+1]]
		p = binary.AppendUvarint(p, uint64(len(tags)))
		for _, t := range tags {
			p = binary.AppendUvarint(p, uint64(t.facet))
			p = binary.AppendUvarint(p, uint64(t.val))
		}
	}

	p = binary.AppendUvarint(p, uint64(len(s.terms)))
	prev = ""
	for i, term := range s.terms {
		p = appendPrefixed(p, prev, term)
		prev = term
		ps := s.postings[s.termStart[i]:s.termStart[i+1]]
		p = binary.AppendUvarint(p, uint64(len(ps)))
		last := uint32(0)
		for j, po := range ps {
			gap := po.doc
			if j > 0 {
				gap = po.doc - last
			}
			last = po.doc
			p = binary.AppendUvarint(p, uint64(gap))
			var mask byte
			for f := range numFields {
				if po.tf[f] > 0 {
					mask |= 1 << f
				}
			}
			p = append(p, mask)
			for f := range numFields {
				if po.tf[f] > 0 {
					p = binary.AppendUvarint(p, uint64(po.tf[f]))
				}
			}
		}
	}

	payload := p[maxHeader:]
	var hdr [maxHeader]byte
	h := append(hdr[:0], segmentMagic...)
	h = append(h, segmentVersion)
	h = binary.AppendUvarint(h, uint64(len(payload)))
	start := maxHeader - len(h)
	copy(p[start:], h)
	return binary.LittleEndian.AppendUint32(p[start:], crc32.ChecksumIEEE(payload)), nil
}

// encodedSizeHint estimates the payload size, slightly high for typical
// catalog segments, so that MarshalBinary allocates its buffer once.
func (s *Segment) encodedSizeHint() int {
	n := 16 + len(s.ids)*24 + len(s.tags)*2 + len(s.postings)*3
	for d, id := range s.ids {
		n += len(id)/2 + len(s.titles[d])
	}
	for _, t := range s.typeNames {
		n += len(t) + 2
	}
	for fi, name := range s.facetNames {
		n += len(name) + 4
		for _, v := range s.facetVals[fi] {
			n += len(v) + 2
		}
	}
	for _, t := range s.terms {
		n += len(t) + 4
	}
	return n
}

// appendString appends the length of v and v.
func appendString(p []byte, v string) []byte {
	p = binary.AppendUvarint(p, uint64(len(v)))
	return append(p, v...)
}

// appendPrefixed appends s encoded relative to prev (shared prefix length,
// suffix length, suffix).
func appendPrefixed(p []byte, prev, s string) []byte {
	n := 0
	for n < len(prev) && n < len(s) && prev[n] == s[n] {
		n++
	}
	p = binary.AppendUvarint(p, uint64(n))
	p = binary.AppendUvarint(p, uint64(len(s)-n))
	return append(p, s[n:]...)
}

// UnmarshalSegment decodes a segment written by MarshalBinary. Errors wrap
// ErrBadMagic, ErrUnsupportedVersion, ErrTruncated or ErrCorrupt. The result
// does not retain b.
func UnmarshalSegment(b []byte) (*Segment, error) {
	hdr := len(segmentMagic) + 1
	if len(b) < len(segmentMagic) {
		if bytes.HasPrefix([]byte(segmentMagic), b) {
			return nil, fmt.Errorf("unmarshal segment: %w: %d bytes", ErrTruncated, len(b))
		}
		return nil, fmt.Errorf("unmarshal segment: %w", ErrBadMagic)
	}
	if string(b[:len(segmentMagic)]) != segmentMagic {
		return nil, fmt.Errorf("unmarshal segment: %w: got %q", ErrBadMagic, b[:len(segmentMagic)])
	}
	if len(b) < hdr {
		return nil, fmt.Errorf("unmarshal segment: %w: missing version", ErrTruncated)
	}
	if v := b[len(segmentMagic)]; v != segmentVersion {
		return nil, fmt.Errorf("unmarshal segment: %w: version %d, this build reads version %d; rebuild the index", ErrUnsupportedVersion, v, segmentVersion)
	}
	size, n := binary.Uvarint(b[hdr:])
	switch {
	case n == 0:
		return nil, fmt.Errorf("unmarshal segment: %w: missing payload length", ErrTruncated)
	case n < 0:
		return nil, fmt.Errorf("unmarshal segment: %w: bad payload length", ErrCorrupt)
	}
	rest := b[hdr+n:]
	if uint64(len(rest)) < 4 || size > uint64(len(rest)-4) {
		return nil, fmt.Errorf("unmarshal segment: %w: payload needs %d+4 bytes, have %d", ErrTruncated, size, len(rest))
	}
	if size != uint64(len(rest)-4) {
		return nil, fmt.Errorf("unmarshal segment: %w: %d trailing bytes", ErrCorrupt, uint64(len(rest)-4)-size)
	}
	payload := rest[:size]
	if want, got := binary.LittleEndian.Uint32(rest[size:]), crc32.ChecksumIEEE(payload); want != got {
		return nil, fmt.Errorf("unmarshal segment: %w: checksum mismatch", ErrCorrupt)
	}
	s, err := decodePayload(payload)
	if err != nil {
		return nil, fmt.Errorf("unmarshal segment: %w", err)
	}
	return s, nil
}

// reader decodes varints from a payload, remembering the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at payload offset %d", ErrCorrupt, fmt.Sprintf(format, args...), r.off)
	}
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// count reads a length that must not exceed limit.
func (r *reader) count(what string, limit uint64) int {
	v := r.uvarint()
	if v > limit {
		r.fail("%s %d exceeds limit %d", what, v, limit)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > r.remaining() {
		r.fail("need %d bytes, have %d", n, r.remaining())
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// string reads a length-prefixed string.
func (r *reader) string(what string) string {
	n := r.count(what+" length", uint64(r.remaining()))
	return string(r.bytes(n))
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) uint64le() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// prefixed reads a prefix-compressed string relative to the previous one,
// stored at arena[prevStart:], appending the full string to arena.
func (r *reader) prefixed(arena []byte, prevStart int) []byte {
	prevLen := len(arena) - prevStart
	shared := r.count("shared prefix", uint64(prevLen))
	suffix := r.count("suffix length", uint64(r.remaining()))
	tail := r.bytes(suffix)
	if r.err != nil {
		return arena
	}
	arena = append(arena, arena[prevStart:prevStart+shared]...)
	return append(arena, tail...)
}

func decodePayload(p []byte) (*Segment, error) {
	r := &reader{b: p}
	s := &Segment{}

	nTypes := r.count("type count", uint64(r.remaining()))
	s.typeNames = make([]string, 0, nTypes)
	for range nTypes {
		s.typeNames = append(s.typeNames, r.string("type"))
	}

	nFacets := r.count("facet count", uint64(r.remaining()/2))
	s.facetNames = make([]string, 0, nFacets)
	s.facetVals = make([][]string, 0, nFacets)
	for i := 0; i < nFacets && r.err == nil; i++ {
		s.facetNames = append(s.facetNames, r.string("facet name"))
		nv := r.count("facet value count", uint64(r.remaining()))
		vals := make([]string, 0, nv)
		for j := 0; j < nv && r.err == nil; j++ {
			vals = append(vals, r.string("facet value"))
		}
		s.facetVals = append(s.facetVals, vals)
	}
	if r.err != nil {
		return nil, r.err
	}

	const minDocBytes = 2 + 1 + 1 + 8 + numFields + 1 + 1
	nDocs := r.count("document count", min(uint64(r.remaining()/minDocBytes), math.MaxUint32))
	s.ids = make([]string, nDocs)
	s.typeCodes = make([]uint32, nDocs)
	s.years = make([]int32, nDocs)
	s.titleHash = make([]uint64, nDocs)
	s.titles = make([]string, nDocs)
	s.tagStart = make([]int, nDocs+1)
	for f := range s.lens {
		s.lens[f] = make([]uint32, nDocs)
	}
	var arena, titleArena []byte
	idEnds := make([]int, nDocs)
	titleEnds := make([]int, nDocs)
	prevStart := 0
	for d := 0; d < nDocs && r.err == nil; d++ {
		start := len(arena)
		arena = r.prefixed(arena, prevStart)
		prevStart = start
		idEnds[d] = len(arena)
		code := r.uvarint()
		if code >= uint64(nTypes) {
			r.fail("type code %d out of range", code)
		}
		s.typeCodes[d] = uint32(code)
		y := r.varint()
		if y < math.MinInt32 || y > math.MaxInt32 {
			r.fail("year %d out of range", y)
		}
		s.years[d] = int32(y)
		s.titleHash[d] = r.uint64le()
		for f := range numFields {
			l := r.uvarint()
			if l > math.MaxUint32 {
				r.fail("field length %d out of range", l)
			}
			s.lens[f][d] = uint32(l)
			s.totals[f] += l
		}
		n := r.count("title length", uint64(r.remaining()))
		titleArena = append(titleArena, r.bytes(n)...)
		titleEnds[d] = len(titleArena)
		nTags := r.count("tag count", uint64(r.remaining()/2))
		for j := 0; j < nTags && r.err == nil; j++ {
			fi := r.uvarint()
			vi := r.uvarint()
			if fi >= uint64(nFacets) || vi >= uint64(len(s.facetVals[fi])) {
				r.fail("tag (%d, %d) out of range", fi, vi)
				break
			}
			s.tags = append(s.tags, tagRef{facet: uint32(fi), val: uint32(vi)})
		}
		s.tagStart[d+1] = len(s.tags)
	}
	if r.err != nil {
		return nil, r.err
	}
	ids, titles := string(arena), string(titleArena)
	start, tstart := 0, 0
	for d, end := range idEnds {
		s.ids[d] = ids[start:end]
		start = end
		s.titles[d] = titles[tstart:titleEnds[d]]
		tstart = titleEnds[d]
	}

	const minTermBytes = 3 + 3
	nTerms := r.count("term count", uint64(r.remaining()/minTermBytes))
	s.terms = make([]string, nTerms)
	s.termStart = make([]int, nTerms+1)
	termEnds := make([]int, nTerms)
	arena = arena[:0]
	prevStart = 0
	for i := 0; i < nTerms && r.err == nil; i++ {
		start := len(arena)
		arena = r.prefixed(arena, prevStart)
		term, prev := arena[start:], arena[prevStart:start]
		if len(term) == 0 || (i > 0 && bytes.Compare(prev, term) >= 0) {
			r.fail("terms not strictly ascending")
		}
		prevStart = start
		termEnds[i] = len(arena)

		const minPostingBytes = 3
		np := r.count("posting count", min(uint64(nDocs), uint64(r.remaining()/minPostingBytes)))
		if np == 0 {
			r.fail("term without postings")
		}
		last := uint64(0)
		for j := 0; j < np && r.err == nil; j++ {
			gap := r.uvarint()
			doc := gap
			if j > 0 {
				doc = last + gap
				if gap == 0 {
					r.fail("postings not strictly ascending")
				}
			}
			if doc >= uint64(nDocs) {
				r.fail("posting document %d out of range", doc)
			}
			last = doc
			po := posting{doc: uint32(doc)}
			mask := r.byte()
			if mask == 0 || mask >= 1<<numFields {
				r.fail("bad field mask %#x", mask)
			}
			for f := range numFields {
				if mask&(1<<f) != 0 {
					tf := r.uvarint()
					if tf == 0 || tf > math.MaxUint16 {
						r.fail("term frequency %d out of range", tf)
					}
					po.tf[f] = uint16(tf)
				}
			}
			s.postings = append(s.postings, po)
		}
		s.termStart[i+1] = len(s.postings)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.remaining() != 0 {
		r.fail("%d unread bytes", r.remaining())
		return nil, r.err
	}
	terms := string(arena)
	start = 0
	for i, end := range termEnds {
		s.terms[i] = terms[start:end]
		start = end
	}
	s.postings = slices.Clip(s.postings)
	return s, nil
}
