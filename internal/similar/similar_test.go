package similar

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// filler returns n unrelated documents of type typ, to give the corpus
// realistic document frequencies.
func filler(typ string, n int) []Doc {
	docs := make([]Doc, n)
	for i := range docs {
		docs[i] = Doc{
			ID:     fmt.Sprintf("%s-filler-%03d", typ, i),
			Type:   typ,
			Title:  fmt.Sprintf("Filler title%d", i),
			Text:   fmt.Sprintf("unique%d words%d here%d", i, i, i),
			Tags:   []string{fmt.Sprintf("genre%d", i%7)},
			People: []string{fmt.Sprintf("Person %d", i)},
		}
	}
	return docs
}

func mustNeighbors(t *testing.T, m *Model, id string, opts Options) []Neighbor {
	t.Helper()
	got, ok := m.Neighbors(id, opts)
	if !ok {
		t.Fatalf("Neighbors(%q): unknown id", id)
	}
	return got
}

func TestIdenticalDocsAreTopNeighbors(t *testing.T) {
	docs := filler("movie", 30)
	twin := Doc{
		Type:   "movie",
		Title:  "The Matrix",
		Text:   "A hacker learns the true nature of his reality.",
		Tags:   []string{"Science Fiction", "Action"},
		People: []string{"Lana Wachowski", "Lilly Wachowski", "Keanu Reeves"},
	}
	a, b := twin, twin
	a.ID, b.ID = "a", "b"
	docs = append(docs, a, b)
	m := Build(docs)
	if m.Len() != 32 {
		t.Fatalf("Len = %d, want 32", m.Len())
	}
	for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
		got := mustNeighbors(t, m, pair[0], Options{})
		if len(got) == 0 || got[0].ID != pair[1] {
			t.Fatalf("Neighbors(%q) = %v, want %q first", pair[0], got, pair[1])
		}
		if math.Abs(got[0].Score-1) > 1e-9 {
			t.Errorf("Neighbors(%q)[0].Score = %v, want ≈1", pair[0], got[0].Score)
		}
	}
}

func TestSharedDirectorBeatsSharedStopWords(t *testing.T) {
	docs := filler("movie", 40)
	docs = append(docs,
		Doc{ID: "q", Type: "movie", Title: "Heat", Text: "The man and the city of the night in the rain.",
			People: []string{"Michael Mann"}},
		Doc{ID: "director", Type: "movie", Title: "Collateral", Text: "A cab driver drives a hitman.",
			People: []string{"Michael Mann"}},
		Doc{ID: "stopwords", Type: "movie", Title: "Nothing Alike",
			Text: "The and the of the in the on the a to it is as at by from with for an"},
	)
	m := Build(docs)
	got := mustNeighbors(t, m, "q", Options{MinScore: -1, K: 50})
	if len(got) == 0 || got[0].ID != "director" {
		t.Fatalf("Neighbors(q) = %v, want director first", got)
	}
	for _, n := range got {
		if n.ID == "stopwords" {
			t.Errorf("stop-word-only overlap produced neighbour %v", n)
		}
	}
}

func TestSharedDirectorBeatsCommonWords(t *testing.T) {
	// Words present in most documents have a low IDF and are not used to
	// generate candidates; a shared director must still win.
	var docs []Doc
	for i := range 200 {
		docs = append(docs, Doc{
			ID: fmt.Sprintf("f%03d", i), Type: "movie",
			Title: fmt.Sprintf("Film%d", i), Text: fmt.Sprintf("story movie film plot u%d", i),
		})
	}
	docs = append(docs,
		Doc{ID: "q", Type: "movie", Title: "Heat", Text: "story movie film plot",
			People: []string{"Michael Mann"}},
		Doc{ID: "director", Type: "movie", Title: "Thief", Text: "safecracker",
			People: []string{"Michael Mann"}},
	)
	m := Build(docs)
	got := mustNeighbors(t, m, "q", Options{MinScore: -1, K: 5})
	if len(got) == 0 || got[0].ID != "director" {
		t.Fatalf("Neighbors(q) = %v, want director first", got)
	}
}

