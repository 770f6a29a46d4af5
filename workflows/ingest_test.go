package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities/ingestjob"
)

func TestIngestEventsRunsBothConsumersThenContinuesAsNew(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	var a *ingestjob.Activities
	roles := map[string]bool{}
	env.OnActivity(a.RunConsumer, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in ingestjob.ConsumeInput) (ingestjob.ConsumeResult, error) {
			roles[in.Role] = true
			if in.For != time.Hour {
				t.Errorf("turn = %v", in.For)
			}
			return ingestjob.ConsumeResult{Role: in.Role}, nil
		})
	env.ExecuteWorkflow(IngestEvents, IngestEventsInput{})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	if !roles[ingestjob.RoleLander] || !roles[ingestjob.RoleStream] {
		t.Errorf("roles run: %v", roles)
	}
}

// TestLandEventsWaitsForTheHourToEnd uses the test environment's skipped clock: the
// partition is recorded only after the hour plus grace has passed.
func TestLandEventsWaitsForTheHourToEnd(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	start := time.Date(2026, 11, 23, 10, 20, 0, 0, time.UTC)
	env.SetStartTime(start)
	var a *ingestjob.Activities
	var calledAt time.Time
	env.OnActivity(a.MaterializeHour, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in ingestjob.HourInput) (ingestjob.HourResult, error) {
			calledAt = env.Now()
			return ingestjob.HourResult{Hour: in.Hour, Events: 42}, nil
		})
	env.ExecuteWorkflow(LandEvents, LandEventsInput{Hour: start})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res ingestjob.HourResult
	_ = env.GetWorkflowResult(&res)
	if !res.Hour.Equal(start.Truncate(time.Hour)) || res.Events != 42 {
		t.Errorf("result %+v", res)
	}
	if want := time.Date(2026, 11, 23, 11, 1, 0, 0, time.UTC); calledAt.Before(want) {
		t.Errorf("materialized at %v, before the hour ended plus grace (%v)", calledAt, want)
	}

	// `{}` materializes the previous full hour at once.
	env = newEnv(t)
	passingChecks(env)
	env.SetStartTime(start)
	var got time.Time
	env.OnActivity(a.MaterializeHour, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in ingestjob.HourInput) (ingestjob.HourResult, error) {
			got = in.Hour
			return ingestjob.HourResult{Hour: in.Hour}, nil
		})
	env.ExecuteWorkflow(LandEvents, LandEventsInput{})
	if err := env.GetWorkflowError(); err != nil || !got.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("default hour %v, %v", got, err)
	}
}
