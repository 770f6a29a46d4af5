package adtarget

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

const day = 24 * time.Hour

// searchesAt returns one search by user in cat at each of the times.
func searchesAt(user, cat string, at ...time.Time) []Search {
	out := make([]Search, len(at))
	for i, t := range at {
		out[i] = Search{UserID: user, Category: cat, Query: fmt.Sprintf("q%d", i), At: t}
	}
	return out
}

func TestThresholdExactlyAtMinSearches(t *testing.T) {
	opts := Options{Now: now}
	two := searchesAt("u1", "shoes", ago(3*day), ago(2*day))
	if got := Targets(two, nil, nil, opts); got != nil {
		t.Fatalf("2 searches: got %v, want none", got)
	}
	three := searchesAt("u1", "shoes", ago(3*day), ago(2*day), ago(time.Hour))
	want := []Target{{UserID: "u1", Category: "shoes", Searches: 3, LastSearch: ago(time.Hour), Products: []string{}}}
	if got := Targets(three, nil, nil, opts); !reflect.DeepEqual(got, want) {
		t.Fatalf("3 searches: got %+v, want %+v", got, want)
	}
	// A custom threshold.
	opts.MinSearches = 4
	if got := Targets(three, nil, nil, opts); got != nil {
		t.Fatalf("MinSearches 4: got %v, want none", got)
	}
	opts.MinSearches = 1
	if got := Targets(two, nil, nil, opts); len(got) != 1 || got[0].Searches != 2 {
		t.Fatalf("MinSearches 1: got %v", got)
	}
}

func TestPurchaseDisqualifies(t *testing.T) {
	ss := searchesAt("u1", "Shoes", ago(5*day), ago(4*day), ago(3*day))
	cases := []struct {
		name     string
		p        Purchase
		targeted bool
	}{
		{"after the searches", Purchase{UserID: "u1", ItemID: "s1", Category: "shoes", At: ago(day)}, false},
		{"before the searches, in window", Purchase{UserID: "u1", ItemID: "s1", Category: "shoes", At: ago(6 * day)}, false},
		{"between the searches", Purchase{UserID: "u1", ItemID: "s1", Category: "SHOES ", At: ago(4*day + time.Hour)}, false},
		{"at the window start", Purchase{UserID: "u1", ItemID: "s1", Category: "shoes", At: ago(7 * day)}, false},
		{"at now", Purchase{UserID: "u1", ItemID: "s1", Category: "shoes", At: now}, false},
		{"before the window", Purchase{UserID: "u1", ItemID: "s1", Category: "shoes", At: ago(7*day + time.Second)}, true},
		{"after now", Purchase{UserID: "u1", ItemID: "s1", Category: "shoes", At: now.Add(time.Second)}, true},
		{"other category", Purchase{UserID: "u1", ItemID: "h1", Category: "hats", At: ago(day)}, true},
		{"other user", Purchase{UserID: "u2", ItemID: "s1", Category: "shoes", At: ago(day)}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Targets(ss, []Purchase{c.p}, nil, Options{Now: now})
			if (len(got) == 1) != c.targeted {
				t.Fatalf("got %v, targeted want %v", got, c.targeted)
			}
		})
	}
}

func TestWindowBoundary(t *testing.T) {
	opts := Options{Now: now, Window: 2 * day}
	// Searches exactly at Now-Window and at Now count; just outside do not.
	in := searchesAt("u", "tv", ago(2*day), ago(day), now)
	got := Targets(in, nil, nil, opts)
	if len(got) != 1 || got[0].Searches != 3 || !got[0].LastSearch.Equal(now) {
		t.Fatalf("boundaries included: got %+v", got)
	}
	out := searchesAt("u", "tv", ago(2*day+time.Nanosecond), ago(day), now)
	if got := Targets(out, nil, nil, opts); got != nil {
		t.Fatalf("search before window counted: %+v", got)
	}
	future := searchesAt("u", "tv", ago(day), now, now.Add(time.Nanosecond))
	if got := Targets(future, nil, nil, opts); got != nil {
		t.Fatalf("search after now counted: %+v", got)
	}
	// Extra searches outside the window do not count towards Searches or
	// LastSearch.
	mixed := append(searchesAt("u", "tv", ago(30*day), ago(1*day), ago(20*time.Hour), ago(10*time.Hour)),
		searchesAt("u", "tv", now.Add(day))...)
	got = Targets(mixed, nil, nil, opts)
	if len(got) != 1 || got[0].Searches != 3 || !got[0].LastSearch.Equal(ago(10*time.Hour)) {
		t.Fatalf("mixed: got %+v", got)
	}
	// Default window is 7 days.
	week := searchesAt("u", "tv", ago(7*day), ago(6*day), ago(5*day))
	if got := Targets(week, nil, nil, Options{Now: now}); len(got) != 1 {
		t.Fatalf("default window: got %+v", got)
	}
	week[0].At = ago(7*day + time.Second)
	if got := Targets(week, nil, nil, Options{Now: now}); got != nil {
		t.Fatalf("default window: got %+v", got)
	}
}

