package search

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
)

func hitIDs(r Result) []string {
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	return ids
}

func scoreOf(t *testing.T, r Result, id string) float64 {
	t.Helper()
	for _, h := range r.Hits {
		if h.ID == id {
			return h.Score
		}
	}
	t.Fatalf("%s not in hits %v", id, hitIDs(r))
	return 0
}

// filler returns n neutral documents so that idf values are meaningful.
func filler(n int) []Doc {
	docs := make([]Doc, n)
	for i := range docs {
		docs[i] = Doc{ID: fmt.Sprintf("f%03d", i), Type: "movie", Title: fmt.Sprintf("filler %d", i), Text: "nothing to see here at all"}
	}
	return docs
}

func TestSearchRanking(t *testing.T) {
	docs := append(filler(20),
		Doc{ID: "title", Type: "movie", Title: "Dragon Tales", Text: "a quiet story about a village"},
		Doc{ID: "plot", Type: "movie", Title: "Village Tales", Text: "a quiet story about a dragon"},
		Doc{ID: "people", Type: "movie", Title: "Village Life", People: []string{"Dragon Smith"}, Text: "a quiet story about a village"},
		Doc{ID: "common", Type: "movie", Title: "Alpha", Text: "common words only here"},
		Doc{ID: "rare", Type: "movie", Title: "Beta", Text: "rareword words only here"},
		Doc{ID: "both", Type: "movie", Title: "Gamma", Text: "common rareword here"},
		Doc{ID: "exact", Type: "artwork", Title: "Alien Ship", Text: "space"},
		Doc{ID: "swapped", Type: "artwork", Title: "Ship Alien", Text: "space"},
	)
	for i := range 10 {
		docs = append(docs, Doc{ID: fmt.Sprintf("c%02d", i), Type: "movie", Title: fmt.Sprintf("Other %d", i), Text: "common filler words"})
	}
	ix := NewIndex(BuildSegment(docs))

	t.Run("title beats people beats plot", func(t *testing.T) {
		r := ix.Search(Query{Text: "dragon "})
		if got, want := hitIDs(r), []string{"title", "people", "plot"}; !slices.Equal(got, want) {
			t.Fatalf("hits = %v, want %v", got, want)
		}
		if r.Total != 3 {
			t.Fatalf("Total = %d, want 3", r.Total)
		}
	})
	t.Run("rare beats common and more terms win", func(t *testing.T) {
		r := ix.Search(Query{Text: "common rareword ", Limit: 20})
		ids := hitIDs(r)
		if len(ids) < 3 || ids[0] != "both" || ids[1] != "rare" {
			t.Fatalf("hits = %v, want both, rare, ...", ids)
		}
		if scoreOf(t, r, "rare") <= scoreOf(t, r, "common") {
			t.Fatalf("rare term did not outscore common term: %v", r.Hits)
		}
		if r.Total != 13 {
			t.Fatalf("Total = %d, want 13", r.Total)
		}
	})
	t.Run("exact title boost", func(t *testing.T) {
		r := ix.Search(Query{Text: "Alien Ship"})
		if ids := hitIDs(r); len(ids) != 2 || ids[0] != "exact" {
			t.Fatalf("hits = %v, want exact first", ids)
		}
		ratio := scoreOf(t, r, "exact") / scoreOf(t, r, "swapped")
		if math.Abs(ratio-1.5) > 1e-9 {
			t.Fatalf("exact/swapped score ratio = %v, want 1.5", ratio)
		}
		// Stop words do not prevent the boost: "the alien ship" tokenizes the same.
		r2 := ix.Search(Query{Text: "The alien ship "})
		if math.Abs(scoreOf(t, r2, "exact")-scoreOf(t, r, "exact")) > 1e-9 {
			t.Fatalf("stop word changed the score: %v vs %v", r2.Hits, r.Hits)
		}
	})
	t.Run("bm25 formula", func(t *testing.T) {
		// Recompute the score of "rare" for "rareword" by hand.
		n := float64(len(docs))
		df := 2.0 // rare, both
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		var totalText float64
		for _, d := range docs {
			totalText += float64(len(Tokenize(d.Text)))
		}
		avg := totalText / n
		norm := 1 - 0.75 + 0.75*4/avg // "rareword words only here": 4 tokens
		wtf := 1.0 / norm
		want := idf * wtf * 2.2 / (wtf + 1.2)
		got := scoreOf(t, ix.Search(Query{Text: "rareword "}), "rare")
		if math.Abs(got-want) > 1e-5*want {
			t.Fatalf("score = %v, want %v", got, want)
		}
	})
}

