package search

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// synthVocab returns the i-th synthetic word: two to four syllables, unique
// per i.
func synthWord(i int) string {
	syl := [...]string{"ka", "lo", "mi", "ra", "te", "su", "no", "vi", "do", "be",
		"ar", "en", "ol", "um", "ish", "tor", "gal", "zen", "pri", "qua",
		"mor", "lin", "sta", "dre", "fo", "hu", "je", "wy", "xo", "ce"}
	var b strings.Builder
	n := i
	for k := 0; k < 2 || n > 0; k++ {
		b.WriteString(syl[n%len(syl)])
		n /= len(syl)
	}
	return b.String()
}

// synthCorpus generates n deterministic documents with Zipf-distributed
// words, roughly shaped like Curio's catalog (short titles, a few people,
// a plot of 20-60 words).
func synthCorpus(n int, seed uint64) []Doc {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const vocab = 40000
	words := make([]string, vocab)
	for i := range words {
		words[i] = synthWord(i)
	}
	zWord := rand.NewZipf(r, 1.07, 2, vocab-1)
	first := []string{"Anna", "Zoë", "José", "Li", "Kenji", "Olga", "Sam", "Marie", "Ahmed", "Björn", "Chloé", "Ivan", "Priya", "Tom", "Élodie", "Hiro"}
	zPerson := rand.NewZipf(r, 1.2, 2, 5000)
	docs := make([]Doc, n)
	var sb strings.Builder
	phrase := func(min, max int) string {
		sb.Reset()
		k := min + r.IntN(max-min+1)
		for j := range k {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[zWord.Uint64()])
		}
		return sb.String()
	}
	for i := range docs {
		d := &docs[i]
		if r.IntN(10) < 7 {
			d.ID = fmt.Sprintf("tt%07d", i)
			d.Type = "movie"
		} else {
			d.ID = fmt.Sprintf("art-%d", i)
			d.Type = "artwork"
		}
		d.Title = phrase(1, 4)
		np := 1 + r.IntN(5)
		for range np {
			p := zPerson.Uint64()
			d.People = append(d.People, first[p%uint64(len(first))]+" "+strings.ToUpper(words[p][:1])+words[p][1:])
		}
		d.Text = phrase(20, 60)
		d.Year = 1900 + r.IntN(125)
	}
	return docs
}

const benchDocs = 100_000

func BenchmarkBuildSegment(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping 100k-doc corpus in -short mode")
	}
	docs := synthCorpus(benchDocs, 1)
	b.ReportAllocs()
	var s *Segment
	for b.Loop() {
		s = BuildSegment(docs)
	}
	buf, err := s.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(buf))/float64(len(docs)), "segbytes/doc")
	b.ReportMetric(float64(s.Postings())/float64(len(docs)), "postings/doc")
}

func BenchmarkNewIndex(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping 100k-doc corpus in -short mode")
	}
	docs := synthCorpus(benchDocs, 1)
	var segs []*Segment
	for i := 0; i < len(docs); i += len(docs) / 4 {
		segs = append(segs, BuildSegment(docs[i:min(i+len(docs)/4, len(docs))]))
	}
	b.ReportAllocs()
	var ix *Index
	for b.Loop() {
		ix = NewIndex(segs...)
	}
	st := ix.Stats()
	b.ReportMetric(float64(st.Bytes)/float64(st.Docs), "indexbytes/doc")
}

func BenchmarkSearch(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping 100k-doc corpus in -short mode")
	}
	docs := synthCorpus(benchDocs, 1)
	var segs []*Segment
	for i := 0; i < len(docs); i += len(docs) / 4 {
		segs = append(segs, BuildSegment(docs[i:min(i+len(docs)/4, len(docs))]))
	}
	ix := NewIndex(segs...)
	w := synthWord
	cases := []struct {
		name    string
		queries []Query
	}{
		{"rare-term", []Query{{Text: w(20000) + " "}, {Text: w(25000) + " "}, {Text: w(30000) + " "}}},
		{"mid-term", []Query{{Text: w(500) + " "}, {Text: w(800) + " "}, {Text: w(1200) + " "}}},
		{"common-term", []Query{{Text: w(2) + " "}, {Text: w(3) + " "}, {Text: w(5) + " "}}},
		{"two-terms", []Query{{Text: w(40) + " " + w(700) + " "}, {Text: w(90) + " " + w(3000) + " "}}},
		{"three-terms", []Query{{Text: w(10) + " " + w(200) + " " + w(5000) + " "}}},
		{"title-like", []Query{{Text: docs[123].Title}, {Text: docs[4567].Title}, {Text: docs[89012].Title}}},
		{"person", []Query{{Text: docs[77].People[0]}, {Text: docs[7777].People[0]}}},
		{"prefix-3", []Query{{Text: w(700)[:3]}, {Text: w(1300)[:3]}}},
		{"prefix-5", []Query{{Text: w(700)[:5]}, {Text: w(2000)[:5]}}},
		{"type-filter", []Query{{Text: w(40) + " " + w(700) + " ", Type: "artwork"}}},
		{"page-5", []Query{{Text: w(40) + " " + w(700) + " ", Offset: 40, Limit: 10}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			total := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				total += ix.Search(c.queries[i%len(c.queries)]).Total
				i++
			}
			b.ReportMetric(float64(total)/float64(i), "matches/op")
		})
	}
}

func BenchmarkSearchParallel(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping 100k-doc corpus in -short mode")
	}
	ix := NewIndex(BuildSegment(synthCorpus(benchDocs, 1)))
	q := Query{Text: synthWord(40) + " " + synthWord(700) + " "}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ix.Search(q)
		}
	})
}