func TestPeopleAndTagsAreSingleTerms(t *testing.T) {
	docs := filler("movie", 20)
	docs = append(docs,
		Doc{ID: "q", Type: "movie", People: []string{"Lana Wachowski"}},
		// Same name in different case and accents: same person.
		Doc{ID: "same", Type: "movie", People: []string{"  LANA   Wachówski "}},
		// Shares one word of the name only: a different person.
		Doc{ID: "other", Type: "movie", People: []string{"Lana Turner"}},
	)
	m := Build(docs)
	got := mustNeighbors(t, m, "q", Options{MinScore: -1})
	want := []Neighbor{{ID: "same", Score: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Neighbors(q) = %v, want %v", got, want)
	}
}

func TestTypeSeparation(t *testing.T) {
	base := Doc{Title: "Sunflowers", Tags: []string{"Still Life"}, People: []string{"Vincent van Gogh"}}
	docs := append(filler("movie", 10), filler("artwork", 10)...)
	for _, x := range []struct{ id, typ string }{{"art1", "artwork"}, {"art2", "artwork"}, {"mov1", "movie"}, {"mov2", "movie"}} {
		d := base
		d.ID, d.Type = x.id, x.typ
		docs = append(docs, d)
	}
	m := Build(docs)
	typ := map[string]string{}
	for _, d := range docs {
		typ[d.ID] = d.Type
	}
	for _, id := range []string{"art1", "art2", "mov1", "mov2"} {
		got := mustNeighbors(t, m, id, Options{MinScore: -1, K: 100})
		if len(got) != 1 {
			t.Errorf("Neighbors(%q) = %v, want exactly the same-type twin", id, got)
		}
		for _, n := range got {
			if typ[n.ID] != typ[id] {
				t.Errorf("Neighbors(%q) includes %q of type %q", id, n.ID, typ[n.ID])
			}
		}
	}
}

func TestKAndMinScore(t *testing.T) {
	docs := synthDocs(500, 1)
	m := Build(docs)
	for _, opts := range []Options{{}, {K: 3}, {K: 1}, {K: 25, MinScore: 0.1}, {K: 1000, MinScore: -1}, {MinScore: 0.5}} {
		eff := opts.withDefaults()
		total := 0
		for _, d := range docs {
			got := mustNeighbors(t, m, d.ID, opts)
			total += len(got)
			if len(got) > eff.K {
				t.Fatalf("opts %+v: %d neighbours for %q, want <= %d", opts, len(got), d.ID, eff.K)
			}
			for i, n := range got {
				if n.Score < eff.MinScore {
					t.Fatalf("opts %+v: score %v < MinScore", opts, n.Score)
				}
				if n.Score <= 0 || n.Score > 1 {
					t.Fatalf("opts %+v: score %v out of (0, 1]", opts, n.Score)
				}
				if n.ID == d.ID {
					t.Fatalf("opts %+v: %q is its own neighbour", opts, d.ID)
				}
				if i > 0 {
					p := got[i-1]
					if p.Score < n.Score || p.Score == n.Score && p.ID >= n.ID {
						t.Fatalf("opts %+v: neighbours of %q not sorted: %v", opts, d.ID, got)
					}
				}
			}
		}
		if total == 0 && eff.MinScore <= 0.1 {
			t.Fatalf("opts %+v: no neighbours at all", opts)
		}
	}
	// A larger K extends a smaller K's list (same prefix).
	for _, d := range docs[:50] {
		small := mustNeighbors(t, m, d.ID, Options{K: 3})
		large := mustNeighbors(t, m, d.ID, Options{K: 20})
		if len(large) < len(small) || !reflect.DeepEqual(small, large[:len(small)]) {
			t.Fatalf("K=3 %v is not a prefix of K=20 %v", small, large)
		}
	}
}

func TestTieBreakByID(t *testing.T) {
	var docs []Doc
	for _, id := range []string{"d", "b", "q", "c", "a"} {
		docs = append(docs, Doc{ID: id, Type: "movie", People: []string{"Same Person"}})
	}
	m := Build(docs)
	got := mustNeighbors(t, m, "q", Options{K: 3})
	ids := make([]string, len(got))
	for i, n := range got {
		ids[i] = n.ID
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(ids, want) {
		t.Fatalf("neighbour IDs = %v, want %v", ids, want)
	}
}

func TestUnknownID(t *testing.T) {
	m := Build(filler("movie", 3))
	if got, ok := m.Neighbors("nope", Options{}); ok || got != nil {
		t.Fatalf("Neighbors(unknown) = %v, %v; want nil, false", got, ok)
	}
	empty := Build(nil)
	if empty.Len() != 0 {
		t.Fatalf("Build(nil).Len() = %d", empty.Len())
	}
	if got := empty.NeighborsShard(0, 1, Options{}); len(got) != 0 {
		t.Fatalf("empty NeighborsShard = %v", got)
	}
}

func TestDuplicateIDLastWins(t *testing.T) {
	docs := []Doc{
		{ID: "x", Type: "movie", People: []string{"Old Person"}},
		{ID: "y", Type: "movie", People: []string{"New Person"}},
		{ID: "z", Type: "movie", People: []string{"Old Person"}},
		{ID: "x", Type: "movie", People: []string{"New Person"}},
	}
	m := Build(docs)
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	got := mustNeighbors(t, m, "x", Options{})
	if len(got) != 1 || got[0].ID != "y" {
		t.Fatalf("Neighbors(x) = %v, want [y]", got)
	}
}

func TestDeterminism(t *testing.T) {
	docs := synthDocs(800, 7)
	m1 := Build(docs)
	want := m1.NeighborsShard(0, 1, Options{K: 15})

	// Same input, shuffled input, and concurrent queries all agree exactly.
	shuffled := slices.Clone(docs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	for i, in := range [][]Doc{docs, shuffled} {
		m := Build(in)
		if got := m.NeighborsShard(0, 1, Options{K: 15}); !reflect.DeepEqual(got, want) {
			t.Fatalf("build %d: results differ", i)
		}
	}

	var wg sync.WaitGroup
	errs := make([]string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(docs); i += 8 {
				got, _ := m1.Neighbors(docs[i].ID, Options{K: 15})
				if !reflect.DeepEqual(got, want[docs[i].ID]) {
					errs[g] = fmt.Sprintf("concurrent Neighbors(%q) = %v, want %v", docs[i].ID, got, want[docs[i].ID])
					return
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Fatal(e)
		}
	}
}

func TestSymmetricScores(t *testing.T) {
	docs := synthDocs(300, 3)
	m := Build(docs)
	all := m.NeighborsShard(0, 1, Options{K: 1000, MinScore: -1})
	for a, ns := range all {
		for _, n := range ns {
			var back float64
			for _, r := range all[n.ID] {
				if r.ID == a {
					back = r.Score
				}
			}
			if back != n.Score {
				t.Fatalf("score(%s,%s) = %v but score(%s,%s) = %v", a, n.ID, n.Score, n.ID, a, back)
			}
		}
	}
}

func TestShardUnionEqualsFull(t *testing.T) {
	docs := synthDocs(400, 11)
	m := Build(docs)
	opts := Options{K: 7}
	full := make(map[string][]Neighbor, m.Len())
	for _, d := range docs {
		full[d.ID] = mustNeighbors(t, m, d.ID, opts)
	}
	for shards := 1; shards <= 5; shards++ {
		union := make(map[string][]Neighbor)
		for shard := range shards {
			part := m.NeighborsShard(shard, shards, opts)
			for id, ns := range part {
				if _, dup := union[id]; dup {
					t.Fatalf("shards=%d: %q in two shards", shards, id)
				}
				union[id] = ns
			}
		}
		if !reflect.DeepEqual(union, full) {
			t.Fatalf("shards=%d: union of shards differs from full result", shards)
		}
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 3}, {3, 3}, {0, -2}} {
		if got := m.NeighborsShard(bad[0], bad[1], opts); len(got) != 0 {
			t.Errorf("NeighborsShard(%d, %d) returned %d docs, want 0", bad[0], bad[1], len(got))
		}
	}
}

// TestMatchesBruteForce checks the inverted-index search against a direct
// cosine over all pairs, where a pair qualifies when it shares at least one
// term that is not too common to generate candidates.
func TestMatchesBruteForce(t *testing.T) {
	docs := synthDocs(600, 5)
	m := Build(docs)
	for _, opts := range []Options{{K: 10, MinScore: -1}, {}, {K: 3, MinScore: 0.1}} {
		checkBruteForce(t, m, opts)
	}
}

func checkBruteForce(t *testing.T, m *Model, opts Options) {
	t.Helper()
	eff := opts.withDefaults()
	for i := range m.ids {
		var want []Neighbor
		for j := range m.ids {
			if i == j || m.types[i] != m.types[j] {
				continue
			}
			r := dot(m.rare[i], m.rare[j])
			if s := min(r+dot(m.commonOf(int32(i)), m.commonOf(int32(j))), 1); r > 0 && s >= eff.MinScore {
				want = append(want, Neighbor{ID: m.ids[j], Score: s})
			}
		}
		slices.SortFunc(want, func(a, b Neighbor) int {
			if a.Score != b.Score {
				if a.Score > b.Score {
					return -1
				}
				return 1
			}
			return strings.Compare(a.ID, b.ID)
		})
		want = want[:min(len(want), eff.K)]
		got := mustNeighbors(t, m, m.ids[i], opts)
		if len(got) != len(want) {
			t.Fatalf("%s: got %d neighbours, want %d", m.ids[i], len(got), len(want))
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("opts %+v: %s: got %v, want %v", opts, m.ids[i], got, want)
			}
		}
	}
}

func TestVectorsNormalized(t *testing.T) {
	m := Build(synthDocs(100, 9))
	for i := range m.ids {
		var sum float64
		for _, e := range m.rare[i] {
			sum += e.w * e.w
		}
		for _, e := range m.commonOf(int32(i)) {
			sum += e.w * e.w
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("%s: |v|² = %v", m.ids[i], sum)
		}
	}
}
