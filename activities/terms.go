package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TermsRollupInput names an hour of term windows to check and the 1-minute retention.
type TermsRollupInput struct {
	Hour      time.Time     `json:"hour"`
	Retention time.Duration `json:"retention"` // 1-minute windows older than this are pruned; default 48h
	// HourRetention bounds the 1-hour windows; default 90 days.
	HourRetention time.Duration `json:"hour_retention,omitempty"`
}

// TermsRollupResult reports one checked hour.
type TermsRollupResult struct {
	Hour       time.Time `json:"hour"`
	Terms      int64     `json:"terms"`  // distinct terms and tags in the hour
	Tokens     int64     `json:"tokens"` // their total count
	Mismatched int64     `json:"mismatched"`
	Consistent bool      `json:"consistent"` // the 1h window equals the sum of its 1m windows
	Pruned     int64     `json:"pruned"`
}

// RollupTerms checks an hour of the term speed line — its 1-hour window must hold exactly
// the sum of its sixty 1-minute windows, term by term — records the result in
// term_rollups and prunes 1-minute windows past retention (48 h) and 1-hour windows past
// theirs (90 days).
func (a *Activities) RollupTerms(ctx context.Context, in TermsRollupInput) (TermsRollupResult, error) {
	hr := in.Hour.UTC().Truncate(time.Hour)
	if in.Retention <= 0 {
		in.Retention = 48 * time.Hour
	}
	if in.HourRetention <= 0 {
		in.HourRetention = 90 * 24 * time.Hour
	}
	res := TermsRollupResult{Hour: hr}
	err := pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `WITH m AS (
				SELECT kind, term, sum(count) AS n FROM term_windows
				WHERE window_size = '1m' AND window_start >= $1 AND window_start < $1 + interval '1 hour' GROUP BY kind, term),
			h AS (SELECT kind, term, count AS n FROM term_windows WHERE window_size = '1h' AND window_start = $1)
			SELECT count(*), coalesce(sum(h.n), 0)::bigint, count(*) FILTER (WHERE m.n IS DISTINCT FROM h.n)
			FROM m FULL JOIN h USING (kind, term)`, hr).Scan(&res.Terms, &res.Tokens, &res.Mismatched)
		if err != nil {
			return fmt.Errorf("compare term windows of %s: %w", hr.Format(time.RFC3339), err)
		}
		res.Consistent = res.Mismatched == 0
		tag, err := tx.Exec(ctx, `DELETE FROM term_windows WHERE (window_size = '1m' AND window_start < $1) OR (window_size = '1h' AND window_start < $2)`,
			time.Now().Add(-in.Retention), time.Now().Add(-in.HourRetention))
		if err != nil {
			return fmt.Errorf("prune term windows: %w", err)
		}
		res.Pruned = tag.RowsAffected()
		_, err = tx.Exec(ctx, `INSERT INTO term_rollups (hour, terms, tokens, consistent, pruned) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (hour) DO UPDATE SET terms = EXCLUDED.terms, tokens = EXCLUDED.tokens, consistent = EXCLUDED.consistent,
			pruned = term_rollups.pruned + EXCLUDED.pruned, checked_at = now()`, hr, res.Terms, res.Tokens, res.Consistent, res.Pruned)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("roll up terms of %s: %w", hr.Format(time.RFC3339), err)
	}
	return res, nil
}
