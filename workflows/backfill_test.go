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
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/ingestjob"
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
		var ingest *ingestjob.Activities
		env.OnActivity(ingest.MaterializeHour, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in ingestjob.HourInput) (ingestjob.HourResult, error) {
				mu.Lock()
				hours = append(hours, in.Hour)
				mu.Unlock()
				return ingestjob.HourResult{Hour: in.Hour}, nil
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

// backfillRun runs the Backfill workflow over planned (the PlanBackfill answer) with in and
// returns its progress query at the end, the partitions its children materialized, how many
// times it planned and the workflow's error.
func backfillRun(t *testing.T, planned []string, in BackfillInput, opts ...func(*testsuite.TestWorkflowEnvironment)) (BackfillProgress, []string, int, error) {
	t.Helper()
	env := newEnv(t)
	passingChecks(env)
	env.SetStartTime(time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC))
	env.RegisterWorkflowWithOptions(LandEvents, workflow.RegisterOptions{Name: LandEventsName})
	for _, o := range opts {
		o(env)
	}
	var a *activities.Activities
	plans := 0
	env.OnActivity(a.PlanBackfill, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.BackfillPlanInput) ([]string, error) { plans++; return planned, nil }).Maybe()
	var mu sync.Mutex
	var ran []string
	var ingest *ingestjob.Activities
	env.OnActivity(ingest.MaterializeHour, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in ingestjob.HourInput) (ingestjob.HourResult, error) {
			mu.Lock()
			ran = append(ran, assets.PartitionKey(in.Hour))
			mu.Unlock()
			return ingestjob.HourResult{Hour: in.Hour}, nil
		}).Maybe()
	env.ExecuteWorkflow(backfillWorkflow(t), in)
	var p BackfillProgress
	if v, err := env.QueryWorkflow(ProgressQuery); err != nil {
		t.Fatal(err)
	} else if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ran)
	return p, ran, plans, env.GetWorkflowError()
}

// backfillContinued asserts err continues the backfill as new and returns the next input.
func backfillContinued(t *testing.T, err error) BackfillInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	if can.WorkflowType.Name != BackfillName {
		t.Fatalf("continued as %q", can.WorkflowType.Name)
	}
	var next BackfillInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil {
		t.Fatal("continued without state")
	}
	return next
}

var fivePartitions = []string{"2026-11-23T05", "2026-11-23T06", "2026-11-23T07", "2026-11-23T08", "2026-11-23T09"}

func TestBackfillContinuesAsNewWithTheRestOfThePlan(t *testing.T) {
	in := BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T05", To: "2026-11-23T10", PartitionsPerRun: 2}
	p, ran, plans, err := backfillRun(t, fivePartitions, in)
	next := backfillContinued(t, err)
	st := next.State
	if plans != 1 || !slices.Equal(ran, fivePartitions[:2]) {
		t.Errorf("first run planned %d times and ran %v, want once and %v", plans, ran, fivePartitions[:2])
	}
	if !slices.Equal(st.Partitions, fivePartitions) || !slices.Equal(st.Remaining(), fivePartitions[2:]) || len(st.Done) != 2 ||
		len(st.Failed)+len(st.Skipped) != 0 {
		t.Errorf("carried state %+v (remaining %v), want 2 done and 3 remaining", st, st.Remaining())
	}
	if next.Asset != in.Asset || next.From != in.From || next.To != in.To || next.PartitionsPerRun != 2 || next.MaxParallel != 4 {
		t.Errorf("next input %+v does not carry the backfill's settings", next)
	}
	if len(p.Partitions) != 5 || len(p.Done) != 2 || len(p.Running) != 0 {
		t.Errorf("progress at the end of the first run %+v, want 2 of 5 done", p)
	}

	// A run from that input neither plans again nor redoes the done partitions; with room for
	// the rest it finishes, and its progress and result cover the whole backfill.
	last := next
	last.PartitionsPerRun = 0
	p, ran, plans, err = backfillRun(t, fivePartitions, last)
	if err != nil {
		t.Fatal(err)
	}
	if plans != 0 || !slices.Equal(ran, fivePartitions[2:]) {
		t.Errorf("continued run planned %d times and ran %v, want %v", plans, ran, fivePartitions[2:])
	}
	done := slices.Clone(p.Done)
	slices.Sort(done)
	if !slices.Equal(p.Partitions, fivePartitions) || !slices.Equal(done, fivePartitions) || len(p.Failed)+len(p.Skipped) != 0 {
		t.Errorf("final progress %+v, want all 5 done", p)
	}

	// With 2 a run, the continued run continues again; its progress counts the carried ones.
	p, ran, plans, err = backfillRun(t, fivePartitions, next)
	again := backfillContinued(t, err)
	if plans != 0 || !slices.Equal(ran, fivePartitions[2:4]) || len(p.Done) != 4 || len(p.Partitions) != 5 ||
		!slices.Equal(again.State.Remaining(), fivePartitions[4:]) {
		t.Errorf("second run ran %v, progress %+v, continued with %+v", ran, p, again.State)
	}
}

func TestBackfillCarriesFailuresToTheLastRun(t *testing.T) {
	// Failures and skips of earlier runs are reported, and fail the backfill, at its end.
	in := BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T05", To: "2026-11-23T10", State: &BackfillState{
		Partitions: fivePartitions, Done: fivePartitions[:1], Failed: fivePartitions[1:2], Skipped: fivePartitions[2:3]}}
	p, ran, plans, err := backfillRun(t, nil, in)
	if err == nil || !strings.Contains(err.Error(), "1 of 5 partitions failed") {
		t.Errorf("want the carried failure, got %v", err)
	}
	if plans != 0 || !slices.Equal(ran, fivePartitions[3:]) || len(p.Done) != 3 || len(p.Failed) != 1 || len(p.Skipped) != 1 {
		t.Errorf("ran %v, progress %+v", ran, p)
	}
	// A state claiming more finished partitions than its plan holds is refused.
	in.State = &BackfillState{Partitions: fivePartitions[:1], Done: fivePartitions[:2]}
	_, _, _, err = backfillRun(t, nil, in)
	nonRetryable(t, err, "finished of a plan of 1")
}

func TestBackfillSmallDefaultRunDoesNotContinueAsNew(t *testing.T) {
	p, ran, _, err := backfillRun(t, fivePartitions, BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T05", To: "2026-11-23T10"})
	if err != nil {
		t.Fatalf("want the backfill to finish in one run, got %v", err)
	}
	if !slices.Equal(ran, fivePartitions) || len(p.Done) != 5 {
		t.Errorf("ran %v, progress %+v", ran, p)
	}
}

// TestBackfillStartedBeforeContinueAsNewRunsEverything: a run whose history predates the
// backfill-continue-as-new change (GetVersion answers DefaultVersion) runs every partition
// itself, so replaying it issues the same commands as when it was recorded.
func TestBackfillStartedBeforeContinueAsNewRunsEverything(t *testing.T) {
	p, ran, _, err := backfillRun(t, fivePartitions, BackfillInput{Asset: assets.RawEvents, From: "2026-11-23T05", To: "2026-11-23T10", PartitionsPerRun: 2},
		func(env *testsuite.TestWorkflowEnvironment) {
			env.OnGetVersion(backfillContinueAsNew, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		})
	if err != nil {
		t.Fatalf("want the old behaviour (no continue-as-new), got %v", err)
	}
	if !slices.Equal(ran, fivePartitions) || len(p.Done) != 5 {
		t.Errorf("ran %v, progress %+v", ran, p)
	}
}