func TestSearchMatching(t *testing.T) {
	docs := append(filler(10),
		Doc{ID: "m1", Type: "movie", Title: "The Matrix", People: []string{"Lana Wachowski"}, Year: 1999},
		Doc{ID: "m2", Type: "movie", Title: "Matrixes and Tensors", Year: 2001},
		Doc{ID: "m3", Type: "movie", Title: "The The", Text: "a band documentary"},
		Doc{ID: "m4", Type: "movie", Title: "It", Year: 2017},
		Doc{ID: "a1", Type: "artwork", Title: "Zoë in the Garden", People: []string{"Claude Monet"}, Text: "oil on canvas", Year: 1876},
		Doc{ID: "a2", Type: "artwork", Title: "Matrix Study", Text: "ink", Year: 1960},
	)
	ix := NewIndex(BuildSegment(docs))
	tests := []struct {
		name  string
		q     Query
		want  []string // exact order when ordered, else as a set
		set   bool
		total int
	}{
		{"prefix", Query{Text: "matr"}, []string{"m1", "a2", "m2"}, true, 3},
		{"prefix two terms", Query{Text: "wachowski matr"}, []string{"m1", "a2", "m2"}, true, 3},
		{"no prefix after space", Query{Text: "matr "}, nil, false, 0},
		{"exact term no prefix after space", Query{Text: "matrix "}, []string{"m1", "a2"}, true, 2},
		{"exact term also prefix", Query{Text: "matrix"}, []string{"m1", "a2", "m2"}, true, 3},
		{"single char no prefix", Query{Text: "m"}, nil, false, 0},
		{"trailing stop word disables prefix", Query{Text: "matrix the"}, []string{"m1", "a2"}, true, 2},
		{"all stop words", Query{Text: "The The"}, []string{"m3"}, false, 1},
		{"single stop word", Query{Text: "it "}, []string{"m4"}, false, 1},
		{"accent folded query", Query{Text: "ZOE "}, []string{"a1"}, false, 1},
		{"accent folded doc", Query{Text: "zoë"}, []string{"a1"}, false, 1},
		{"people field", Query{Text: "monet"}, []string{"a1"}, false, 1},
		{"type filter", Query{Text: "matrix", Type: "artwork"}, []string{"a2"}, false, 1},
		{"type filter movies", Query{Text: "matrix", Type: "movie"}, []string{"m1", "m2"}, true, 2},
		{"unknown type", Query{Text: "matrix", Type: "book"}, nil, false, 0},
		{"no match", Query{Text: "zzzz "}, nil, false, 0},
		{"empty", Query{Text: ""}, nil, false, 0},
		{"punctuation only", Query{Text: " !?- "}, nil, false, 0},
		{"or semantics", Query{Text: "monet wachowski "}, []string{"a1", "m1"}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(tt.q)
			got := hitIDs(r)
			want := slices.Clone(tt.want)
			if tt.set {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) || r.Total != tt.total {
				t.Fatalf("Search(%+v) = %v (Total %d), want %v (Total %d)", tt.q, hitIDs(r), r.Total, tt.want, tt.total)
			}
		})
	}

	t.Run("hit fields", func(t *testing.T) {
		r := ix.Search(Query{Text: "monet"})
		h := r.Hits[0]
		if h.ID != "a1" || h.Type != "artwork" || h.Title != "Zoë in the Garden" || h.Year != 1876 || h.Score <= 0 {
			t.Fatalf("hit = %+v", h)
		}
	})
	t.Run("prefix weight", func(t *testing.T) {
		exact := scoreOf(t, ix.Search(Query{Text: "wachowski "}), "m1")
		prefix := scoreOf(t, ix.Search(Query{Text: "wachow"}), "m1")
		if math.Abs(prefix/exact-0.8) > 1e-6 {
			t.Fatalf("prefix/exact = %v, want 0.8", prefix/exact)
		}
	})
}

