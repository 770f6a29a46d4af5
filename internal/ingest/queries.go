package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reader answers the API's questions about landed and streamed events.
type Reader struct {
	pool *pgxpool.Pool
	lag  *lagTracker // nil: no lag reporting
}

// NewReader returns a Reader over pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

// ItemCount is an item's event count over a period.
type ItemCount struct {
	ItemID string `json:"item_id"`
	Count  int64  `json:"count"`
}

// Trending returns the items with the most events of the given types (all when empty) in
// the windows that started within the last `window` before now, most first.
func (r *Reader) Trending(ctx context.Context, now time.Time, window time.Duration, types []string, limit int) ([]ItemCount, error) {
	if types == nil {
		types = []string{} // NULL would make the filter below NULL, matching nothing
	}
	rows, err := r.pool.Query(ctx, `SELECT item_id, sum(count)::bigint AS n FROM popularity_windows
		WHERE window_start >= $1 AND window_start <= $2 AND (cardinality($3::text[]) = 0 OR event_type = ANY($3))
		GROUP BY item_id ORDER BY n DESC, item_id LIMIT $4`, now.Add(-window), now, types, limit)
	if err != nil {
		return nil, fmt.Errorf("trending: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ItemCount])
}

// TrendPoint is one 5-second window of an item's activity.
type TrendPoint struct {
	Start  time.Time        `json:"t"`
	Counts map[string]int64 `json:"counts"` // by event type
	Total  int64            `json:"total"`
}

// ItemTrend returns an item's windows in [from, to), oldest first.
func (r *Reader) ItemTrend(ctx context.Context, item string, from, to time.Time) ([]TrendPoint, error) {
	rows, err := r.pool.Query(ctx, `SELECT window_start, event_type, count FROM popularity_windows
		WHERE item_id = $1 AND window_start >= $2 AND window_start < $3 ORDER BY window_start, event_type`, item, from, to)
	if err != nil {
		return nil, fmt.Errorf("item trend: %w", err)
	}
	defer rows.Close()
	var out []TrendPoint
	for rows.Next() {
		var ws time.Time
		var typ string
		var n int64
		if err := rows.Scan(&ws, &typ, &n); err != nil {
			return nil, fmt.Errorf("item trend: %w", err)
		}
		if len(out) == 0 || !out[len(out)-1].Start.Equal(ws) {
			out = append(out, TrendPoint{Start: ws.UTC(), Counts: map[string]int64{}})
		}
		p := &out[len(out)-1]
		p.Counts[typ] += n
		p.Total += n
	}
	return out, rows.Err()
}

// CountryCount is the number of uploads from one country.
type CountryCount struct {
	Country string `json:"country"`
	Count   int64  `json:"count"`
}

// UploadsByCountry returns upload counts per country, most first.
func (r *Reader) UploadsByCountry(ctx context.Context) ([]CountryCount, error) {
	rows, err := r.pool.Query(ctx, `SELECT country, count FROM upload_countries ORDER BY count DESC, country`)
	if err != nil {
		return nil, fmt.Errorf("uploads by country: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[CountryCount])
}

// Stats summarizes ingestion for operators.
type Stats struct {
	Landed       int64            `json:"landed_events"`
	DeadLetters  map[string]int64 `json:"dead_letters_by_reason"`
	StreamEvents int64            `json:"stream_events"`
	LateEvents   int64            `json:"late_events"`
	// Partitions is each consumer's lag per partition (only with WithLag).
	Partitions []PartitionLag `json:"partitions,omitempty"`
	// Lag is the consumers' total lag and StuckPartitions how many partitions are stuck.
	Lag             int64 `json:"lag"`
	StuckPartitions int   `json:"stuck_partitions"`
	// LagError says why Partitions is missing (Kafka unreachable).
	LagError string `json:"lag_error,omitempty"`
}

// Stats returns ingestion counters.
func (r *Reader) Stats(ctx context.Context) (Stats, error) {
	st := Stats{DeadLetters: map[string]int64{}}
	err := r.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM raw_events),
		(SELECT coalesce(sum(events), 0)::bigint FROM stream_stats), (SELECT coalesce(sum(late), 0)::bigint FROM stream_stats)`).
		Scan(&st.Landed, &st.StreamEvents, &st.LateEvents)
	if err != nil {
		return st, fmt.Errorf("ingest stats: %w", err)
	}
	rows, err := r.pool.Query(ctx, `SELECT reason, count(*) FROM dead_letters GROUP BY reason`)
	if err != nil {
		return st, fmt.Errorf("dead letter stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var reason string
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			return st, fmt.Errorf("dead letter stats: %w", err)
		}
		st.DeadLetters[reason] = n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("dead letter stats: %w", err)
	}
	// Kafka being unreachable must not hide the warehouse's counters.
	if st.Partitions, err = r.Lag(ctx); err != nil {
		st.LagError = "consumer lag unavailable: kafka did not answer"
	}
	for _, p := range st.Partitions {
		st.Lag += p.Lag
		if p.Stuck {
			st.StuckPartitions++
		}
	}
	return st, nil
}

// DayCount is the uploads from one country on one day (AggregateUploads' output).
type DayCount struct {
	Day     string `json:"day"` // YYYY-MM-DD, UTC
	Country string `json:"country"`
	Count   int64  `json:"count"`
}

// UploadsDaily sums upload_hourly by UTC day and country for days in [from, to).
func (r *Reader) UploadsDaily(ctx context.Context, from, to time.Time) ([]DayCount, error) {
	rows, err := r.pool.Query(ctx, `SELECT to_char(date_trunc('day', hour AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), country, sum(count)::bigint
		FROM upload_hourly WHERE hour >= $1 AND hour < $2 GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`, from, to)
	if err != nil {
		return nil, fmt.Errorf("uploads daily: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DayCount])
}

// TermCount is a term's (or tag's) count in a window.
type TermCount struct {
	Term  string `json:"term"`
	Count int64  `json:"count"`
}

// TermsWindow is the top terms and tags of one window, and the terms rising fastest
// against the window before it.
type TermsWindow struct {
	Window string       `json:"window"`
	From   time.Time    `json:"from"`
	To     time.Time    `json:"to"`
	Terms  []TermCount  `json:"terms"`
	Tags   []TermCount  `json:"tags"`
	Rising []RisingTerm `json:"rising"`
}

// RisingTerm is a term whose count grows against the previous window.
type RisingTerm struct {
	Term     string  `json:"term"`
	Count    int64   `json:"count"`    // in this window so far
	Previous int64   `json:"previous"` // in the whole previous window
	Growth   float64 `json:"growth"`   // (count at this window's pace + 1) / (previous + 1)
}

// MinRisingCount is the least count a term needs in a window to be called rising: below
// it, one or two searches would look like a surge.
const MinRisingCount = 3

// TrendingTerms returns the top terms and tags of the window of the given size ("1m" or
// "1h") that contains at, most first (ties by term).
func (r *Reader) TrendingTerms(ctx context.Context, size string, at time.Time, limit int) (TermsWindow, error) {
	d, ok := TermWindows()[size]
	if !ok {
		return TermsWindow{}, fmt.Errorf("unknown term window %q", size)
	}
	from := at.UTC().Truncate(d)
	out := TermsWindow{Window: size, From: from, To: from.Add(d), Terms: []TermCount{}, Tags: []TermCount{}}
	for _, kind := range []string{KindTerm, KindTag} {
		rows, err := r.pool.Query(ctx, `SELECT term, count FROM term_windows
			WHERE window_size = $1 AND window_start = $2 AND kind = $3 ORDER BY count DESC, term LIMIT $4`, size, from, kind, limit)
		if err != nil {
			return out, fmt.Errorf("trending %ss: %w", kind, err)
		}
		tcs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TermCount, error) {
			var tc TermCount
			return tc, row.Scan(&tc.Term, &tc.Count)
		})
		if err != nil {
			return out, fmt.Errorf("trending %ss: %w", kind, err)
		}
		if kind == KindTerm {
			out.Terms = append(out.Terms, tcs...)
		} else {
			out.Tags = append(out.Tags, tcs...)
		}
	}
	// A window in progress is compared at its pace so far (a quarter of the way through, its
	// counts are scaled by 4), never at less than a tenth of the window.
	elapsed := max(at.UTC().Sub(from), d/10)
	pace := float64(d) / float64(min(elapsed, d))
	rows, err := r.pool.Query(ctx, `SELECT c.term, c.count, coalesce(p.count, 0),
			(c.count * $5::float8 + 1) / (coalesce(p.count, 0) + 1) AS growth
		FROM term_windows c LEFT JOIN term_windows p
			ON p.window_size = c.window_size AND p.window_start = $3 AND p.kind = c.kind AND p.term = c.term
		WHERE c.window_size = $1 AND c.window_start = $2 AND c.kind = 'term' AND c.count >= $6
			AND c.count * $5::float8 > coalesce(p.count, 0)
		ORDER BY growth DESC, c.count DESC, c.term LIMIT $4`, size, from, from.Add(-d), limit, pace, MinRisingCount)
	if err != nil {
		return out, fmt.Errorf("rising terms: %w", err)
	}
	out.Rising, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (RisingTerm, error) {
		var rt RisingTerm
		return rt, row.Scan(&rt.Term, &rt.Count, &rt.Previous, &rt.Growth)
	})
	if err != nil {
		return out, fmt.Errorf("rising terms: %w", err)
	}
	if out.Rising == nil {
		out.Rising = []RisingTerm{}
	}
	return out, nil
}
