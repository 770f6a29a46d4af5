package similar

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// synthDocs returns n synthetic documents of three types with Zipf-like
// vocabulary, genre and people distributions.
func synthDocs(n int, seed uint64) []Doc {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := rand.NewZipf(r, 1.1, 2, 20000)
	people := rand.NewZipf(r, 1.2, 4, 8000)
	types := []string{"movie", "artwork", "book"}
	docs := make([]Doc, n)
	var sb strings.Builder
	for i := range docs {
		sb.Reset()
		for range 2 + r.IntN(4) {
			fmt.Fprintf(&sb, "w%d ", words.Uint64())
		}
		title := sb.String()
		sb.Reset()
		for range 20 + r.IntN(60) {
			if r.IntN(5) == 0 {
				sb.WriteString("the ")
			}
			fmt.Fprintf(&sb, "w%d ", words.Uint64())
		}
		tags := make([]string, 1+r.IntN(3))
		for j := range tags {
			tags[j] = fmt.Sprintf("Genre %d", r.IntN(40))
		}
		ppl := make([]string, 1+r.IntN(5))
		for j := range ppl {
			ppl[j] = fmt.Sprintf("First%d Last%d", people.Uint64(), j%3)
		}
		docs[i] = Doc{
			ID:     fmt.Sprintf("doc-%06d", i),
			Type:   types[i%len(types)],
			Title:  title,
			Text:   sb.String(),
			Tags:   tags,
			People: ppl,
		}
	}
	return docs
}

func BenchmarkBuildAndNeighbors(b *testing.B) {
	const n = 20000
	docs := synthDocs(n, 42)
	for b.Loop() {
		m := Build(docs)
		_ = m.NeighborsShard(0, 1, Options{})
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkBuild(b *testing.B) {
	const n = 20000
	docs := synthDocs(n, 42)
	for b.Loop() {
		_ = Build(docs)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkNeighborsShard(b *testing.B) {
	const n = 20000
	m := Build(synthDocs(n, 42))
	for b.Loop() {
		_ = m.NeighborsShard(0, 1, Options{})
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
}
