package workflows

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
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
		env.ExecuteWorkflow(Backfill, BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T06", Only: []string{"failed", "missing"}, DryRun: dry, MaxParallel: 2})
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
		env.ExecuteWorkflow(Backfill, in)
		if env.GetWorkflowError() == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
}
