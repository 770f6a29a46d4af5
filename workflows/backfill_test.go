package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/assets"
)

func TestBackfillRunsExactlyThePlannedPartitions(t *testing.T) {
	planned := []string{"2026-11-23T07", "2026-11-23T09", "2026-11-23T10"}
	run := func(dry bool) (BackfillProgress, []time.Time, activities.BackfillPlanInput) {
		env := newEnv(t)
		passingChecks(env)
		env.SetStartTime(time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC))
		env.RegisterWorkflowWithOptions(LandEvents, workflow.RegisterOptions{Name: LandEventsName})
		var a *activities.Activities
		var plan activities.BackfillPlanInput
		env.OnActivity(a.PlanBackfill, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.BackfillPlanInput) ([]string, error) {
				plan = in
				return planned, nil
			})
		var mu sync.Mutex
		var hours []time.Time
		env.OnActivity(a.MaterializeHour, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.HourInput) (activities.HourResult, error) {
				mu.Lock()
				hours = append(hours, in.Hour)
				mu.Unlock()
				return activities.HourResult{Hour: in.Hour}, nil
			})
		env.ExecuteWorkflow(backfillWorkflow(t), BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T06", Only: []string{"failed", "missing"}, DryRun: dry, MaxParallel: 2})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		var p BackfillProgress
		_ = env.GetWorkflowResult(&p)
		return p, hours, plan
	}

	p, hours, plan := run(true)
	if !slices.Equal(p.Partitions, planned) || len(hours) != 0 || !p.DryRun {
		t.Errorf("dry run: %+v, ran %v", p, hours)
	}
	if !plan.From.Equal(time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)) || !plan.To.Equal(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) ||
		!slices.Equal(plan.Only, []string{"failed", "missing"}) {
		t.Errorf("plan input %+v", plan)
	}

	p, hours, _ = run(false)
	slices.SortFunc(hours, func(a, b time.Time) int { return a.Compare(b) })
	var got []string
	for _, h := range hours {
		got = append(got, assets.PartitionKey(h))
	}
	if !slices.Equal(got, planned) || len(p.Done) != 3 || len(p.Failed) != 0 {
		t.Errorf("backfill ran %v, progress %+v", got, p)
	}
}

func TestBackfillRejectsBadInput(t *testing.T) {
	for _, in := range []BackfillInput{{Asset: "nope"}, {Asset: assets.RawEvents, From: "yesterday"},
		{Asset: assets.RawEvents, Only: []string{"broken"}}, {Asset: assets.RawEvents, From: "2026-11-23T10", To: "2026-11-23T09"}} {
		env := newEnv(t)
		env.ExecuteWorkflow(backfillWorkflow(t), in)
		if env.GetWorkflowError() == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
}

// nonRetryable asserts that err is a non-retryable application error (one Temporal does not
// retry forever) whose message contains want.
func nonRetryable(t *testing.T, err error, want string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !strings.Contains(appErr.Error(), want) {
		t.Errorf("want a non-retryable application error containing %q, got %v", want, err)
	}
}

func TestBackfillRefusesOversizedPlansForGood(t *testing.T) {
	var a *activities.Activities
	// A range longer than the limit is refused before planning.
	for _, in := range []BackfillInput{
		{Asset: assets.RawEvents, From: "1970-01-01T00", To: "2026-11-23T00", DryRun: true},
		{Asset: assets.RawEvents, From: "2026-11-20T00", To: "2026-11-23T00", MaxPartitions: 48},
	} {
		env := newEnv(t)
		env.SetStartTime(time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC))
		planned := false
		env.OnActivity(a.PlanBackfill, mock.Anything, mock.Anything).Return(
			func(context.Context, activities.BackfillPlanInput) ([]string, error) { planned = true; return nil, nil }).Maybe()
		env.ExecuteWorkflow(backfillWorkflow(t), in)
		nonRetryable(t, env.GetWorkflowError(), "at most")
		if planned {
			t.Errorf("%+v: planned an oversized range", in)
		}
	}
	// The limit travels to the planning activity, and a plan over it is refused too.
	env := newEnv(t)
	env.SetStartTime(time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC))
	var got activities.BackfillPlanInput
	env.OnActivity(a.PlanBackfill, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BackfillPlanInput) ([]string, error) {
			got = in
			return []string{"2026-11-23T01", "2026-11-23T02", "2026-11-23T03"}, nil
		})
	env.ExecuteWorkflow(backfillWorkflow(t), BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T01", To: "2026-11-23T03", MaxPartitions: 2})
	nonRetryable(t, env.GetWorkflowError(), "3 partitions")
	if got.MaxPartitions != 2 {
		t.Errorf("plan input %+v: want MaxPartitions 2", got)
	}
}

func TestBackfillBadRangeFailsForGood(t *testing.T) {
	for _, in := range []BackfillInput{{Asset: assets.RawEvents, From: "not-a-date"}, {Asset: assets.RawEvents, To: "9999-12-31T23"}} {
		env := newEnv(t)
		env.ExecuteWorkflow(backfillWorkflow(t), in)
		nonRetryable(t, env.GetWorkflowError(), "invalid backfill range")
	}
}

// backfillWorkflow is the Backfill workflow over the built-in definitions.
func backfillWorkflow(t *testing.T) func(workflow.Context, BackfillInput) (BackfillProgress, error) {
	t.Helper()
	defs, err := Definitions()
	if err != nil {
		t.Fatal(err)
	}
	j, _ := defs.Job(BackfillName)
	return j.Workflow.(func(workflow.Context, BackfillInput) (BackfillProgress, error))
}
