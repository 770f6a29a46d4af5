// Package topsearches is an example of a user-defined Curio pipeline: a daily table of the
// most searched terms, computed from the user-activity events Curio lands in raw_events.
// It declares one job with one asset, a check and a schedule; everything else (worker
// registration, `curio run`, backfills, schedules, the asset graph and the pipeline page)
// Curio derives from the declaration. See README "Add your own pipeline".
package topsearches

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/pipeline"
)

// Asset is the table this pipeline materializes, one partition per UTC day.
const Asset = "analytics.top_search_terms"

// Input selects the day to compute; `{}` is yesterday.
type Input struct {
	Day string `json:"day,omitempty"` // 2006-01-02
	Top int    `json:"top,omitempty"` // terms kept per day; default 20
}

// Job declares the pipeline.
func Job() pipeline.Job {
	return pipeline.Job{
		Name:        "TopSearchTerms",
		Description: "the day's most searched terms, from search events in raw_events",
		Input:       func() any { return &Input{Top: 20} },
		Workflow:    TopSearchTerms,
		Activities:  func(r pipeline.Resources) []any { return []any{&Activities{DB: r.Warehouse}} },
		Assets: []pipeline.Asset{{
			Name:         Asset,
			Description:  "top search terms per UTC day",
			Partitioning: pipeline.DailyPartitions,
			// Each day reads the 24 hourly partitions of raw_events that end with it.
			Upstreams: []pipeline.Upstream{pipeline.OnWindow("events.raw_events", 24*time.Hour)},
			Freshness: 26 * time.Hour,
			// The automation workflow fills any day of the last week that is missing, once its
			// 24 hours of raw_events are landed.
			Automation: []pipeline.Policy{pipeline.MissingPolicy(7 * 24 * time.Hour)},
			Checks: []pipeline.Check{{Name: "counts_positive", Blocking: true,
				Description: "every stored term was searched at least once", Run: checkCounts}},
			PartitionInput: func(day string) (any, error) { return Input{Day: day, Top: 20}, nil },
		}},
		Schedules: []pipeline.Schedule{{ID: "top-search-terms-daily", Cron: "15 0 * * *", Jitter: 5 * time.Minute,
			CatchupWindow: 72 * time.Hour}},
	}
}

// TopSearchTerms computes one day's top terms and records the partition, with its check.
func TopSearchTerms(ctx workflow.Context, in Input) error {
	day := in.Day
	if day == "" {
		day = pipeline.DailyPartitions.Key(workflow.Now(ctx).Add(-24 * time.Hour))
	}
	if _, err := pipeline.DailyPartitions.ParseTime(day); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Minute})
	return pipeline.Materialize(ctx, Asset, day, func(ctx workflow.Context) (int64, error) {
		var a *Activities
		var rows int64
		err := workflow.ExecuteActivity(ctx, a.ComputeDay, DayInput{Day: day, Top: in.Top}).Get(ctx, &rows)
		return rows, err
	})
}

// Activities hold what the pipeline's activities need: the warehouse.
type Activities struct {
	DB *pgxpool.Pool
}

// DayInput is one day to compute.
type DayInput struct {
	Day string `json:"day"`
	Top int    `json:"top"`
}

// ComputeDay replaces the day's rows of analytics_top_search_terms with the Top terms
// most often found in that day's search queries, and returns how many it wrote. Running
// it again for the same day gives the same rows.
func (a *Activities) ComputeDay(ctx context.Context, in DayInput) (int64, error) {
	start, err := pipeline.DailyPartitions.ParseTime(in.Day)
	if err != nil {
		return 0, err
	}
	if in.Top <= 0 {
		in.Top = 20
	}
	tx, err := a.DB.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS analytics_top_search_terms (
		day date NOT NULL, term text NOT NULL, searches bigint NOT NULL, PRIMARY KEY (day, term))`); err != nil {
		return 0, fmt.Errorf("create table: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM analytics_top_search_terms WHERE day = $1`, start); err != nil {
		return 0, fmt.Errorf("clear day: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO analytics_top_search_terms (day, term, searches)
		SELECT $1::date, term, count(*) FROM raw_events, regexp_split_to_table(lower(query), '[^[:alnum:]]+') AS term
		WHERE type = 'search' AND ts >= $1 AND ts < $2 AND length(term) >= 3
		GROUP BY term ORDER BY count(*) DESC, term LIMIT $3`, start, start.Add(24*time.Hour), in.Top)
	if err != nil {
		return 0, fmt.Errorf("top terms of %s: %w", in.Day, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return tag.RowsAffected(), nil
}

// checkCounts is the asset's blocking check.
func checkCounts(ctx context.Context, r pipeline.Resources, day string) (pipeline.CheckResult, error) {
	start, err := pipeline.DailyPartitions.ParseTime(day)
	if err != nil {
		return pipeline.CheckResult{}, err
	}
	var bad int64
	if err := r.Warehouse.QueryRow(ctx, `SELECT count(*) FROM analytics_top_search_terms WHERE day = $1 AND searches < 1`,
		start).Scan(&bad); err != nil {
		return pipeline.CheckResult{}, fmt.Errorf("check counts: %w", err)
	}
	return pipeline.CheckResult{Passed: bad == 0, Detail: fmt.Sprintf("%d terms with a count below 1", bad)}, nil
}
