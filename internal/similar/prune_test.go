package similar

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
)

// demoDocs maps the generated demo catalog to documents as BuildSimilarity does.
func demoDocs(n int) []Doc {
	var docs []Doc
	_ = demo.Records(demo.Options{Movies: n / 2, Artworks: n / 2, Seed: 9}, func(r domain.Record) error {
		if m := r.Movie; m != nil {
			docs = append(docs, Doc{ID: m.ID, Type: "movie", Title: m.Title, Text: m.Plot, Tags: m.Genres, People: append(append([]string{}, m.Directors...), m.Cast...)})
		}
		if w := r.Artwork; w != nil {
			docs = append(docs, Doc{ID: w.ID, Type: "artwork", Title: w.Title, Text: w.Description,
				Tags: slices.DeleteFunc([]string{w.Medium, w.Classification}, func(s string) bool { return s == "" }), People: w.Artists})
		}
		return nil
	})
	return docs
}

func TestBoundedWithAmpleBudgetIsExact(t *testing.T) {
	for name, docs := range map[string][]Doc{"synthetic": synthDocs(3000, 7), "demo": demoDocs(3000)} {
		m := Build(docs)
		exact := m.NeighborsShard(0, 1, Options{})
		bounded := m.NeighborsShard(0, 1, Options{MaxPostings: 1 << 30, Rescore: 1 << 30, alwaysBound: true})
		for id, want := range exact {
			if got := bounded[id]; !slices.Equal(got, want) {
				t.Fatalf("%s %s: bounded %v, exact %v", name, id, got, want)
			}
		}
	}
}

// recall is the share of the exact neighbours' places that got scores at least the
// exact K-th score (ties at the K-th place are common).
func recall(exact, got map[string][]Neighbor) float64 {
	hit, total := 0, 0
	for id, want := range exact {
		if len(want) == 0 {
			continue
		}
		kth := want[len(want)-1].Score
		h := 0
		for _, n := range got[id] {
			if n.Score >= kth-1e-9 {
				h++
			}
		}
		hit += min(h, len(want))
		total += len(want)
	}
	return float64(hit) / float64(total)
}

func TestBoundedRecall(t *testing.T) {
	docs := demoDocs(20000)
	m := Build(docs)
	exact := m.NeighborsShard(0, 7, Options{})
	bounded := m.NeighborsShard(0, 7, Options{MaxPostings: 5000, alwaysBound: true})
	r := recall(exact, bounded)
	t.Logf("recall@10 with 5,000 postings per query at 20k items: %.4f", r)
	if r < 0.95 {
		t.Fatalf("recall@10 %.4f, want ≥ 0.95", r)
	}
	// Every returned score is the exact score of that pair.
	for id, ns := range bounded {
		for _, n := range ns {
			all, _ := m.Neighbors(id, Options{K: len(docs), MinScore: -1})
			i := slices.IndexFunc(all, func(x Neighbor) bool { return x.ID == n.ID })
			if i < 0 || all[i].Score != n.Score {
				t.Fatalf("%s → %s: bounded score %v is not the exact one", id, n.ID, n.Score)
			}
		}
		break
	}
	// A tiny budget costs recall: the budget is really applied.
	if r := recall(exact, m.NeighborsShard(0, 7, Options{MaxPostings: 1, Rescore: 10})); r > 0.9 {
		t.Fatalf("recall %.4f with one posting per query: the budget is not applied", r)
	}
}

func TestQuickselect(t *testing.T) {
	v := []float64{0.3, 0.9, 0.1, 0.5, 0.5, 0.7, 0.2}
	sorted := slices.Clone(v)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	for k := range v {
		if got := quickselect(slices.Clone(v), k); got != sorted[k] {
			t.Fatalf("k=%d: %v, want %v", k, got, sorted[k])
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for name, docs := range map[string][]Doc{"synthetic": synthDocs(2000, 3), "demo": demoDocs(2000), "empty": nil} {
		m := Build(docs)
		var buf bytes.Buffer
		if err := m.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Len() != m.Len() {
			t.Fatalf("%s: %d documents, want %d", name, got.Len(), m.Len())
		}
		for _, o := range []Options{{}, {MaxPostings: 500}} {
			want, have := m.NeighborsShard(1, 3, o), got.NeighborsShard(1, 3, o)
			if len(want) != len(have) {
				t.Fatalf("%s: %d results, want %d", name, len(have), len(want))
			}
			for id, ns := range want {
				if !slices.Equal(have[id], ns) {
					t.Fatalf("%s %s: decoded %v, built %v", name, id, have[id], ns)
				}
			}
		}
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	m := Build(synthDocs(200, 1))
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"empty":     nil,
		"not model": []byte("hello world, not a model"),
		"truncated": buf.Bytes()[:buf.Len()/2],
	} {
		if _, err := Decode(bytes.NewReader(in)); err == nil || !strings.Contains(err.Error(), "similarity model") {
			t.Errorf("%s: err %v, want a similarity model error", name, err)
		}
	}
}
