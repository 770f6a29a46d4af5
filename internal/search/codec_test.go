package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"slices"
	"testing"
)

func codecDocs() []Doc {
	docs := synthCorpus(120, 3)
	return append(docs,
		Doc{ID: "", Type: "", Title: "", Year: -5},
		Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix", People: []string{"Lana Wachowski", "Keanu Reeves"}, Text: "A hacker learns the truth. Sci-Fi, Action", Year: 1999},
		Doc{ID: "tt0133094", Type: "book", Title: "The The", Text: "東京 Zoë don't", Year: math.MaxInt},
	)
}

func TestMarshalRoundtrip(t *testing.T) {
	tests := []struct {
		name string
		docs []Doc
	}{
		{"empty", nil},
		{"one", []Doc{{ID: "a", Type: "movie", Title: "Alien"}}},
		{"corpus", codecDocs()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s1 := BuildSegment(tt.docs)
			b1, err := s1.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b2, err := BuildSegment(slices.Clone(tt.docs)).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Fatal("two builds of the same docs marshal differently")
			}
			if !bytes.HasPrefix(b1, []byte("CSEG\x01")) {
				t.Fatalf("header = %q", b1[:min(5, len(b1))])
			}
			s2, err := UnmarshalSegment(b1)
			if err != nil {
				t.Fatal(err)
			}
			if s2.Len() != len(tt.docs) || s2.Terms() != s1.Terms() || s2.Postings() != s1.Postings() || s2.totals != s1.totals {
				t.Fatalf("decoded segment differs: len %d/%d terms %d/%d postings %d/%d",
					s2.Len(), s1.Len(), s2.Terms(), s1.Terms(), s2.Postings(), s1.Postings())
			}
			b3, err := s2.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b3) {
				t.Fatal("re-marshaled segment differs")
			}
			if !slices.Equal(s1.ids, s2.ids) || !slices.Equal(s1.terms, s2.terms) || !slices.Equal(s1.postings, s2.postings) ||
				!slices.Equal(s1.years, s2.years) || !slices.Equal(s1.titleHash, s2.titleHash) {
				t.Fatal("decoded segment content differs")
			}
			// Searching the decoded segment gives the same results.
			q := Query{Text: "matrix", Limit: 5}
			r1, r2 := NewIndex(s1).Search(q), NewIndex(s2).Search(q)
			if r1.Total != r2.Total || !slices.Equal(r1.Hits, r2.Hits) {
				t.Fatalf("search differs: %+v vs %+v", r1, r2)
			}
		})
	}
}

func TestYearClamp(t *testing.T) {
	ix := NewIndex(BuildSegment(codecDocs()))
	r := ix.Search(Query{Text: "the the"})
	if len(r.Hits) != 1 || r.Hits[0].Year != math.MaxInt32 || r.Hits[0].Type != "book" {
		t.Fatalf("hits = %+v", r.Hits)
	}
}

// frame wraps a payload in a valid header and checksum.
func frame(payload []byte) []byte {
	b := append([]byte("CSEG\x01"), binary.AppendUvarint(nil, uint64(len(payload)))...)
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(payload))
}

func uv(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestUnmarshalErrors(t *testing.T) {
	good, err := BuildSegment(codecDocs()).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	v2 := slices.Clone(good)
	v2[4] = 2

	// A minimal valid payload: one type "m", one doc "a", one term "x".
	doc := cat(uv(0, 1), []byte("a"), uv(0), []byte{0}, make([]byte, 8), uv(1, 0, 0))
	term := func(docGap uint64, mask byte, tf uint64) []byte {
		return cat(uv(0, 1), []byte("x"), uv(1, docGap), []byte{mask}, uv(tf))
	}
	valid := cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), term(0, 1, 1))
	if _, err := UnmarshalSegment(frame(valid)); err != nil {
		t.Fatalf("hand-made valid segment: %v", err)
	}

	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nil", nil, ErrTruncated},
		{"short magic", []byte("CSE"), ErrTruncated},
		{"garbage", []byte("hello world, this is not a segment"), ErrBadMagic},
		{"short garbage", []byte("xy"), ErrBadMagic},
		{"gob-looking", []byte{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00}, ErrBadMagic},
		{"magic only", []byte("CSEG"), ErrTruncated},
		{"no length", []byte("CSEG\x01"), ErrTruncated},
		{"bad version", v2, ErrUnsupportedVersion},
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"truncated payload", good[:len(good)/2], ErrTruncated},
		{"trailing bytes", append(slices.Clone(good), 0), ErrCorrupt},
		{"flipped bit", flipped, ErrCorrupt},
		{"overlong length varint", []byte("CSEG\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), ErrCorrupt},
		{"empty payload", frame(nil), ErrCorrupt},
		{"huge doc count", frame(cat(uv(0), uv(1<<40))), ErrCorrupt},
		{"huge type count", frame(uv(1 << 60)), ErrCorrupt},
		{"type code out of range", frame(cat(uv(0, 1), doc, uv(0))), ErrCorrupt},
		{"posting doc out of range", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), term(1, 1, 1))), ErrCorrupt},
		{"zero field mask", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), term(0, 0, 1))), ErrCorrupt},
		{"bad field mask", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), term(0, 8, 1))), ErrCorrupt},
		{"zero tf", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), term(0, 1, 0))), ErrCorrupt},
		{"tf too large", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), term(0, 1, 1<<20))), ErrCorrupt},
		{"unsorted terms", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(2), term(0, 1, 1), term(0, 1, 1))), ErrCorrupt},
		{"shared prefix too long", frame(cat(uv(1, 1), []byte("m"), uv(1), doc, uv(1), uv(3, 1), []byte("x"), uv(1, 0), []byte{1}, uv(1))), ErrCorrupt},
		{"unread bytes", frame(cat(valid, []byte{0})), ErrCorrupt},
		{"missing terms", frame(cat(uv(1, 1), []byte("m"), uv(1), doc)), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := UnmarshalSegment(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s != nil {
				t.Fatal("non-nil segment with error")
			}
		})
	}

	// Every strict prefix of a valid segment is rejected without panicking.
	for i := range len(good) {
		if _, err := UnmarshalSegment(good[:i]); err == nil {
			t.Fatalf("prefix of %d/%d bytes accepted", i, len(good))
		}
	}
}

func FuzzUnmarshalSegment(f *testing.F) {
	good, err := BuildSegment(codecDocs()[:5]).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("CSEG\x01\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSegment(b)
		if err != nil {
			return
		}
		// Anything accepted must be searchable and survive a roundtrip (the
		// input itself need not be canonical, e.g. non-minimal varints).
		ix := NewIndex(s, s)
		ix.Search(Query{Text: "a"})
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := UnmarshalSegment(out)
		if err != nil {
			t.Fatalf("re-marshaled segment rejected: %v", err)
		}
		if out2, _ := s2.MarshalBinary(); !bytes.Equal(out, out2) {
			t.Fatal("marshal is not stable")
		}
	})
}
