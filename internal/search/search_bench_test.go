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
	synthTags(docs, seed)
	return docs
}

// Synthetic facet values (with a few accents and mixed case, so that
// folding matters).
var (
	synthGenres  = []string{"Drama", "Comedy", "Crime", "Action", "Thriller", "Romance", "Horror", "Documentary", "Sci-Fi", "Animation", "Adventure", "Fantasy", "Mystery", "Family", "War", "Western", "Musical", "History", "Biography", "Film-Noir"}
	synthMedia   = []string{"Oil on canvas", "Gelatin silver print", "Lithograph", "Watercolor", "Bronze", "Etching", "Ink on paper", "Photograph", "Woodcut", "Pastel"}
	synthNations = []string{"American", "French", "German", "Japanese", "Italian", "British", "Spanish", "Mexican", "Russian", "Québécois", "Dutch", "Swiss"}
)

// synthTags gives the documents facet values from their own random stream
// (so that the other fields do not depend on it): movies get one to three
// Zipf-distributed genres, artworks a medium and usually a nationality. A
// few documents get an unknown year.
func synthTags(docs []Doc, seed uint64) {
	r := rand.New(rand.NewPCG(seed^0x5bd1e995, seed))
	zGenre := rand.NewZipf(r, 1.3, 1, uint64(len(synthGenres)-1))
	for i := range docs {
		d := &docs[i]
		d.Tags = map[string][]string{}
		if d.Type == "movie" {
			for range 1 + r.IntN(3) {
				d.Tags["genre"] = append(d.Tags["genre"], synthGenres[zGenre.Uint64()])
			}
		} else {
			d.Tags["medium"] = []string{synthMedia[r.IntN(len(synthMedia))]}
			if r.IntN(5) > 0 {
				d.Tags["nationality"] = []string{synthNations[r.IntN(len(synthNations))]}
			}
		}
		if r.IntN(50) == 0 {
			d.Year = 0
		}
	}
}

// synthTypo returns w with two adjacent letters after the first swapped (one
// typo), choosing a position whose result is neither a word nor a word
// prefix of ix's dictionary.
func synthTypo(ix *Index, w string) string {
	for p := 1; p+1 < len(w); p++ {
		b := []byte(w)
		b[p], b[p+1] = b[p+1], b[p]
		if b[p] != b[p+1] && !ix.has(b) && !ix.hasPrefix(b) {
			return string(b)
		}
	}
	panic("no typo for " + w)
}

// synthTypo2 returns w with two substitutions (two typos) in its second
// half, not in ix's dictionary.
func synthTypo2(ix *Index, w string) string {
	b := []byte(w)
	b[len(b)-2] = 'q'
	b[len(b)-4] = 'x'
	if ix.has(b) || ix.hasPrefix(b) {
		panic("typo is a word: " + string(b))
	}
	return string(b)
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

// benchIndex builds the 100k-document index from four segments.
func benchIndex(b *testing.B) ([]Doc, *Index) {
	b.Helper()
	if testing.Short() {
		b.Skip("skipping 100k-doc corpus in -short mode")
	}
	docs := synthCorpus(benchDocs, 1)
	var segs []*Segment
	for i := 0; i < len(docs); i += len(docs) / 4 {
		segs = append(segs, BuildSegment(docs[i:min(i+len(docs)/4, len(docs))]))
	}
	return docs, NewIndex(segs...)
}

// longWord returns the first synthetic word from i on with at least n
// bytes.
func longWord(i, n int) string {
	for ; ; i++ {
		if w := synthWord(i); len(w) >= n {
			return w
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	docs, ix := benchIndex(b)
	w := synthWord
	typo := func(i int) string { return synthTypo(ix, w(i)) }
	no := false
	facets := []string{"type", "decade", "genre", "medium"}
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
		{"fuzzy-off-miss", []Query{{Text: typo(700) + " ", Fuzzy: &no}, {Text: typo(1300) + " ", Fuzzy: &no}}},
		{"fuzzy-1", []Query{{Text: typo(700) + " "}, {Text: typo(1300) + " "}, {Text: typo(5000) + " "}}},
		{"fuzzy-1-prefix", []Query{{Text: typo(700)}, {Text: typo(1300)}, {Text: typo(5000)}}},
		{"fuzzy-2", []Query{{Text: synthTypo2(ix, longWord(900, 9)) + " "}, {Text: synthTypo2(ix, longWord(9000, 10)) + " "}}},
		{"fuzzy-mixed", []Query{{Text: w(40) + " " + typo(700) + " "}, {Text: typo(4000) + " " + w(3000)}}},
		{"filtered", []Query{
			{Text: w(40) + " " + w(700) + " ", YearFrom: 1950, YearTo: 1999, Filters: map[string][]string{"genre": {"drama", "crime"}}},
			{Text: w(90) + " " + w(3000) + " ", Filters: map[string][]string{"type": {"Artwork"}, "nationality": {"quebecois", "French"}}},
		}},
		{"faceted", []Query{
			{Text: w(40) + " " + w(700) + " ", Facets: facets},
			{Text: w(90) + " " + w(3000) + " ", Facets: facets},
		}},
		{"faceted-common", []Query{{Text: w(2) + " ", Facets: facets}}},
		{"filtered-faceted", []Query{
			{Text: w(40) + " " + w(700) + " ", YearFrom: 1950, Filters: map[string][]string{"genre": {"Drama"}}, Facets: facets},
			{Text: typo(4000) + " " + w(3000), Filters: map[string][]string{"type": {"movie"}}, Facets: facets},
		}},
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

func BenchmarkSuggest(b *testing.B) {
	docs, ix := benchIndex(b)
	w := synthWord
	title := func(i, cut int) string { // first word and a prefix of the second
		toks := Tokenize(docs[i].Title)
		if len(toks) < 2 {
			return toks[0][:min(cut, len(toks[0]))]
		}
		return toks[0] + " " + toks[1][:min(cut, len(toks[1]))]
	}
	// A misspelled first title word and the start of the second.
	var typoed []string
	for i := 100; len(typoed) < 3; i += 997 {
		if toks := Tokenize(docs[i].Title); len(toks) >= 2 && len(toks[0]) >= 6 && len(toks[1]) >= 3 {
			typoed = append(typoed, synthTypo(ix, toks[0])+" "+toks[1][:3])
		}
	}
	cases := []struct {
		name     string
		prefixes []string
		typ      string
	}{
		{"prefix-2", []string{w(700)[:2], w(1300)[:2], "ka"}, ""},
		{"prefix-4", []string{w(700)[:4], w(1300)[:4], w(2000)[:4]}, ""},
		{"word-and-prefix", []string{title(123, 3), title(4567, 2), title(89012, 4)}, ""},
		{"typo-and-prefix", typoed, ""},
		{"typed", []string{w(700)[:3], w(1300)[:3]}, "artwork"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				n += len(ix.Suggest(c.prefixes[i%len(c.prefixes)], c.typ, 0))
				i++
			}
			b.ReportMetric(float64(n)/float64(i), "suggestions/op")
		})
	}
}

func BenchmarkTypoTrie(b *testing.B) {
	_, ix := benchIndex(b)
	b.ReportAllocs()
	var tr *termTrie
	for b.Loop() {
		tr = buildTrie(ix)
	}
	b.ReportMetric(float64(len(tr.label)), "nodes")
	b.ReportMetric(float64(len(ix.termEnd)), "terms")
}

func BenchmarkHighlight(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Highlight("Zoë in the Garden of Crème Brûlée: The Matrix Reloaded", "matirx zoe garde")
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
