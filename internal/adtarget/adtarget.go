// Package adtarget selects ad targets from users' search and purchase
// history: users who keep searching a category without buying in it are
// shown the category's popular products.
//
// The package is pure: it performs no I/O, never reads the clock (the end of
// the window is an option) and keeps no package-level state. Results are
// deterministic: the same input yields identical output, so that a batch
// shard re-run on another worker produces identical output. ShardOf
// partitions users among batch shards.
package adtarget

import (
	"slices"
	"strings"
	"time"
)

// Default option values, used when the corresponding Options field is zero.
const (
	// DefaultMinSearches is the default number of searches in a category
	// needed to target a user.
	DefaultMinSearches = 3
	// DefaultWindow is the default length of the look-back window.
	DefaultWindow = 7 * 24 * time.Hour
	// DefaultMaxProducts is the default number of products per target.
	DefaultMaxProducts = 5
)

// Search is one search made by a user in a product category.
type Search struct {
	// UserID identifies the user.
	UserID string
	// Category is the searched category; matched case-insensitively.
	Category string
	// Query is the search text. It is not used for targeting.
	Query string
	// At is when the search was made.
	At time.Time
}

// Purchase is one item bought by a user.
type Purchase struct {
	// UserID identifies the user.
	UserID string
	// ItemID identifies the item bought.
	ItemID string
	// Category is the item's category; matched case-insensitively.
	Category string
	// At is when the purchase was made.
	At time.Time
}

// Options tunes Targets. Now is required; the other fields select their
// default when zero or negative.
type Options struct {
	// MinSearches is the number of searches in a category within the
	// window needed to target the user for it (default 3).
	MinSearches int
	// Window is the look-back period ending at Now (default 7 days).
	Window time.Duration
	// Now is the end of the window. Required: Targets returns nil when it
	// is the zero time.
	Now time.Time
	// MaxProducts is the maximum number of products per target (default 5).
	MaxProducts int
}

