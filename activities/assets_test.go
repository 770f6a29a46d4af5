package activities_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

func TestMaterializationsAndBackfillPlan(t *testing.T) {
	ctx := context.Background()
	a, env := setup(t)
	h := func(hr int) time.Time { return time.Date(2026, 11, 23, hr, 0, 0, 0, time.UTC) }
	insertEvents(t, a, [][]any{{"view", "u1", h(9).Add(time.Minute), "m1", nil, nil, nil, nil}})
	run := func(in activities.MaterializeInput) {
		t.Helper()
		if _, err := env.ExecuteActivity(a.RecordMaterialization, in); err != nil {
			t.Fatal(err)
		}
	}
	run(activities.MaterializeInput{Asset: assets.RawEvents, Partition: "2026-11-23T09", Rows: 1, StartedAt: time.Now()})
	// A retried record of the same run replaces its row.
	run(activities.MaterializeInput{Asset: assets.RawEvents, Partition: "2026-11-23T09", Rows: 1, StartedAt: time.Now()})
	if _, err := env.ExecuteActivity(a.RecordMaterialization, activities.MaterializeInput{Asset: "no.such"}); err == nil {
		t.Error("unknown asset must be refused")
	}
	var n int
	_ = a.PG.Pool().QueryRow(ctx, `SELECT count(*) FROM asset_materializations`).Scan(&n)
	if n != 1 {
		t.Errorf("%d records, want 1", n)
	}
	plan := func(only ...string) []string {
		t.Helper()
		v, err := env.ExecuteActivity(a.PlanBackfill, activities.BackfillPlanInput{Asset: assets.RawEvents, From: h(8), To: h(11), Only: only})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		_ = v.Get(&out)
		return out
	}
	if got := plan("missing"); !slices.Equal(got, []string{"2026-11-23T08", "2026-11-23T10"}) {
		t.Errorf("missing = %v", got)
	}
	if got := plan(); len(got) != 3 {
		t.Errorf("all = %v", got)
	}
	ps, err := assets.PartitionsOf(ctx, a.PG, a.Assets, mustAsset(t, a.Assets, assets.RawEvents), h(12))
	if err != nil || len(ps) != 3 || ps[0].Status != assets.StatusMaterialized || ps[0].Partition != "2026-11-23T09" {
		t.Errorf("partitions %+v, %v", ps, err)
	}
}

func mustAsset(t *testing.T, defs *pipeline.Definitions, name string) assets.Asset {
	a, ok := defs.Asset(name)
	if !ok {
		t.Fatalf("no asset %s", name)
	}
	return a
}

func TestPlanBackfillRefusesAnOversizedRangeForGood(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	a := &activities.Activities{Assets: builtinDefs(t)} // no database: the range is refused before any query
	env.RegisterActivity(a)
	from := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := env.ExecuteActivity(a.PlanBackfill, activities.BackfillPlanInput{Asset: assets.RawEvents, From: from, To: from.Add(101 * time.Hour), MaxPartitions: 100})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !strings.Contains(appErr.Error(), "101 partitions") {
		t.Fatalf("want a non-retryable error naming the partition count, got %v", err)
	}
}

// TestRecordMaterializationRunsDeclaredChecks: the record activity evaluates an asset's
// declared checks for every job; a failing blocking check records the partition as failed
// and fails the activity for good, so the run stops before anything downstream.
func TestRecordMaterializationRunsDeclaredChecks(t *testing.T) {
	a, env := setup(t)
	passed := true
	user := pipeline.Job{Name: "Daily", Input: func() any { return &struct{}{} }, Workflow: func(workflow.Context) error { return nil },
		Assets: []pipeline.Asset{{Name: "user.daily", Upstreams: []pipeline.Upstream{pipeline.On(assets.RawEvents)},
			Checks: []pipeline.Check{{Name: "rows_exist", Blocking: true, Run: func(_ context.Context, r pipeline.Resources, partition string) (pipeline.CheckResult, error) {
				if r.Warehouse == nil {
					return pipeline.CheckResult{}, errors.New("no warehouse handed to the check")
				}
				return pipeline.CheckResult{Passed: passed, Detail: "partition " + partition}, nil
			}}, {Name: "advisory", Run: func(context.Context, pipeline.Resources, string) (pipeline.CheckResult, error) {
				return pipeline.CheckResult{Passed: false, Detail: "warning only"}, nil
			}}}}}}
	defs, err := workflows.Definitions(user)
	if err != nil {
		t.Fatal(err)
	}
	a.Assets = defs
	if _, err := env.ExecuteActivity(a.RecordMaterialization, activities.MaterializeInput{Asset: "user.daily", Rows: 3, StartedAt: time.Now()}); err != nil {
		t.Fatalf("passing blocking check, failing warning: %v", err)
	}
	passed = false
	_, err = env.ExecuteActivity(a.RecordMaterialization, activities.MaterializeInput{Asset: "user.daily", Rows: 3, StartedAt: time.Now()})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != pipeline.ErrTypeCheckFailed || !strings.Contains(err.Error(), "rows_exist") {
		t.Fatalf("failing blocking check: %v", err)
	}
	latest, err := a.PG.LatestMaterializations(context.Background(), "user.daily")
	if err != nil {
		t.Fatal(err)
	}
	m := latest[""]
	if m.Status != assets.StatusFailed || len(m.Checks) != 2 || m.Checks[0].Name != "rows_exist" || m.Checks[1].Blocking {
		t.Errorf("recorded %+v", m)
	}
}
