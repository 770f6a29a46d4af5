package search

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func facetDocs() []Doc {
	docs := filler(10) // movies of unknown year, no tags
	return append(docs,
		Doc{ID: "m1", Type: "movie", Title: "The Godfather", Text: "mafia family saga", Year: 1972,
			Tags: map[string][]string{"genre": {"Crime", "Drama"}, "country": {"USA"}}},
		Doc{ID: "m2", Type: "movie", Title: "Goodfellas", Text: "mafia story", Year: 1990,
			Tags: map[string][]string{"genre": {"crime", "Biography"}, "country": {"USA"}}},
		Doc{ID: "m3", Type: "movie", Title: "Amélie", Text: "paris story", Year: 2001,
			Tags: map[string][]string{"genre": {"Comedy", "Romance"}, "country": {"France"}}},
		Doc{ID: "m4", Type: "movie", Title: "La Haine", Text: "paris banlieue story", Year: 1995,
			Tags: map[string][]string{"Genre": {" DRAMA "}, "country": {"France"}}},
		Doc{ID: "m5", Type: "movie", Title: "Mafia Untold", Text: "mafia documentary", Year: 0,
			Tags: map[string][]string{"genre": {"Documentary"}}},
		Doc{ID: "a1", Type: "artwork", Title: "Paris Street; Rainy Day", People: []string{"Gustave Caillebotte"}, Text: "paris story oil", Year: 1877,
			Tags: map[string][]string{"medium": {"Oil on canvas"}, "nationality": {"French"}}},
		Doc{ID: "a2", Type: "artwork", Title: "Québec Harbour", Text: "harbour story", Year: 1999,
			Tags: map[string][]string{"medium": {"Watercolor"}, "nationality": {"Québécois"}}},
		Doc{ID: "a3", Type: "artwork", Title: "Mafia Portrait", Text: "photo story", Year: 1990,
			Tags: map[string][]string{"medium": {"Gelatin silver print"}, "nationality": {"American"}, "type": {"photo"}, "decade": {"1800s"}}},
	)
}