func TestProducts(t *testing.T) {
	ss := searchesAt("u1", "Laptops", ago(3*day), ago(2*day), ago(day))
	pop := Popularity{
		"laptops": {"l1", "l2", "l3", "l2", "", "l4", "l5", "l6", "l7"},
		"phones":  {"p1"},
	}
	purchases := []Purchase{
		// Bought long ago (outside the window): excluded from products
		// but does not disqualify.
		{UserID: "u1", ItemID: "l1", Category: "laptops", At: ago(60 * day)},
		// Bought in another category within the window: excluded.
		{UserID: "u1", ItemID: "l4", Category: "accessories", At: ago(day)},
		// Bought by someone else: not excluded.
		{UserID: "u2", ItemID: "l3", Category: "laptops", At: ago(day)},
		// Bought after now: ignored.
		{UserID: "u1", ItemID: "l5", Category: "laptops", At: now.Add(time.Hour)},
	}
	got := Targets(ss, purchases, pop, Options{Now: now})
	if len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
	if want := []string{"l2", "l3", "l5", "l6", "l7"}; !slices.Equal(got[0].Products, want) {
		t.Errorf("Products = %v, want %v", got[0].Products, want)
	}
	got = Targets(ss, purchases, pop, Options{Now: now, MaxProducts: 2})
	if want := []string{"l2", "l3"}; !slices.Equal(got[0].Products, want) {
		t.Errorf("MaxProducts 2: Products = %v, want %v", got[0].Products, want)
	}
	// Case-insensitive popularity keys; several keys for one category are
	// used in ascending key order.
	pop = Popularity{" LAPTOPS": {"a", "b"}, "Laptops": {"b", "c"}, "laptops": {"d"}}
	got = Targets(ss, nil, pop, Options{Now: now})
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(got[0].Products, want) {
		t.Errorf("merged keys: Products = %v, want %v", got[0].Products, want)
	}
	// No popularity data: still a target, with no products.
	got = Targets(ss, nil, nil, Options{Now: now})
	if len(got) != 1 || got[0].Products == nil || len(got[0].Products) != 0 {
		t.Errorf("no popularity: got %+v", got)
	}
}

func TestSeveralCategoriesPerUser(t *testing.T) {
	var ss []Search
	ss = append(ss, searchesAt("bob", "Shoes", ago(6*day), ago(5*day), ago(4*day))...)
	ss = append(ss, searchesAt("bob", " hats ", ago(3*day), ago(2*day), ago(day))...)
	ss = append(ss, searchesAt("bob", "bags", ago(5*day), ago(2*day), ago(3*day))...)
	ss = append(ss, searchesAt("bob", "Socks", ago(5*day), ago(2*day), ago(3*day))...)
	ss = append(ss, searchesAt("bob", "gloves", ago(5*day), ago(2*day))...) // below threshold
	ss = append(ss, searchesAt("alice", "HATS", ago(day), ago(day), ago(day))...)
	ss = append(ss, searchesAt("carol", "books", ago(day), ago(day), ago(day))...)
	purchases := []Purchase{
		{UserID: "carol", ItemID: "b1", Category: "Books", At: ago(2 * day)},
	}
	pop := Popularity{"hats": {"h1", "h2"}, "shoes": {"s1"}, "bags": {"b1"}}
	got := Targets(ss, purchases, pop, Options{Now: now})
	type row struct {
		user, cat string
		n         int
		last      time.Time
	}
	var rows []row
	for _, tg := range got {
		rows = append(rows, row{tg.UserID, tg.Category, tg.Searches, tg.LastSearch})
	}
	want := []row{
		{"alice", "hats", 3, ago(day)},
		{"bob", "hats", 3, ago(day)},
		{"bob", "bags", 3, ago(2 * day)},  // ties on LastSearch broken by category
		{"bob", "socks", 3, ago(2 * day)}, //
		{"bob", "shoes", 3, ago(4 * day)},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("got\n%v\nwant\n%v", rows, want)
	}
	if !slices.Equal(got[1].Products, []string{"h1", "h2"}) || !slices.Equal(got[2].Products, []string{"b1"}) {
		t.Errorf("products: %v / %v", got[1].Products, got[2].Products)
	}
}

