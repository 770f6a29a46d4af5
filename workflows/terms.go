package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/termsjob"
	"github.com/curiodata/curio/internal/assets"
)

// TermsRollupName is the hourly trending-terms job.
const TermsRollupName = "TermsRollup"

// TermsRollupInput selects the hours [From, To) to check; `{}` is the previous full hour.
type TermsRollupInput struct {
	From           time.Time `json:"from,omitempty"`
	To             time.Time `json:"to,omitempty"`
	RetentionHours int       `json:"retention_hours,omitempty"` // 1-minute windows kept; default 48
}

// TermsRollup materializes the terms.trending asset hour by hour: it checks that each
// hour's 1-hour term window equals the sum of its 1-minute windows (the speed line counted
// every event once in each), records the hour as a partition with that check, and prunes
// 1-minute windows past retention.
func TermsRollup(ctx workflow.Context, in TermsRollupInput) ([]termsjob.TermsRollupResult, error) {
	now := workflow.Now(ctx).UTC().Truncate(time.Hour)
	if in.To.IsZero() {
		in.To = now
	}
	if in.From.IsZero() {
		in.From = in.To.Add(-time.Hour)
	}
	hours := assets.Hours(in.From, in.To)
	if len(hours) == 0 || len(hours) > 24*31 {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("TermsRollup: from must be before to, at most 31 days apart, got %s .. %s",
			in.From.Format(time.RFC3339), in.To.Format(time.RFC3339)), activities.ErrTypeBadInput, nil)
	}
	if in.RetentionHours <= 0 {
		in.RetentionHours = 48
	}
	var a *termsjob.Activities
	var out []termsjob.TermsRollupResult
	for _, key := range hours {
		started := workflow.Now(ctx)
		hr, _ := assets.ParsePartition(key)
		var r termsjob.TermsRollupResult
		if err := workflow.ExecuteActivity(shortActivity(ctx), a.RollupTerms, termsjob.TermsRollupInput{Hour: hr,
			Retention: time.Duration(in.RetentionHours) * time.Hour}).Get(ctx, &r); err != nil {
			return out, fmt.Errorf("terms of %s: %w", key, err)
		}
		out = append(out, r)
		checks := []assets.CheckResult{{Name: "hour_equals_sum_of_minutes", Blocking: true, Passed: r.Consistent,
			Detail: fmt.Sprintf("%d terms, %d counted, %d differ between the 1h window and its 1m windows", r.Terms, r.Tokens, r.Mismatched)}}
		if !r.Consistent {
			return out, checkFailed(ctx, assets.TermsTrending, key, started, checks, checks[0].Detail)
		}
		if err := recordAsset(ctx, activities.MaterializeInput{Asset: assets.TermsTrending, Partition: key, Rows: r.Terms,
			DataVersion: key, StartedAt: started, Checks: checks}); err != nil {
			return out, err
		}
	}
	return out, nil
}