func TestFilters(t *testing.T) {
	ix := NewIndex(BuildSegment(facetDocs()))
	tests := []struct {
		name string
		q    Query
		want []string // as a set
	}{
		{"no filter", Query{Text: "story "}, []string{"m2", "m3", "m4", "a1", "a2", "a3"}},
		{"type facet", Query{Text: "story ", Filters: map[string][]string{"type": {"ARTWORK"}}}, []string{"a1", "a2", "a3"}},
		{"type facet and Type", Query{Text: "story ", Type: "movie", Filters: map[string][]string{"type": {"artwork"}}}, nil},
		{"year from", Query{Text: "story ", YearFrom: 1995}, []string{"m3", "m4", "a2"}},
		{"year to", Query{Text: "story ", YearTo: 1990}, []string{"m2", "a1", "a3"}},
		{"year range inclusive", Query{Text: "story ", YearFrom: 1990, YearTo: 1995}, []string{"m2", "m4", "a3"}},
		{"year range empty", Query{Text: "story ", YearFrom: 1996, YearTo: 1998}, nil},
		{"year range inverted", Query{Text: "story ", YearFrom: 2000, YearTo: 1990}, nil},
		{"unknown year excluded", Query{Text: "mafia ", YearTo: 3000}, []string{"m1", "m2", "a3"}},
		{"unknown year without range", Query{Text: "mafia "}, []string{"m1", "m2", "m5", "a3"}},
		{"genre", Query{Text: "mafia ", Filters: map[string][]string{"genre": {"crime"}}}, []string{"m1", "m2"}},
		{"genre OR", Query{Text: "story paris mafia ", Filters: map[string][]string{"genre": {"Drama", "Comedy"}}}, []string{"m1", "m3", "m4"}},
		{"AND across facets", Query{Text: "story paris mafia ", Filters: map[string][]string{"genre": {"drama"}, "country": {"france"}}}, []string{"m4"}},
		{"AND with type and year", Query{Text: "story paris mafia ", Type: "movie", YearFrom: 1980, Filters: map[string][]string{"country": {"USA", "France"}}}, []string{"m2", "m3", "m4"}},
		{"case, accents and space", Query{Text: "story ", Filters: map[string][]string{" NATIONALITY": {"  quebecois "}}}, []string{"a2"}},
		{"accented filter value", Query{Text: "story ", Filters: map[string][]string{"nationality": {"frénch"}}}, []string{"a1"}},
		{"inner space collapsed", Query{Text: "story ", Filters: map[string][]string{"medium": {"oil   on\tcanvas"}}}, []string{"a1"}},
		{"decade", Query{Text: "story mafia ", Filters: map[string][]string{"decade": {"1990s"}}}, []string{"m2", "m4", "a2", "a3"}},
		{"decade and genre", Query{Text: "story mafia ", Filters: map[string][]string{"decade": {"1990S", "1970s"}, "genre": {"crime"}}}, []string{"m1", "m2"}},
		{"unknown facet", Query{Text: "story ", Filters: map[string][]string{"mood": {"sad"}}}, nil},
		{"unknown value", Query{Text: "story ", Filters: map[string][]string{"genre": {"western"}}}, nil},
		{"unknown and known values", Query{Text: "story ", Filters: map[string][]string{"genre": {"western", "comedy"}}}, []string{"m3"}},
		{"empty value list ignored", Query{Text: "story ", Filters: map[string][]string{"genre": {}}}, []string{"m2", "m3", "m4", "a1", "a2", "a3"}},
		{"reserved tag names ignored", Query{Text: "story ", Filters: map[string][]string{"type": {"photo"}}}, nil},
		{"reserved decade tag ignored", Query{Text: "story ", Filters: map[string][]string{"decade": {"1800s"}}}, nil},
		{"typo and filter", Query{Text: "mafai ", Filters: map[string][]string{"genre": {"crime"}}}, []string{"m1", "m2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Search(tt.q)
			got := hitIDs(r)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) || r.Total != len(want) {
				t.Fatalf("hits %v (Total %d), want %v", got, r.Total, want)
			}
			// Filters only remove hits: the scores are those of the unfiltered query.
			all := ix.Search(Query{Text: tt.q.Text, Limit: MaxLimit})
			for _, h := range r.Hits {
				if s := scoreOf(t, all, h.ID); s != h.Score {
					t.Fatalf("%s: filtered score %v, unfiltered %v", h.ID, h.Score, s)
				}
			}
		})
	}
}

func TestFilterPaging(t *testing.T) {
	docs := synthCorpus(3000, 11)
	ix := NewIndex(BuildSegment(docs))
	q := Query{Text: synthWord(2) + " " + synthWord(3) + " ", YearFrom: 1950, Filters: map[string][]string{"genre": {"drama", "comedy"}}, Limit: 100}
	full := ix.Search(q)
	if full.Total <= 100 {
		t.Fatalf("Total %d: query too selective for the test", full.Total)
	}
	var paged []Hit
	for off := 0; off < full.Total; off += 7 {
		q := q
		q.Offset, q.Limit = off, 7
		r := ix.Search(q)
		if r.Total != full.Total {
			t.Fatalf("offset %d: Total %d, want %d", off, r.Total, full.Total)
		}
		paged = append(paged, r.Hits...)
	}
	if len(paged) != full.Total || !slices.Equal(paged[:100], full.Hits) {
		t.Fatalf("paged %d hits; first 100 equal to the full page: %v", len(paged), slices.Equal(paged[:min(100, len(paged))], full.Hits))
	}
	q.Offset = full.Total
	if r := ix.Search(q); len(r.Hits) != 0 || r.Total != full.Total {
		t.Fatalf("offset at end: %d hits, Total %d", len(r.Hits), r.Total)
	}
}

// foldForTest is an independent reimplementation of the facet key folding
// for the values used in the tests.
func foldForTest(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ç", "c").Replace(s)
}

