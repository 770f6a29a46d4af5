package ingest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/terms"
)

// TermWindows are the window sizes the speed line counts terms in, by name.
func TermWindows() map[string]time.Duration {
	return map[string]time.Duration{"1m": time.Minute, "1h": time.Hour}
}

// Term kinds in term_windows.
const (
	KindTerm = "term"
	KindTag  = "tag"
)

// itemText is what a viewed or collected item contributes to the term windows.
type itemText struct {
	words []string
	tags  []string
}

// itemTexts caches catalog text by item id. It is bounded: when full it starts over, so
// an item renamed by a later catalog run is seen fresh before long.
type itemTexts struct {
	mu  sync.Mutex
	m   map[string]itemText
	max int
}

func newItemTexts(max int) *itemTexts { return &itemTexts{m: map[string]itemText{}, max: max} }

// lookup returns the text of ids, reading unknown ones from the catalog tables within tx.
// Items that are not in the catalog contribute nothing (and are not cached: they may be
// published later).
func (c *itemTexts) lookup(ctx context.Context, tx pgx.Tx, ids []string) (map[string]itemText, error) {
	out := make(map[string]itemText, len(ids))
	var missing []string
	c.mu.Lock()
	for _, id := range ids {
		if t, ok := c.m[id]; ok {
			out[id] = t
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, title, genres FROM movies WHERE id = ANY($1)
		UNION ALL SELECT id, title, ARRAY[classification] FROM artworks WHERE id = ANY($1)`, missing)
	if err != nil {
		return nil, fmt.Errorf("read item titles: %w", err)
	}
	defer rows.Close()
	found := map[string]itemText{}
	for rows.Next() {
		var id, title string
		var labels []string
		if err := rows.Scan(&id, &title, &labels); err != nil {
			return nil, fmt.Errorf("read item titles: %w", err)
		}
		t := itemText{words: terms.Words(title)}
		for _, l := range labels {
			if tag := terms.Tag(l); tag != "" && !slices.Contains(t.tags, tag) {
				t.tags = append(t.tags, tag)
			}
		}
		found[id] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read item titles: %w", err)
	}
	c.mu.Lock()
	if len(c.m)+len(found) > c.max {
		clear(c.m)
	}
	maps.Copy(c.m, found)
	c.mu.Unlock()
	maps.Copy(out, found)
	return out, nil
}

type termKey struct {
	size  string
	start time.Time
	kind  string
	term  string
}

// termDeltas accumulates one batch's term counts in every window size.
type termDeltas struct {
	windows map[string]time.Duration // TermWindows(), read once per batch
	counts  map[termKey]int64
}

func newTermDeltas() termDeltas {
	return termDeltas{windows: TermWindows(), counts: map[termKey]int64{}}
}

func (d termDeltas) add(ts time.Time, kind string, words []string) {
	for name, size := range d.windows {
		start := ts.Truncate(size)
		for _, w := range words {
			d.counts[termKey{name, start, kind, w}]++
		}
	}
}

// eventTerms returns what a search event contributes: its query's words, and as tags
// its #hashtags and its category.
func eventTerms(e events.Event) (words, tags []string) {
	words = terms.Words(e.Query)
	tags = terms.Hashtags(e.Query)
	if tag := terms.Tag(e.Category); tag != "" && !slices.Contains(tags, tag) {
		tags = append(tags, tag)
	}
	return words, tags
}

// countTerms adds the term counts of a batch's decoded events to tx.
func countTerms(ctx context.Context, tx pgx.Tx, texts *itemTexts, evs []events.Event) error {
	var ids []string
	for _, e := range evs {
		if (e.Type == events.TypeView || e.Type == events.TypeCollect) && e.ItemID != "" {
			ids = append(ids, e.ItemID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	items, err := texts.lookup(ctx, tx, ids)
	if err != nil {
		return err
	}
	d := newTermDeltas()
	for _, e := range evs {
		ts := e.Time.UTC()
		switch e.Type {
		case events.TypeSearch:
			words, tags := eventTerms(e)
			d.add(ts, KindTerm, words)
			d.add(ts, KindTag, tags)
		case events.TypeView, events.TypeCollect:
			if t, ok := items[e.ItemID]; ok {
				d.add(ts, KindTerm, t.words)
				d.add(ts, KindTag, t.tags)
			}
		}
	}
	if len(d.counts) == 0 {
		return nil
	}
	// Sorted, so concurrent partitions lock rows in one order and cannot deadlock.
	keys := slices.SortedFunc(maps.Keys(d.counts), func(a, b termKey) int {
		return cmp.Or(cmp.Compare(a.size, b.size), a.start.Compare(b.start), cmp.Compare(a.kind, b.kind), cmp.Compare(a.term, b.term))
	})
	sizes, starts, kinds, words, counts := make([]string, len(keys)), make([]time.Time, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		sizes[i], starts[i], kinds[i], words[i], counts[i] = k.size, k.start, k.kind, k.term, d.counts[k]
	}
	if _, err := tx.Exec(ctx, `INSERT INTO term_windows (window_size, window_start, kind, term, count)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])
		ON CONFLICT (window_size, window_start, kind, term) DO UPDATE SET count = term_windows.count + EXCLUDED.count`,
		sizes, starts, kinds, words, counts); err != nil {
		return fmt.Errorf("upsert term windows: %w", err)
	}
	return nil
}