func TestIgnoredInput(t *testing.T) {
	ss := searchesAt("u", "  ", ago(3*day), ago(2*day), ago(day))
	if got := Targets(ss, nil, nil, Options{Now: now}); got != nil {
		t.Errorf("empty category targeted: %v", got)
	}
	ss = searchesAt("u", "tv", ago(3*day), ago(2*day), ago(day))
	if got := Targets(ss, nil, nil, Options{}); got != nil {
		t.Errorf("zero Now: got %v, want nil", got)
	}
	if got := Targets(nil, nil, nil, Options{Now: now}); got != nil {
		t.Errorf("no input: got %v", got)
	}
}

func randomHistory(r *rand.Rand, users, n int) ([]Search, []Purchase, Popularity) {
	cats := []string{"Shoes", "shoes ", "HATS", "bags", "tv", "Laptops", "books"}
	ss := make([]Search, n)
	for i := range ss {
		ss[i] = Search{
			UserID:   fmt.Sprintf("user%04d", r.IntN(users)),
			Category: cats[r.IntN(len(cats))],
			Query:    "q",
			At:       ago(time.Duration(r.Int64N(int64(10 * day)))),
		}
	}
	ps := make([]Purchase, n/10)
	for i := range ps {
		ps[i] = Purchase{
			UserID:   fmt.Sprintf("user%04d", r.IntN(users)),
			ItemID:   fmt.Sprintf("item%d", r.IntN(20)),
			Category: cats[r.IntN(len(cats))],
			At:       ago(time.Duration(r.Int64N(int64(30 * day)))),
		}
	}
	pop := Popularity{}
	for _, c := range cats {
		for range 8 {
			pop[c] = append(pop[c], fmt.Sprintf("item%d", r.IntN(20)))
		}
	}
	return ss, ps, pop
}

func TestDeterminismAndSharding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ss, ps, pop := randomHistory(r, 300, 20000)
	opts := Options{Now: now}
	want := Targets(ss, ps, pop, opts)
	if len(want) < 50 {
		t.Fatalf("only %d targets; test data too sparse", len(want))
	}
	if !slices.IsSortedFunc(want, func(a, b Target) int {
		if a.UserID != b.UserID {
			return cmpStr(a.UserID, b.UserID)
		}
		if c := b.LastSearch.Compare(a.LastSearch); c != 0 {
			return c
		}
		return cmpStr(a.Category, b.Category)
	}) {
		t.Fatal("output not sorted")
	}
	for i := range 3 {
		ss2, ps2 := slices.Clone(ss), slices.Clone(ps)
		r.Shuffle(len(ss2), func(a, b int) { ss2[a], ss2[b] = ss2[b], ss2[a] })
		r.Shuffle(len(ps2), func(a, b int) { ps2[a], ps2[b] = ps2[b], ps2[a] })
		if got := Targets(ss2, ps2, pop, opts); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d: result differs", i)
		}
	}
	// Running each shard on its own users' events and concatenating the
	// results in user order reproduces the full result.
	const shards = 4
	var union []Target
	for shard := range shards {
		var sss []Search
		var pss []Purchase
		for _, s := range ss {
			if ShardOf(s.UserID, shards) == shard {
				sss = append(sss, s)
			}
		}
		for _, p := range ps {
			if ShardOf(p.UserID, shards) == shard {
				pss = append(pss, p)
			}
		}
		union = append(union, Targets(sss, pss, pop, opts)...)
	}
	slices.SortStableFunc(union, func(a, b Target) int { return cmpStr(a.UserID, b.UserID) })
	if !reflect.DeepEqual(union, want) {
		t.Fatal("union of shards differs from full result")
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestShardOf(t *testing.T) {
	// Pinned values: the mapping must never change.
	for _, c := range []struct {
		id     string
		shards int
		want   int
	}{
		{"", 7, int(14695981039346656037 % 7)},
		{"user-42", 1000, 419}, // FNV-1a 64 = 3658848852250057419
		{"user-42", 16, 11},
		{"user-1", 1, 0},
		{"user-1", 0, 0},
		{"user-1", -3, 0},
	} {
		if got := ShardOf(c.id, c.shards); got != c.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.id, c.shards, got, c.want)
		}
	}
	counts := make([]int, 16)
	for i := range 16000 {
		id := fmt.Sprintf("user-%d", i)
		h := fnv.New64a()
		h.Write([]byte(id))
		for _, n := range []int{2, 3, 16, 1000} {
			got := ShardOf(id, n)
			if got < 0 || got >= n {
				t.Fatalf("ShardOf(%q, %d) = %d out of range", id, n, got)
			}
			if want := int(h.Sum64() % uint64(n)); got != want {
				t.Fatalf("ShardOf(%q, %d) = %d, want FNV-1a %d", id, n, got, want)
			}
			if again := ShardOf(id, n); again != got {
				t.Fatalf("ShardOf not stable")
			}
		}
		counts[ShardOf(id, 16)]++
	}
	for s, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d got %d of 16000 users; poor spread", s, c)
		}
	}
}
