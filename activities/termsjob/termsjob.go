// Package termsjob holds the activity of TermsRollup, the hourly check of the
// trending-terms speed line. Its SQL lives in postgres.TermStore; the term windows it
// checks and prunes are written by internal/ingest (the stream's speed line).
//
// The method name is the Temporal activity name: recorded histories refer to it, so it
// must not change.
package termsjob

import (
	"context"
	"fmt"
	"time"

	"github.com/curiodata/curio/internal/storage/postgres"
)

// Activities are the activities of TermsRollup.
type Activities struct {
	Store *postgres.TermStore // term_rollups, and the speed line's term_windows
}

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
	now := time.Now()
	r, err := a.Store.RollupHour(ctx, hr, now.Add(-in.Retention), now.Add(-in.HourRetention))
	if err != nil {
		return TermsRollupResult{Hour: hr}, fmt.Errorf("roll up terms of %s: %w", hr.Format(time.RFC3339), err)
	}
	return TermsRollupResult{Hour: hr, Terms: r.Terms, Tokens: r.Tokens, Mismatched: r.Mismatched, Consistent: r.Consistent, Pruned: r.Pruned}, nil
}
