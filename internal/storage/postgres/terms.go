package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TermStore is the batch side of the trending-terms speed line: TermsRollup (package
// activities/termsjob) checks each hour of term_windows and prunes old windows, and this
// store is the one writer of term_rollups.
//
// term_windows is not owned here: internal/ingest (the stream's speed line) writes the
// counts and its Reader serves them to the API. This store only reads them and prunes
// windows past retention, which is fine alongside the speed line: it adds counts to the
// windows of recent events, and a pruned window is one the API no longer shows. It is
// safe for concurrent use.
type TermStore struct {
	pool *pgxpool.Pool
}

// Terms returns the store of the term rollups.
func (s *Store) Terms() *TermStore { return &TermStore{pool: s.pool} }

// TermRollup is one checked hour of term windows (a term_rollups row, with the mismatches).
type TermRollup struct {
	Hour       time.Time
	Terms      int64 // distinct terms and tags in the hour
	Tokens     int64 // their total count in the 1-hour window
	Mismatched int64 // terms whose 1-hour count differs from the sum of their 1-minute counts
	Consistent bool  // no mismatch
	Pruned     int64 // windows deleted
}

// RollupHour checks the hour starting at hour (UTC, whole) — its 1-hour window must hold
// exactly the sum of its sixty 1-minute windows, term by term — deletes the 1-minute
// windows that start before minuteBefore and the 1-hour windows that start before
// hourBefore, and records the result in term_rollups, all in one transaction. Checking an
// hour again replaces its result and adds to its pruned count.
func (s *TermStore) RollupHour(ctx context.Context, hour, minuteBefore, hourBefore time.Time) (TermRollup, error) {
	res := TermRollup{Hour: hour}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `WITH m AS (
				SELECT kind, term, sum(count) AS n FROM term_windows
				WHERE window_size = '1m' AND window_start >= $1 AND window_start < $1 + interval '1 hour' GROUP BY kind, term),
			h AS (SELECT kind, term, count AS n FROM term_windows WHERE window_size = '1h' AND window_start = $1)
			SELECT count(*), coalesce(sum(h.n), 0)::bigint, count(*) FILTER (WHERE m.n IS DISTINCT FROM h.n)
			FROM m FULL JOIN h USING (kind, term)`, hour).Scan(&res.Terms, &res.Tokens, &res.Mismatched)
		if err != nil {
			return fmt.Errorf("compare term windows of %s: %w", hour.Format(time.RFC3339), err)
		}
		res.Consistent = res.Mismatched == 0
		tag, err := tx.Exec(ctx, `DELETE FROM term_windows WHERE (window_size = '1m' AND window_start < $1) OR (window_size = '1h' AND window_start < $2)`,
			minuteBefore, hourBefore)
		if err != nil {
			return fmt.Errorf("prune term windows: %w", err)
		}
		res.Pruned = tag.RowsAffected()
		_, err = tx.Exec(ctx, `INSERT INTO term_rollups (hour, terms, tokens, consistent, pruned) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (hour) DO UPDATE SET terms = EXCLUDED.terms, tokens = EXCLUDED.tokens, consistent = EXCLUDED.consistent,
			pruned = term_rollups.pruned + EXCLUDED.pruned, checked_at = now()`, hour, res.Terms, res.Tokens, res.Consistent, res.Pruned)
		if err != nil {
			return fmt.Errorf("record term rollup: %w", err)
		}
		return nil
	})
	return res, err
}