func TestPrefixExpansionCap(t *testing.T) {
	// Term preNN occurs in NN+1 documents; only the 50 most frequent
	// expansions (NN = 10..59) may be used.
	var docs []Doc
	for k := range 60 {
		for j := 0; j <= k; j++ {
			docs = append(docs, Doc{ID: fmt.Sprintf("d%02d-%02d", k, j), Type: "movie", Title: fmt.Sprintf("pre%02d", k)})
		}
	}
	ix := NewIndex(BuildSegment(docs))
	r := ix.Search(Query{Text: "pre", Limit: 100})
	want := 0
	for k := 10; k < 60; k++ {
		want += k + 1
	}
	if r.Total != want {
		t.Fatalf("Total = %d, want %d", r.Total, want)
	}
	r = ix.Search(Query{Text: "pre09 pre"})
	if r.Total != want+10 {
		t.Fatalf("explicit term plus prefix: Total = %d, want %d", r.Total, want+10)
	}
}

func TestSearchTiesAndPaging(t *testing.T) {
	var docs []Doc
	for i := range 137 {
		// Many exact ties (same text) plus some variety.
		text := "shared words"
		if i%3 == 0 {
			text = "shared words shared"
		}
		if i%5 == 0 {
			text += " longer text that dilutes the field"
		}
		docs = append(docs, Doc{ID: fmt.Sprintf("id%03d", (i*7919)%1000), Type: []string{"movie", "artwork"}[i%2], Title: "t", Text: text})
	}
	ix := NewIndex(BuildSegment(docs))

	full := ix.Search(Query{Text: "shared ", Limit: 1000})
	if full.Total != 137 || len(full.Hits) != MaxLimit {
		t.Fatalf("Total %d, %d hits; want 137 and %d (clamped)", full.Total, len(full.Hits), MaxLimit)
	}
	for i := 1; i < len(full.Hits); i++ {
		a, b := full.Hits[i-1], full.Hits[i]
		if a.Score < b.Score || a.Score == b.Score && a.ID >= b.ID {
			t.Fatalf("hits %d,%d out of order: %+v %+v", i-1, i, a, b)
		}
	}
	// Collect everything through pages and compare with one big sorted list.
	var paged []Hit
	for off := 0; off < 137; off += 9 {
		r := ix.Search(Query{Text: "shared ", Offset: off, Limit: 9})
		if r.Total != 137 {
			t.Fatalf("offset %d: Total %d", off, r.Total)
		}
		paged = append(paged, r.Hits...)
	}
	if len(paged) != 137 {
		t.Fatalf("paged %d hits, want 137", len(paged))
	}
	if !slices.Equal(paged[:MaxLimit], full.Hits) {
		t.Fatalf("pages disagree with the full list")
	}

	tests := []struct {
		name     string
		q        Query
		wantHits int
		first    int // index into paged of the first hit, -1 for none
	}{
		{"default limit", Query{Text: "shared "}, DefaultLimit, 0},
		{"negative limit", Query{Text: "shared ", Limit: -5}, DefaultLimit, 0},
		{"negative offset", Query{Text: "shared ", Offset: -3, Limit: 4}, 4, 0},
		{"last partial page", Query{Text: "shared ", Offset: 130, Limit: 20}, 7, 130},
		{"offset at end", Query{Text: "shared ", Offset: 137}, 0, -1},
		{"offset beyond end", Query{Text: "shared ", Offset: 1 << 30}, 0, -1},
		{"huge offset and limit", Query{Text: "shared ", Offset: math.MaxInt, Limit: math.MaxInt}, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(tt.q)
			if r.Total != 137 || len(r.Hits) != tt.wantHits {
				t.Fatalf("Total %d, %d hits; want 137, %d", r.Total, len(r.Hits), tt.wantHits)
			}
			if tt.first >= 0 && !slices.Equal(r.Hits, paged[tt.first:tt.first+tt.wantHits]) {
				t.Fatalf("hits differ from the paged list")
			}
		})
	}

	t.Run("type filter total and paging", func(t *testing.T) {
		r := ix.Search(Query{Text: "shared ", Type: "artwork", Limit: 100})
		if r.Total != 68 || len(r.Hits) != 68 {
			t.Fatalf("Total %d, %d hits; want 68", r.Total, len(r.Hits))
		}
		var want []Hit
		for _, h := range paged {
			if h.Type == "artwork" {
				want = append(want, h)
			}
		}
		if !slices.Equal(r.Hits, want) {
			t.Fatalf("filtered hits are not the artwork subsequence of the full list")
		}
	})
}

