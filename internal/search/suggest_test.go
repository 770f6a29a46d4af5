package search

import (
	"fmt"
	"slices"
	"testing"
)

func suggestDocs() []Doc {
	return append(filler(20),
		Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix", People: []string{"Lana Wachowski"}, Year: 1999},
		Doc{ID: "tt0234215", Type: "movie", Title: "The Matrix Reloaded", Year: 2003},
		Doc{ID: "tt0242653", Type: "movie", Title: "The Matrix Revolutions", Year: 2003},
		Doc{ID: "moma-1", Type: "artwork", Title: "Matrix Study", Year: 1970},
		Doc{ID: "tt-plot", Type: "movie", Title: "Hackers", Text: "a matrix of lies", Year: 1995},
		Doc{ID: "tt-people", Type: "movie", Title: "Bound", People: []string{"Matrixa Person"}},
		Doc{ID: "tie-b", Type: "movie", Title: "Mattress Pro"},
		Doc{ID: "tie-a", Type: "movie", Title: "Mattress Max"},
		Doc{ID: "tie-c", Type: "movie", Title: "Mattress Pros"},
		Doc{ID: "zoe", Type: "artwork", Title: "Zoë in the Garden"},
	)
}

func suggestIDs(ss []Suggestion) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

func TestSuggest(t *testing.T) {
	ix := NewIndex(BuildSegment(suggestDocs()))
	tests := []struct {
		name   string
		prefix string
		typ    string
		limit  int
		want   []string // in order
	}{
		{"the matr", "the matr", "", 0, []string{"tt0133093", "moma-1", "tt0234215", "tt0242653"}},
		{"prefix only in titles", "matr", "", 0, []string{"tt0133093", "moma-1", "tt0234215", "tt0242653"}},
		{"type filter", "matr", "artwork", 0, []string{"moma-1"}},
		{"unknown type", "matr", "book", 0, nil},
		{"all words must match", "matrix rel", "", 0, []string{"tt0234215"}},
		{"one title word for two query words", "matrix matr", "", 0, []string{"tt0133093", "moma-1", "tt0234215", "tt0242653"}},
		{"earlier word typo", "matirx rev", "", 0, []string{"tt0242653"}},
		{"last word typo", "the matrix relaoded", "", 0, []string{"tt0234215"}},
		{"complete word", "matrix study ", "", 0, []string{"moma-1"}},
		{"no prefix after space", "matr ", "", 0, nil},
		{"no match", "matrix zebra", "", 0, nil},
		{"plot words do not count", "lies", "", 0, nil},
		{"limit", "matr", "", 2, []string{"tt0133093", "moma-1"}},
		{"tie: shorter title, then ID", "mattress pr", "", 0, []string{"tie-b", "tie-c"}},
		{"tie: same length, by ID", "mattress", "", 0, []string{"tie-a", "tie-b", "tie-c"}},
		{"accents", "zoe gar", "", 0, []string{"zoe"}},
		{"empty", "", "", 0, nil},
		{"stop words only", "the ", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Suggest(tt.prefix, tt.typ, tt.limit)
			if ids := suggestIDs(got); !slices.Equal(ids, tt.want) {
				t.Fatalf("Suggest(%q, %q, %d) = %v, want %v", tt.prefix, tt.typ, tt.limit, ids, tt.want)
			}
			for i, s := range got {
				if s.Score <= 0 || i > 0 && s.Score > got[i-1].Score {
					t.Fatalf("bad scores %+v", got)
				}
			}
		})
	}
	if s := ix.Suggest("the matr", "", 0)[0]; s.Title != "The Matrix" || s.Type != "movie" {
		t.Fatalf("first suggestion %+v", s)
	}
}

func TestSuggestLimits(t *testing.T) {
	var docs []Doc
	for i := range 50 {
		docs = append(docs, Doc{ID: fmt.Sprintf("d%02d", i), Type: "movie", Title: fmt.Sprintf("Alpha %d", i)})
	}
	ix := NewIndex(BuildSegment(docs))
	for limit, want := range map[int]int{0: DefaultSuggestLimit, -3: DefaultSuggestLimit, 5: 5, 20: 20, 21: MaxSuggestLimit, 1000: MaxSuggestLimit} {
		if got := len(ix.Suggest("alp", "", limit)); got != want {
			t.Errorf("limit %d: %d suggestions, want %d", limit, got, want)
		}
	}
	if got := NewIndex().Suggest("alp", "", 0); got != nil {
		t.Errorf("empty index: %v", got)
	}
	// Equal scores and title lengths: ordered by ID.
	got := suggestIDs(ix.Suggest("alpha", "", 5))
	if want := []string{"d00", "d01", "d02", "d03", "d04"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSuggestEquivalence(t *testing.T) {
	docs := synthCorpus(800, 13)
	one := NewIndex(BuildSegment(docs))
	many := NewIndex(splitSegments(t, docs, []int{100, 101, 450})...)
	w := synthWord
	typoed := ""
	for _, d := range docs {
		if toks := Tokenize(d.Title); len(toks) >= 2 && len(toks[0]) >= 6 && len(toks[1]) >= 2 {
			typoed = synthTypo(one, toks[0]) + " " + toks[1][:2]
			break
		}
	}
	for _, p := range []string{w(2)[:2], w(40)[:3], w(3) + " " + w(5)[:2], Tokenize(docs[7].Title)[0], typoed} {
		for _, typ := range []string{"", "artwork"} {
			a, b := one.Suggest(p, typ, 20), many.Suggest(p, typ, 20)
			if len(a) == 0 && typ == "" {
				t.Fatalf("%q: no suggestions; useless test", p)
			}
			if len(a) != len(b) {
				t.Fatalf("%q: %d vs %d suggestions", p, len(a), len(b))
			}
			for i := range a {
				if a[i].ID != b[i].ID || a[i].Title != b[i].Title || a[i].Type != b[i].Type || abs(a[i].Score-b[i].Score) > 1e-9 {
					t.Fatalf("%q: suggestion %d differs: %+v vs %+v", p, i, a[i], b[i])
				}
			}
		}
	}
}

func abs(x float64) float64 { return max(x, -x) }