func (o Options) withDefaults() Options {
	if o.MinSearches <= 0 {
		o.MinSearches = DefaultMinSearches
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxProducts <= 0 {
		o.MaxProducts = DefaultMaxProducts
	}
	return o
}

// Target is a (user, category) pair to show ads for.
type Target struct {
	// UserID identifies the user.
	UserID string
	// Category is the normalized (lowercased, trimmed) category.
	Category string
	// Searches is the number of the user's searches in the category within
	// the window.
	Searches int
	// LastSearch is the time of the most recent of those searches.
	LastSearch time.Time
	// Products are the items to show: the category's most popular items
	// that the user has not bought, most popular first. It is empty, not
	// nil, when there is none.
	Products []string
}

// Popularity maps a category to its item IDs, most popular first, as
// provided by the caller. Keys are matched case-insensitively.
type Popularity map[string][]string

// NormalizeCategory returns the form in which categories are compared and
// reported: lowercased, with surrounding white space removed.
func NormalizeCategory(c string) string {
	return strings.ToLower(strings.TrimSpace(c))
}

type userCategory struct {
	user, category string
}

type searchStats struct {
	count int
	last  time.Time
}

// Targets returns the ad targets for the given history.
//
// The window is [Now-Window, Now], both ends included; events outside it are
// ignored, except that purchases made before the window still exclude their
// item from Products. A user is targeted for a category when the user
// searched the category at least MinSearches times within the window and
// made no purchase in that category within the window: any purchase in the
// category within the window disqualifies, whether it came before or after
// the searches. Searches and purchases with an empty category are ignored.
//
// A target's Products are the category's items from pop, in order, skipping
// duplicates and any item the user bought at or before Now (in any
// category), up to MaxProducts. When several keys of pop normalize to the
// same category, their lists are used one after the other in ascending
// order of the original keys.
//
// A user may get several targets, one per category. The result is sorted by
// UserID, then LastSearch descending (most recently searched category
// first), then Category. When several qualifying searches share the latest
// instant, LastSearch is the first of them in searches.
func Targets(searches []Search, purchases []Purchase, pop Popularity, opts Options) []Target {
	if opts.Now.IsZero() {
		return nil
	}
	opts = opts.withDefaults()
	start := opts.Now.Add(-opts.Window)
	inWindow := func(t time.Time) bool {
		return !t.Before(start) && !t.After(opts.Now)
	}

	stats := make(map[userCategory]*searchStats)
	for _, s := range searches {
		cat := NormalizeCategory(s.Category)
		if cat == "" || !inWindow(s.At) {
			continue
		}
		k := userCategory{s.UserID, cat}
		st := stats[k]
		if st == nil {
			st = &searchStats{last: s.At}
			stats[k] = st
		} else if s.At.After(st.last) {
			st.last = s.At
		}
		st.count++
	}

	var targets []Target
	for k, st := range stats {
		if st.count >= opts.MinSearches {
			targets = append(targets, Target{UserID: k.user, Category: k.category, Searches: st.count, LastSearch: st.last})
		}
	}
	if len(targets) == 0 {
		return nil
	}

	// Only the purchases of candidate users matter.
	candidates := make(map[string]bool)
	for _, t := range targets {
		candidates[t.UserID] = true
	}
	boughtIn := make(map[userCategory]bool)       // purchases within the window
	owned := make(map[string]map[string]struct{}) // user → items bought at or before Now
	for _, p := range purchases {
		if !candidates[p.UserID] || p.At.After(opts.Now) {
			continue
		}
		if p.ItemID != "" {
			items := owned[p.UserID]
			if items == nil {
				items = make(map[string]struct{})
				owned[p.UserID] = items
			}
			items[p.ItemID] = struct{}{}
		}
		if cat := NormalizeCategory(p.Category); cat != "" && !p.At.Before(start) {
			boughtIn[userCategory{p.UserID, cat}] = true
		}
	}
	targets = slices.DeleteFunc(targets, func(t Target) bool {
		return boughtIn[userCategory{t.UserID, t.Category}]
	})
	if len(targets) == 0 {
		return nil
	}

	popKeys := popularityKeys(pop)
	for i := range targets {
		t := &targets[i]
		t.Products = products(pop, popKeys[t.Category], owned[t.UserID], opts.MaxProducts)
	}

	slices.SortFunc(targets, func(a, b Target) int {
		if c := strings.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		if c := b.LastSearch.Compare(a.LastSearch); c != 0 {
			return c
		}
		return strings.Compare(a.Category, b.Category)
	})
	return targets
}

// popularityKeys groups the keys of pop by normalized category, each group
// in ascending key order.
func popularityKeys(pop Popularity) map[string][]string {
	out := make(map[string][]string, len(pop))
	for key := range pop {
		cat := NormalizeCategory(key)
		out[cat] = append(out[cat], key)
	}
	for _, keys := range out {
		slices.Sort(keys)
	}
	return out
}

// products returns up to limit items from the lists pop[keys[0]],
// pop[keys[1]], ..., in order, skipping empty IDs, duplicates and owned
// items.
func products(pop Popularity, keys []string, owned map[string]struct{}, limit int) []string {
	out := make([]string, 0, limit)
	for _, key := range keys {
		for _, item := range pop[key] {
			if len(out) == limit {
				return out
			}
			if item == "" || slices.Contains(out, item) {
				continue
			}
			if _, ok := owned[item]; ok {
				continue
			}
			out = append(out, item)
		}
	}
	return out
}

// ShardOf returns the batch shard, in [0, shards), that userID belongs to:
// the 64-bit FNV-1a hash of the ID modulo shards. The mapping is stable
// across processes, machines and releases. It returns 0 when shards < 1.
func ShardOf(userID string, shards int) int {
	if shards <= 1 {
		return 0
	}
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(userID); i++ {
		h ^= uint64(userID[i])
		h *= prime64
	}
	return int(h % uint64(shards))
}
