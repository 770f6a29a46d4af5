package ingest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/events"
)

// StreamGroup is the default consumer group of the speed line.
const StreamGroup = "curio-stream"

// Window is the tumbling window of the speed line.
const Window = 5 * time.Second

// StreamOptions tune the speed line.
type StreamOptions struct {
	// Lateness is how far the watermark trails the newest event time seen in a partition;
	// events in windows that ended before the watermark are counted as late (and still
	// counted). Default 10s.
	Lateness time.Duration
}

// Stream keeps per-window counts of events per item and type, upload counts per country,
// and term counts per 1-minute and 1-hour window (see term_windows), in PostgreSQL. Every batch writes its count deltas and its offset in one
// transaction, so counts equal exactly the events up to the stored offset.
type Stream struct {
	c *consumer
}

// NewStream returns a stream processor.
func NewStream(pool *pgxpool.Pool, opts Options, sopts StreamOptions) *Stream {
	opts.defaults(StreamGroup)
	if sopts.Lateness <= 0 {
		sopts.Lateness = 10 * time.Second
	}
	return &Stream{c: &consumer{opts: opts, pool: pool, handler: &streamHandler{group: opts.Group, lateness: sopts.Lateness,
		check: opts.checker(), maxTS: map[int32]time.Time{}, texts: newItemTexts(100_000)}}}
}

// Run consumes until ctx ends (nil) or a batch fails.
func (s *Stream) Run(ctx context.Context) error { return s.c.run(ctx) }

// Progress reports committed batches and messages.
func (s *Stream) Progress() Progress { return s.c.Progress() }

type streamHandler struct {
	group    string
	lateness time.Duration
	check    checker
	mu       sync.Mutex
	maxTS    map[int32]time.Time // newest event time per partition: the watermark's base
	texts    *itemTexts          // catalog titles of viewed items, for the term windows
}

func (h *streamHandler) reset(_ string, p int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.maxTS, p)
}

type windowKey struct {
	start time.Time
	item  string
	typ   events.Type
}

func (h *streamHandler) handle(ctx context.Context, tx pgx.Tx, _ string, partition int32, msgs []*sarama.ConsumerMessage) error {
	h.mu.Lock()
	maxTS := h.maxTS[partition]
	h.mu.Unlock()
	deltas := map[windowKey]int64{}
	uploads := map[string]int64{}
	var seen, late int64
	valid := make([]events.Event, 0, len(msgs))
	for _, m := range msgs {
		e, de := h.check.decode(m)
		if de != nil {
			continue // the lander dead-letters it
		}
		valid = append(valid, e)
	}
	// A repeated event_id counts once, in every window and every term count.
	fresh, err := claim(ctx, tx, h.group, valid)
	if err != nil {
		return err
	}
	decoded := valid[:0]
	for i, e := range valid {
		if fresh[i] {
			decoded = append(decoded, e)
		}
	}
	for _, e := range decoded {
		item := e.ItemID
		if e.Type == events.TypeClick {
			item = e.Target
		}
		if item == "" {
			continue
		}
		seen++
		ts := e.Time.UTC()
		start := ts.Truncate(Window)
		if !maxTS.IsZero() && !start.Add(Window).After(maxTS.Add(-h.lateness)) {
			late++ // its window already closed: counted, and reported as late
		}
		if ts.After(maxTS) {
			maxTS = ts
		}
		deltas[windowKey{start, item, e.Type}]++
		if e.Type == events.TypeUpload && e.Country != "" {
			uploads[e.Country]++
		}
	}
	if len(deltas) > 0 {
		starts := make([]time.Time, 0, len(deltas))
		items := make([]string, 0, len(deltas))
		types := make([]string, 0, len(deltas))
		counts := make([]int64, 0, len(deltas))
		keys := slices.SortedFunc(maps.Keys(deltas), func(a, b windowKey) int {
			return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.item, b.item), cmp.Compare(a.typ, b.typ))
		})
		// Sorted, so concurrent partitions lock rows in one order and cannot deadlock.
		for _, k := range keys {
			starts, items, types, counts = append(starts, k.start), append(items, k.item), append(types, string(k.typ)), append(counts, deltas[k])
		}
		if _, err := tx.Exec(ctx, `INSERT INTO popularity_windows (window_start, item_id, event_type, count)
			SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[])
			ON CONFLICT (window_start, item_id, event_type) DO UPDATE SET count = popularity_windows.count + EXCLUDED.count, updated_at = now()`,
			starts, items, types, counts); err != nil {
			return fmt.Errorf("upsert windows: %w", err)
		}
	}
	for _, country := range slices.Sorted(maps.Keys(uploads)) {
		n := uploads[country]
		if _, err := tx.Exec(ctx, `INSERT INTO upload_countries (country, count) VALUES ($1, $2)
			ON CONFLICT (country) DO UPDATE SET count = upload_countries.count + EXCLUDED.count`, country, n); err != nil {
			return fmt.Errorf("upsert uploads: %w", err)
		}
	}
	if err := countTerms(ctx, tx, h.texts, decoded); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO stream_stats (consumer, kpartition, events, late) VALUES ($1, $4, $2, $3)
		ON CONFLICT (consumer, kpartition) DO UPDATE SET events = stream_stats.events + EXCLUDED.events, late = stream_stats.late + EXCLUDED.late, updated_at = now()`,
		h.group, seen, late, partition); err != nil {
		return fmt.Errorf("stream stats: %w", err)
	}
	h.mu.Lock()
	h.maxTS[partition] = maxTS
	h.mu.Unlock()
	return nil
}