// bruteFacets computes Total and all facet counts of q by brute force
// (only for queries without prefix or typo matching).
func bruteFacets(docs []Doc, q Query) (int, map[string][]FacetCount) {
	qtoks := Tokenize(q.Text)
	counts := map[string]map[string]int{}
	shown := map[string]map[string]string{} // facet → key → first display value
	for _, name := range q.Facets {
		counts[name] = map[string]int{}
		shown[name] = map[string]string{}
	}
	values := func(d Doc, facet string) []string {
		switch facet {
		case "type":
			return []string{d.Type}
		case "decade":
			if d.Year == 0 {
				return nil
			}
			return []string{fmt.Sprintf("%ds", d.Year/10*10)}
		}
		var out []string
		for name, vals := range d.Tags {
			if foldForTest(name) == facet {
				out = append(out, vals...)
			}
		}
		return out
	}
	// Display values: first occurrence in document order over all docs.
	for _, d := range docs {
		for _, name := range q.Facets {
			for _, v := range values(d, foldForTest(name)) {
				if _, ok := shown[name][foldForTest(v)]; !ok {
					shown[name][foldForTest(v)] = v
				}
			}
		}
	}
	total := 0
	for _, d := range docs {
		dtoks := Tokenize(d.Title + " " + strings.Join(d.People, " ") + " " + d.Text)
		if !slices.ContainsFunc(qtoks, func(t string) bool { return slices.Contains(dtoks, t) }) {
			continue
		}
		if q.Type != "" && d.Type != q.Type {
			continue
		}
		if (q.YearFrom != 0 || q.YearTo != 0) && (d.Year == 0 || q.YearFrom != 0 && d.Year < q.YearFrom || q.YearTo != 0 && d.Year > q.YearTo) {
			continue
		}
		ok := true
		for name, accepted := range q.Filters {
			vals := values(d, foldForTest(name))
			if !slices.ContainsFunc(accepted, func(a string) bool {
				return slices.ContainsFunc(vals, func(v string) bool { return foldForTest(v) == foldForTest(a) })
			}) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		total++
		for _, name := range q.Facets {
			seen := map[string]bool{}
			for _, v := range values(d, foldForTest(name)) {
				if k := foldForTest(v); !seen[k] {
					seen[k] = true
					counts[name][k]++
				}
			}
		}
	}
	out := map[string][]FacetCount{}
	for _, name := range q.Facets {
		fcs := []FacetCount{}
		for k, n := range counts[name] {
			fcs = append(fcs, FacetCount{Value: shown[name][k], Count: n})
		}
		slices.SortFunc(fcs, func(a, b FacetCount) int {
			if c := cmp.Compare(b.Count, a.Count); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
		limit := q.FacetLimit
		if limit <= 0 {
			limit = DefaultFacetLimit
		}
		out[name] = fcs[:min(limit, len(fcs))]
	}
	return total, out
}

func TestFacetCountsBruteForce(t *testing.T) {
	docs := synthCorpus(2000, 5)
	// Mixed-case duplicates, so that display values and folding matter.
	docs[7].Tags["genre"] = append(docs[7].Tags["genre"], "DRAMA", "drama")
	docs[8].Tags = map[string][]string{"Genre": {"crime"}, "genre": {"Western"}}
	ix := NewIndex(BuildSegment(docs))
	w := synthWord
	all := []string{"type", "decade", "genre", "medium", "nationality"}
	queries := []Query{
		{Text: w(2) + " ", Facets: all, FacetLimit: 100},
		{Text: w(3) + " " + w(50) + " ", Facets: all, FacetLimit: 100},
		{Text: w(3) + " ", Facets: []string{"genre"}},
		{Text: w(3) + " ", Facets: []string{"decade"}, FacetLimit: 3},
		{Text: w(2) + " " + w(9) + " ", Type: "artwork", Facets: all, FacetLimit: 100},
		{Text: w(2) + " ", YearFrom: 1950, YearTo: 1990, Facets: all, FacetLimit: 100},
		{Text: w(2) + " " + w(4) + " ", Filters: map[string][]string{"genre": {"drama", "Crime"}}, Facets: all, FacetLimit: 100},
		{Text: w(2) + " " + w(4) + " ", Filters: map[string][]string{"genre": {"drama"}, "decade": {"1990s", "2000s"}}, Facets: all, FacetLimit: 100},
		{Text: w(2) + " ", Filters: map[string][]string{"type": {"artwork"}, "nationality": {"quebecois", "FRENCH"}}, Facets: all, FacetLimit: 100},
		{Text: w(5) + " ", Filters: map[string][]string{"medium": {"bronze"}, "nationality": {"dutch"}, "genre": {"war"}}, Facets: all},
	}
	for i, q := range queries {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := ix.Search(q)
			total, facets := bruteFacets(docs, q)
			if r.Total != total {
				t.Fatalf("Total %d, brute force %d", r.Total, total)
			}
			if !reflect.DeepEqual(r.Facets, facets) {
				t.Fatalf("facets\n got %v\nwant %v", r.Facets, facets)
			}
			if i < len(queries)-1 && total == 0 {
				t.Fatal("useless test query")
			}
		})
	}
}

func TestFacetResults(t *testing.T) {
	ix := NewIndex(BuildSegment(facetDocs()))
	r := ix.Search(Query{Text: "story mafia paris ", Facets: []string{"decade", "Genre", "type", "mood", "genre", "nationality"}, FacetLimit: 2})
	want := map[string][]FacetCount{
		"decade":      {{"1990s", 4}, {"1870s", 1}},
		"Genre":       {{"Crime", 2}, {"Drama", 2}},
		"genre":       {{"Crime", 2}, {"Drama", 2}},
		"type":        {{"movie", 5}, {"artwork", 3}},
		"mood":        {},
		"nationality": {{"American", 1}, {"French", 1}},
	}
	if !reflect.DeepEqual(r.Facets, want) {
		t.Fatalf("facets\n got %v\nwant %v", r.Facets, want)
	}
	// A query that matches nothing still lists the requested facets.
	for _, q := range []Query{
		{Text: "zzzzzz ", Facets: []string{"genre"}},
		{Text: "", Facets: []string{"genre"}},
		{Text: "story", Type: "book", Facets: []string{"genre"}},
		{Text: "story", Filters: map[string][]string{"genre": {"nope"}}, Facets: []string{"genre"}},
	} {
		r := ix.Search(q)
		if r.Total != 0 || !maps.EqualFunc(r.Facets, map[string][]FacetCount{"genre": {}}, slices.Equal) {
			t.Fatalf("%+v: %+v", q, r)
		}
	}
	if r := ix.Search(Query{Text: "story"}); r.Facets != nil {
		t.Fatalf("facets without request: %v", r.Facets)
	}
	// Facet counts do not depend on the page.
	r1 := ix.Search(Query{Text: "story mafia paris ", Facets: []string{"genre"}, Limit: 1})
	r2 := ix.Search(Query{Text: "story mafia paris ", Facets: []string{"genre"}, Offset: 100})
	if !reflect.DeepEqual(r1.Facets, r2.Facets) || len(r2.Hits) != 0 || len(r1.Hits) != 1 {
		t.Fatalf("facets depend on the page: %v vs %v", r1.Facets, r2.Facets)
	}
}

func TestDecadeKey(t *testing.T) {
	for y, want := range map[int32]string{0: "", 1999: "1990s", 1990: "1990s", 2000: "2000s", 7: "0s", -5: "-10s", -10: "-10s", -2147483648: "-2147483650s", 2147483647: "2147483640s"} {
		if got := decadeKey(y); got != want {
			t.Errorf("decadeKey(%d) = %q, want %q", y, got, want)
		}
	}
}

func TestFoldKey(t *testing.T) {
	var tok tokenizer
	for in, want := range map[string]string{
		"Oil on canvas":   "oil on canvas",
		"  Sci-Fi\t":      "sci-fi",
		"Québécois":       "quebecois",
		"Que\u0301bec":    "quebec",
		"a \u00a0 b\n c":  "a b c",
		"ÆRØ":             "ærø",
		"":                "",
		"   ":             "",
		"\xffbad\xfe":     "bad",
		"ΣΊΣΥΦΟΣ":         "σισυφοσ",
		"Film-Noir (US)!": "film-noir (us)!",
	} {
		if got := string(tok.foldKey(nil, in)); got != want {
			t.Errorf("foldKey(%q) = %q, want %q", in, got, want)
		}
	}
}
