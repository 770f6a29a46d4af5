package events

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// testCatalog returns n items, alternating movies with genres and artworks with mediums.
func testCatalog(n int) []Item {
	genres := []string{"Drama", "Comedy", "Thriller", "Documentary", "Animation", "Horror", "Romance"}
	mediums := []string{"Painting", "Photograph", "Sculpture", "Print", "Drawing"}
	items := make([]Item, n)
	for i := range items {
		if i%2 == 0 {
			items[i] = Item{ID: fmt.Sprintf("tt%07d", i), Type: ItemTypeMovie,
				Categories: []string{genres[i%len(genres)], genres[(i/3)%len(genres)]}}
		} else {
			items[i] = Item{ID: fmt.Sprintf("moma-w-%d", i), Type: ItemTypeArtwork,
				Categories: []string{mediums[i%len(mediums)]}}
		}
	}
	return items
}

func generate(t *testing.T, items []Item, opts GeneratorOptions, n int) []Event {
	t.Helper()
	g, err := NewGenerator(items, opts)
	if err != nil {
		t.Fatalf("NewGenerator: %v", err)
	}
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	out := make([]Event, n)
	for i := range out {
		out[i] = g.Next(now)
		now = now.Add(37 * time.Millisecond)
	}
	return out
}

func TestNewGeneratorErrors(t *testing.T) {
	items := testCatalog(4)
	tests := []struct {
		name  string
		items []Item
		opts  GeneratorOptions
	}{
		{"no items", nil, GeneratorOptions{}},
		{"item without id", []Item{{Type: ItemTypeMovie}}, GeneratorOptions{}},
		{"item with bad type", []Item{{ID: "x", Type: "book"}}, GeneratorOptions{}},
		{"negative users", items, GeneratorOptions{Users: -1}},
		{"zipf s not above 1", items, GeneratorOptions{ZipfS: 1}},
		{"bad country", items, GeneratorOptions{Countries: []string{"US", "usa"}}},
	}
	for _, tt := range tests {
		if _, err := NewGenerator(tt.items, tt.opts); err == nil {
			t.Errorf("%s: NewGenerator succeeded, want error", tt.name)
		}
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	items := testCatalog(300)
	a := generate(t, items, GeneratorOptions{Seed: 42}, 2000)
	b := generate(t, items, GeneratorOptions{Seed: 42}, 2000)
	if !slices.Equal(a, b) {
		t.Fatal("same seed produced different events")
	}
	c := generate(t, items, GeneratorOptions{Seed: 43}, 2000)
	if slices.Equal(a, c) {
		t.Fatal("different seeds produced the same events")
	}
	if a[0].ID == c[0].ID {
		t.Errorf("different seeds produced the same event id %q", a[0].ID)
	}
}

func TestGeneratorDoesNotAliasItems(t *testing.T) {
	items := testCatalog(10)
	g, err := NewGenerator(items, GeneratorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		items[i].ID = ""
		items[i].Categories[0] = ""
	}
	for range 500 {
		if e := g.Next(time.Now()); e.Validate() != nil {
			t.Fatalf("event invalid after caller mutated items: %+v", e)
		}
	}
}

func TestGeneratorOneItem(t *testing.T) {
	for _, e := range generate(t, []Item{{ID: "only", Type: ItemTypeArtwork}}, GeneratorOptions{Users: 3}, 500) {
		if err := e.Validate(); err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
	}
}

func TestGeneratorDistribution(t *testing.T) {
	const n = 20000
	items := testCatalog(1000)
	evs := generate(t, items, GeneratorOptions{Seed: 7}, n)

	ids := make(map[string]bool, n)
	byType := map[Type]int{}
	views := map[string]int{}
	countries := map[string]int{}
	sessions := map[string]map[string]int{} // user -> session -> events
	viewed := map[string]map[string]bool{}  // user -> items seen so far
	var purchases, purchasesViewed int
	searches := map[string]map[string]int{} // user -> category -> searches
	bought := map[string]bool{}
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Fatalf("generated invalid event %+v: %v", e, err)
		}
		b, err := e.Encode()
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if d, err := Decode(b); err != nil || d != e {
			t.Fatalf("roundtrip of generated event: %+v, %v; want %+v", d, err, e)
		}
		if ids[e.ID] {
			t.Fatalf("duplicate event id %q", e.ID)
		}
		ids[e.ID] = true
		byType[e.Type]++
		countries[e.Country]++
		if sessions[e.UserID] == nil {
			sessions[e.UserID] = map[string]int{}
			viewed[e.UserID] = map[string]bool{}
			searches[e.UserID] = map[string]int{}
		}
		sessions[e.UserID][e.Session]++
		switch e.Type {
		case TypeView:
			views[e.ItemID]++
			viewed[e.UserID][e.ItemID] = true
		case TypeClick:
			viewed[e.UserID][e.Target] = true
		case TypePurchase:
			purchases++
			bought[e.UserID] = true
			if viewed[e.UserID][e.ItemID] {
				purchasesViewed++
			}
		case TypeSearch:
			searches[e.UserID][e.Category]++
		}
	}

	want := map[Type]float64{TypeView: 55, TypeClick: 15, TypeSearch: 12, TypeCollect: 8, TypeUpload: 5, TypePurchase: 5}
	for typ, pct := range want {
		got := 100 * float64(byType[typ]) / n
		if math.Abs(got-pct) > 2 {
			t.Errorf("%s: %.2f%% of events, want %.0f%% ± 2", typ, got, pct)
		}
		t.Logf("%-8s %5.2f%%", typ, got)
	}

	// Popularity: the top 1% of items get a large share of views.
	counts := make([]int, 0, len(views))
	for _, c := range views {
		counts = append(counts, c)
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, c := range counts[:len(items)/100] {
		top += c
	}
	share := float64(top) / float64(byType[TypeView])
	t.Logf("top 1%% of items: %.1f%% of views", 100*share)
	if share < 0.2 {
		t.Errorf("top 1%% of items get %.1f%% of views, want >= 20%%", 100*share)
	}

	// Countries: the most common dominates.
	if us := float64(countries["US"]) / n; us < 0.2 {
		t.Errorf("US has %.1f%% of events, want the largest share", 100*us)
	}

	// Sessions: no session runs past 30 events, and users have several.
	multi := 0
	for _, ss := range sessions {
		for s, c := range ss {
			if c > sessionMax {
				t.Errorf("session %s has %d events", s, c)
			}
		}
		if len(ss) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no user had more than one session")
	}

	// Purchases are mostly of viewed items.
	if frac := float64(purchasesViewed) / float64(purchases); frac < 0.6 {
		t.Errorf("%.0f%% of purchases were of viewed items, want most", 100*frac)
	}

	// Some users search one category many times and never buy.
	repeat := 0
	for u, cats := range searches {
		for _, c := range cats {
			if c >= 5 && !bought[u] {
				repeat++
				break
			}
		}
	}
	t.Logf("users searching one category >= 5 times without buying: %d", repeat)
	if repeat < 3 {
		t.Errorf("only %d users searched one category >= 5 times without buying", repeat)
	}
}

func TestGeneratorClicksFollowPreviousItem(t *testing.T) {
	evs := generate(t, testCatalog(200), GeneratorOptions{Seed: 3, Users: 50}, 5000)
	last := map[string]string{} // user -> last item seen
	follow, clicks := 0, 0
	for _, e := range evs {
		switch e.Type {
		case TypeClick:
			if e.Source == e.Target {
				t.Fatalf("click source equals target: %+v", e)
			}
			clicks++
			if last[e.UserID] == e.Source {
				follow++
			}
			last[e.UserID] = e.Target
		case TypeView, TypeCollect, TypePurchase:
			last[e.UserID] = e.ItemID
		}
	}
	if frac := float64(follow) / float64(clicks); frac < 0.9 {
		t.Errorf("%.0f%% of clicks start from the user's previous item, want nearly all", 100*frac)
	}
}
