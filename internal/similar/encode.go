package similar

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// encodingMagic starts an encoded model; the digit is the format version.
const encodingMagic = "CURIOSIM1"

// Encode writes the model in a compact binary form that Decode reads back into an
// identical model: the documents' ids and types and their normalized vectors (terms as
// numbers, weights bit-exact). Postings are not written; Decode rebuilds them. A model is
// encoded once, by the activity that builds it, and decoded by every shard.
func (m *Model) Encode(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var buf [binary.MaxVarintLen64]byte
	uv := func(x uint64) { bw.Write(buf[:binary.PutUvarint(buf[:], x)]) }
	str := func(s string) { uv(uint64(len(s))); bw.WriteString(s) }
	f64 := func(f float64) {
		binary.LittleEndian.PutUint64(buf[:8], math.Float64bits(f))
		bw.Write(buf[:8])
	}
	bw.WriteString(encodingMagic)
	uv(uint64(len(m.ids)))
	uv(uint64(len(m.postings)))
	uv(uint64(m.nCommon))
	uv(uint64(len(m.typeStart)))
	for _, t := range m.typeStart {
		uv(uint64(t))
	}
	for d, id := range m.ids {
		str(id)
		vec := func(es []entry) {
			uv(uint64(len(es)))
			prev := int32(0)
			for _, e := range es {
				uv(uint64(e.term - prev))
				prev = e.term
				f64(e.w)
			}
		}
		vec(m.rare[d])
		vec(m.commonOf(int32(d)))
	}
	return bw.Flush()
}

// Decode reads a model written by Encode.
func Decode(r io.Reader) (*Model, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic := make([]byte, len(encodingMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return nil, fmt.Errorf("similarity model: %w", err)
	}
	if string(magic) != encodingMagic {
		return nil, fmt.Errorf("similarity model: not an encoded model (starts %q)", magic)
	}
	var err error
	uv := func() uint64 {
		if err != nil {
			return 0
		}
		var x uint64
		x, err = binary.ReadUvarint(br)
		return x
	}
	var f [8]byte
	f64 := func() float64 {
		if err != nil {
			return 0
		}
		_, err = io.ReadFull(br, f[:])
		return math.Float64frombits(binary.LittleEndian.Uint64(f[:]))
	}
	n, nTerms, nCommon, nTypes := uv(), uv(), uv(), uv()
	if err != nil {
		return nil, fmt.Errorf("similarity model header: %w", err)
	}
	const maxDocs, maxTerms = 1 << 31, 1 << 31
	if n >= maxDocs || nTerms >= maxTerms || nCommon > nTerms || nTypes > n+1 || nTypes == 0 {
		return nil, fmt.Errorf("similarity model header: %d documents, %d terms (%d common), %d type bounds", n, nTerms, nCommon, nTypes)
	}
	m := &Model{
		ids:        make([]string, n),
		types:      make([]int32, n),
		typeStart:  make([]int32, nTypes),
		byID:       make(map[string]int32, n),
		rare:       make([][]entry, n),
		commonOff:  make([]int32, 1, n+1),
		commonNorm: make([]float64, n),
		nCommon:    int(nCommon),
		postings:   make([][]posting, nTerms),
	}
	for i := range m.typeStart {
		m.typeStart[i] = int32(uv())
	}
	if err == nil && (m.typeStart[nTypes-1] != int32(n) || !slices.IsSorted(m.typeStart)) {
		err = errors.New("type bounds out of order")
	}
	var sb strings.Builder
	ty := int32(0)
	for d := range m.ids {
		if err != nil {
			break
		}
		l := uv()
		if l > 1<<16 {
			err = fmt.Errorf("document %d: id of %d bytes", d, l)
			break
		}
		sb.Reset()
		sb.Grow(int(l))
		if _, e := io.CopyN(&sb, br, int64(l)); e != nil && err == nil {
			err = e
		}
		m.ids[d] = sb.String()
		m.byID[m.ids[d]] = int32(d)
		for ty+1 < int32(nTypes)-1 && int32(d) >= m.typeStart[ty+1] {
			ty++
		}
		m.types[d] = ty
		vec := func(limit uint64) []entry {
			k := uv()
			if k > limit {
				err = fmt.Errorf("document %d: %d entries", d, k)
				return nil
			}
			es := make([]entry, k)
			prev := uint64(0)
			for i := range es {
				prev += uv()
				if prev >= limit {
					err = fmt.Errorf("document %d: term %d of %d", d, prev, limit)
					return nil
				}
				es[i] = entry{term: int32(prev), w: f64()}
			}
			return es
		}
		m.rare[d] = vec(nTerms)
		common := vec(max(nCommon, 1))
		if err != nil {
			break
		}
		var cn float64
		for _, e := range common {
			cn += e.w * e.w
		}
		m.commonNorm[d] = math.Sqrt(cn)
		m.commonEnt = append(m.commonEnt, common...)
		m.commonOff = append(m.commonOff, int32(len(m.commonEnt)))
	}
	if err != nil {
		return nil, fmt.Errorf("similarity model: %w", err)
	}
	// Postings in document order, as Build makes them.
	df := make([]int32, nTerms)
	for _, vec := range m.rare {
		for _, e := range vec {
			df[e.term]++
		}
	}
	for t, c := range df {
		if c > 0 {
			m.postings[t] = make([]posting, 0, c)
		}
	}
	for d, vec := range m.rare {
		for _, e := range vec {
			m.postings[e.term] = append(m.postings[e.term], posting{doc: int32(d), w: e.w})
		}
	}
	m.idOrder = make([]int32, n)
	for i := range m.idOrder {
		m.idOrder[i] = int32(i)
	}
	slices.SortFunc(m.idOrder, func(a, b int32) int { return strings.Compare(m.ids[a], m.ids[b]) })
	m.bounds()
	return m, nil
}
