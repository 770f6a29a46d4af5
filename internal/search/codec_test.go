package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func codecDocs() []Doc {
	docs := synthCorpus(120, 3)
	return append(docs,
		Doc{ID: "", Type: "", Title: "", Year: -5},
		Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix", People: []string{"Lana Wachowski", "Keanu Reeves"}, Text: "A hacker learns the truth. Sci-Fi, Action", Year: 1999,
			Tags: map[string][]string{"genre": {"Sci-Fi", "Action", "Sci-Fi", ""}, "": {"ignored"}, "country": {"USA"}, "empty": nil}},
		Doc{ID: "moma-1", Type: "artwork", Title: "Zoë, Étude", Year: 1876,
			Tags: map[string][]string{"medium": {"Oil on canvas"}, "nationality": {"French"}, "genre": {"Portrait"}}},
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
			if !bytes.HasPrefix(b1, []byte("CSEG\x02")) {
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
			if !slices.Equal(s1.titles, s2.titles) || !slices.Equal(s1.facetNames, s2.facetNames) ||
				!slices.EqualFunc(s1.facetVals, s2.facetVals, slices.Equal) ||
				!slices.Equal(s1.tagStart, s2.tagStart) || !slices.Equal(s1.tags, s2.tags) {
				t.Fatalf("decoded titles or tags differ:\n%q %q %q %v\n%q %q %q %v",
					s1.titles, s1.facetNames, s1.facetVals, s1.tags, s2.titles, s2.facetNames, s2.facetVals, s2.tags)
			}
			for i, d := range tt.docs {
				if s2.titles[i] != d.Title {
					t.Fatalf("title %d = %q, want %q", i, s2.titles[i], d.Title)
				}
				got := map[string][]string{}
				for _, tg := range s2.tags[s2.tagStart[i]:s2.tagStart[i+1]] {
					name := s2.facetNames[tg.facet]
					got[name] = append(got[name], s2.facetVals[tg.facet][tg.val])
				}
				want := map[string][]string{}
				for name, vals := range d.Tags {
					for _, v := range vals {
						if name != "" && v != "" && !slices.Contains(want[name], v) {
							want[name] = append(want[name], v)
						}
					}
				}
				if !maps.EqualFunc(got, want, slices.Equal) {
					t.Fatalf("doc %d tags = %q, want %q", i, got, want)
				}
			}
			// Searching the decoded segment gives the same facets.
			fq := Query{Text: "matrix study zoe", Facets: []string{"genre", "type", "decade"}}
			f1, f2 := NewIndex(s1).Search(fq), NewIndex(s2).Search(fq)
			if !reflect.DeepEqual(f1, f2) {
				t.Fatalf("faceted search differs: %+v vs %+v", f1, f2)
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
	b := append([]byte("CSEG\x02"), binary.AppendUvarint(nil, uint64(len(payload)))...)
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
	v1 := slices.Clone(good)
	v1[4] = 1
	v3 := slices.Clone(good)
	v3[4] = 3

	// A minimal valid payload: one type "m", one facet "g" with values "u"
	// and "v", one doc "a" titled "X" tagged g=v, one term "x".
	types := cat(uv(1, 1), []byte("m"))
	facets := cat(uv(1, 1), []byte("g"), uv(2, 1), []byte("u"), uv(1), []byte("v"))
	docTags := func(tags ...uint64) []byte {
		return cat(uv(0, 1), []byte("a"), uv(0), []byte{0}, make([]byte, 8), uv(1, 0, 0, 1), []byte("X"), uv(uint64(len(tags)/2)), uv(tags...))
	}
	doc := docTags(0, 1)
	term := func(docGap uint64, mask byte, tf uint64) []byte {
		return cat(uv(0, 1), []byte("x"), uv(1, docGap), []byte{mask}, uv(tf))
	}
	valid := cat(types, facets, uv(1), doc, uv(1), term(0, 1, 1))
	s, err := UnmarshalSegment(frame(valid))
	if err != nil {
		t.Fatalf("hand-made valid segment: %v", err)
	}
	if s.titles[0] != "X" || len(s.tags) != 1 || s.facetVals[s.tags[0].facet][s.tags[0].val] != "v" {
		t.Fatalf("hand-made segment decoded as titles %q tags %v", s.titles, s.tags)
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
		{"no length", []byte("CSEG\x02"), ErrTruncated},
		{"old version 1", v1, ErrUnsupportedVersion},
		{"future version", v3, ErrUnsupportedVersion},
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"truncated payload", good[:len(good)/2], ErrTruncated},
		{"trailing bytes", append(slices.Clone(good), 0), ErrCorrupt},
		{"flipped bit", flipped, ErrCorrupt},
		{"overlong length varint", []byte("CSEG\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), ErrCorrupt},
		{"empty payload", frame(nil), ErrCorrupt},
		{"huge doc count", frame(cat(uv(0, 0), uv(1<<40))), ErrCorrupt},
		{"huge type count", frame(uv(1 << 60)), ErrCorrupt},
		{"huge facet count", frame(cat(types, uv(1<<40))), ErrCorrupt},
		{"huge facet value count", frame(cat(types, uv(1, 1), []byte("g"), uv(1<<40))), ErrCorrupt},
		{"truncated facets", frame(cat(types, uv(1, 1), []byte("g"), uv(2, 1), []byte("u"))), ErrCorrupt},
		{"type code out of range", frame(cat(uv(0), facets, uv(1), doc, uv(0))), ErrCorrupt},
		{"tag facet out of range", frame(cat(types, facets, uv(1), docTags(1, 0), uv(1), term(0, 1, 1))), ErrCorrupt},
		{"tag value out of range", frame(cat(types, facets, uv(1), docTags(0, 2), uv(1), term(0, 1, 1))), ErrCorrupt},
		{"huge tag count", frame(cat(types, facets, uv(1), docTags()[:len(docTags())-1], uv(1<<40))), ErrCorrupt},
		{"posting doc out of range", frame(cat(types, facets, uv(1), doc, uv(1), term(1, 1, 1))), ErrCorrupt},
		{"zero field mask", frame(cat(types, facets, uv(1), doc, uv(1), term(0, 0, 1))), ErrCorrupt},
		{"bad field mask", frame(cat(types, facets, uv(1), doc, uv(1), term(0, 8, 1))), ErrCorrupt},
		{"zero tf", frame(cat(types, facets, uv(1), doc, uv(1), term(0, 1, 0))), ErrCorrupt},
		{"tf too large", frame(cat(types, facets, uv(1), doc, uv(1), term(0, 1, 1<<20))), ErrCorrupt},
		{"unsorted terms", frame(cat(types, facets, uv(1), doc, uv(2), term(0, 1, 1), term(0, 1, 1))), ErrCorrupt},
		{"shared prefix too long", frame(cat(types, facets, uv(1), doc, uv(1), uv(3, 1), []byte("x"), uv(1, 0), []byte{1}, uv(1))), ErrCorrupt},
		{"unread bytes", frame(cat(valid, []byte{0})), ErrCorrupt},
		{"missing terms", frame(cat(types, facets, uv(1), doc)), ErrCorrupt},
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

	// Segments of the previous format are rejected with a clear message.
	if _, err := UnmarshalSegment(v1); err == nil || !strings.Contains(err.Error(), "version 1") || !strings.Contains(err.Error(), "rebuild") {
		t.Fatalf("version 1 segment: %v", err)
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
	f.Add([]byte("CSEG\x02\x00\x00\x00\x00\x00"))
	tagged, err := BuildSegment([]Doc{
		{ID: "a", Type: "m", Title: "Abcd", Year: 1999, Tags: map[string][]string{"g": {"v", "W"}}},
		{ID: "b", Type: "n", Title: "abce \xff", Tags: map[string][]string{"G ": {" V"}}},
	}).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tagged)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSegment(b)
		if err != nil {
			return
		}
		// Anything accepted must be searchable and survive a roundtrip (the
		// input itself need not be canonical, e.g. non-minimal varints).
		ix := NewIndex(s, s)
		ix.Search(Query{Text: "a"})
		ix.Search(Query{Text: "abcd abcdefghi", YearFrom: 1, Facets: []string{"type", "decade", "g"}, Filters: map[string][]string{"g": {"v"}}})
		ix.Suggest("abcde ab", "", 0)
		if len(s.terms) > 0 {
			ix.Search(Query{Text: s.terms[0] + "x", Facets: []string{"g"}})
		}
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