func TestEmptyIndex(t *testing.T) {
	for _, ix := range []*Index{NewIndex(), NewIndex(nil), NewIndex(BuildSegment(nil))} {
		if ix.Len() != 0 {
			t.Fatalf("Len = %d", ix.Len())
		}
		if r := ix.Search(Query{Text: "anything"}); r.Total != 0 || len(r.Hits) != 0 {
			t.Fatalf("Search on empty index = %+v", r)
		}
	}
}

// splitSegments builds one segment per chunk, passing each through
// MarshalBinary/UnmarshalSegment as the production pipeline does.
func splitSegments(t testing.TB, docs []Doc, cuts []int) []*Segment {
	var segs []*Segment
	prev := 0
	for _, c := range append(cuts, len(docs)) {
		b, err := BuildSegment(docs[prev:c]).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s, err := UnmarshalSegment(b)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
		prev = c
	}
	return segs
}

func TestSegmentsEquivalence(t *testing.T) {
	docs := synthCorpus(600, 42)
	docs = append(docs, Doc{ID: "zz-exact", Type: "movie", Title: docs[5].Title, Text: "unrelated",
		Tags: map[string][]string{"GENRE": {"drama", " Comedy"}, "medium": {"oil on canvas"}}})
	// The display form of a value is its first occurrence, wherever the
	// segments are cut.
	docs[3].Tags = map[string][]string{"genre": {"DRAMA"}, "Genre": {"crime"}}
	one := NewIndex(BuildSegment(docs))
	splits := map[string][]int{
		"two":           {300},
		"seven uneven":  {1, 50, 51, 200, 333, 590},
		"with empty":    {0, 0, 100, 100, 601},
		"single docs":   {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		"one roundtrip": nil,
	}
	queries := []Query{
		{Text: synthWord(2) + " "},
		{Text: synthWord(3) + " " + synthWord(150) + " "},
		{Text: synthWord(3) + " " + synthWord(150), Type: "artwork"},
		{Text: synthWord(700)[:3]},
		{Text: synthWord(31)[:2]},
		{Text: docs[5].Title},
		{Text: docs[17].People[0]},
		{Text: "Zoë"},
		{Text: synthWord(10) + " " + synthWord(11), Offset: 20, Limit: 30},
		{Text: synthWord(4), Type: "movie", Limit: 100},
		// Facets, filters and typos.
		{Text: synthWord(2) + " " + synthWord(3), Facets: []string{"type", "decade", "genre", "medium", "nationality", "unknown"}, FacetLimit: 50},
		{Text: synthWord(2) + " ", Filters: map[string][]string{"genre": {"drama", "COMEDY"}}, YearFrom: 1950, Facets: []string{"genre", "decade"}, Limit: 50},
		{Text: synthWord(3) + " ", Filters: map[string][]string{"type": {"artwork"}, "nationality": {"quebecois", "french"}}, Facets: []string{"medium"}},
		{Text: synthWord(3) + " " + synthWord(7) + " ", Filters: map[string][]string{"decade": {"1990s", "1920s"}}, Facets: []string{"decade"}},
		{Text: synthTypo(one, synthWord(150)) + " " + synthWord(3)[:2], Facets: []string{"genre"}},
		{Text: synthTypo(one, synthWord(700))},
	}
	for name, cuts := range splits {
		t.Run(name, func(t *testing.T) {
			many := NewIndex(splitSegments(t, docs, cuts)...)
			if many.Len() != one.Len() {
				t.Fatalf("Len %d vs %d", many.Len(), one.Len())
			}
			for _, q := range queries {
				a, b := one.Search(q), many.Search(q)
				if a.Total != b.Total || len(a.Hits) != len(b.Hits) {
					t.Fatalf("%+v: Total %d/%d, hits %d/%d", q, a.Total, b.Total, len(a.Hits), len(b.Hits))
				}
				if a.Total == 0 {
					t.Fatalf("%+v: no hits; test query is useless", q)
				}
				for i := range a.Hits {
					ha, hb := a.Hits[i], b.Hits[i]
					if ha.ID != hb.ID || ha.Type != hb.Type || ha.Title != hb.Title || ha.Year != hb.Year || math.Abs(ha.Score-hb.Score) > 1e-9 {
						t.Fatalf("%+v: hit %d differs: %+v vs %+v", q, i, ha, hb)
					}
				}
				if !reflect.DeepEqual(a.Facets, b.Facets) || a.Corrected != b.Corrected {
					t.Fatalf("%+v: facets or correction differ:\n%v %v\n%v %v", q, a.Facets, a.Corrected, b.Facets, b.Corrected)
				}
				if len(q.Facets) > 0 && len(a.Facets[q.Facets[0]]) == 0 {
					t.Fatalf("%+v: no facet values; test query is useless", q)
				}
			}
		})
	}
}

func TestConcurrentSearch(t *testing.T) {
	docs := synthCorpus(400, 7)
	ix := NewIndex(splitSegments(t, docs, []int{100, 250})...)
	queries := []Query{
		{Text: synthWord(2)},
		{Text: synthWord(3) + " " + synthWord(40) + " "},
		{Text: synthWord(5), Type: "artwork", Offset: 5},
		{Text: docs[9].Title},
		{Text: "ka"},
		{Text: synthWord(2), Facets: []string{"genre", "decade"}, Filters: map[string][]string{"genre": {"drama"}}},
		{Text: synthWord(3), YearFrom: 1950, YearTo: 2000, Facets: []string{"type"}},
		{Text: synthTypo(ix, synthWord(40)) + " " + synthWord(5)[:2], Filters: map[string][]string{"type": {"movie"}}},
	}
	want := make([]Result, len(queries))
	sugg := make([][]Suggestion, len(queries))
	for i, q := range queries {
		want[i] = ix.Search(q)
		sugg[i] = ix.Suggest(q.Text, "", 5)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				k := (g + i) % len(queries)
				got := ix.Search(queries[k])
				if !reflect.DeepEqual(got, want[k]) {
					errs <- fmt.Sprintf("goroutine %d query %d: got %+v, want %+v", g, k, got, want[k])
					return
				}
				if s := ix.Suggest(queries[k].Text, "", 5); !slices.Equal(s, sugg[k]) {
					errs <- fmt.Sprintf("goroutine %d query %d: suggestions %+v, want %+v", g, k, s, sugg[k])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
