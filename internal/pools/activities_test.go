package pools_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/teststores"
	"github.com/curiodata/curio/pipeline"
)

// fakeTemporal answers DescribeWorkflowExecution from a map of run id → status; runs it
// does not know are not found.
type fakeTemporal map[string]enums.WorkflowExecutionStatus

func (f fakeTemporal) DescribeWorkflowExecution(_ context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	st, ok := f[runID]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow " + workflowID + " not found")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: st}}, nil
}

var _ pools.RunDescriber = fakeTemporal{}

func slotsOf(id string, ps ...pipeline.Pool) pools.SlotsInput {
	return pools.SlotsInput{WorkflowID: id, RunID: "run-" + id, Job: "Publish", Pools: ps}
}

func TestActivities(t *testing.T) {
	ctx := context.Background()
	pg, _, _ := teststores.Open(t)
	temporalRuns := fakeTemporal{"run-a": enums.WORKFLOW_EXECUTION_STATUS_RUNNING, "run-b": enums.WORKFLOW_EXECUTION_STATUS_RUNNING}
	a := &pools.Activities{Store: pg.Pools(), Temporal: temporalRuns}
	publish := pipeline.Pool{Name: "mysql-publish", Limit: 1}

	t.Run("a full pool says who holds it", func(t *testing.T) {
		if err := a.AcquirePoolSlots(ctx, slotsOf("a", publish)); err != nil {
			t.Fatal(err)
		}
		if err := a.AcquirePoolSlots(ctx, slotsOf("a", publish)); err != nil {
			t.Fatalf("a retried acquire of the holder: %v", err)
		}
		err := a.AcquirePoolSlots(ctx, slotsOf("b", publish))
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != pools.ErrTypePoolFull || app.NonRetryable() || app.Category() != temporal.ApplicationErrorCategoryBenign {
			t.Fatalf("error %v, want a retryable, benign %s", err, pools.ErrTypePoolFull)
		}
		for _, want := range []string{"mysql-publish", "limit 1", "Publish a (run run-a)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})

	t.Run("usage", func(t *testing.T) {
		defs, err := pipeline.New(pipeline.Job{Name: "Publish", Workflow: func(workflow.Context) error { return nil },
			Input: func() any { return &struct{}{} }, Pools: []pipeline.Pool{publish}})
		if err != nil {
			t.Fatal(err)
		}
		us, err := (&pools.Monitor{Definitions: defs, Store: pg.Pools()}).Usage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var u pools.Usage
		for _, x := range us {
			if x.Pool == publish.Name {
				u = x
			}
		}
		if u.Limit != 1 || !slices.Contains(u.Jobs, "Publish") || len(u.Holders) != 1 || u.Holders[0].WorkflowID != "a" ||
			len(u.Waiting) != 1 || u.Waiting[0].WorkflowID != "b" {
			t.Errorf("usage of %s: %+v", publish.Name, u)
		}
	})

	t.Run("the slot of a run that ended is reclaimed", func(t *testing.T) {
		temporalRuns["run-a"] = enums.WORKFLOW_EXECUTION_STATUS_TERMINATED
		if err := a.AcquirePoolSlots(ctx, slotsOf("b", publish)); err != nil {
			t.Fatalf("b after a was terminated: %v", err)
		}
		// A run Temporal no longer knows is reclaimed too.
		delete(temporalRuns, "run-b")
		if err := a.AcquirePoolSlots(ctx, slotsOf("c", publish)); err != nil {
			t.Fatalf("c after b was forgotten: %v", err)
		}
	})

	t.Run("release", func(t *testing.T) {
		if err := a.ReleasePoolSlots(ctx, slotsOf("c", publish)); err != nil {
			t.Fatal(err)
		}
		slots, err := pg.Pools().Slots(ctx)
		if err != nil || len(slots) != 0 {
			t.Errorf("slots after release: %+v, %v", slots, err)
		}
	})

	t.Run("a limit raised since a run started applies to it", func(t *testing.T) {
		defs, err := pipeline.New(pipeline.Job{Name: "Publish", Workflow: func(workflow.Context) error { return nil },
			Input: func() any { return &struct{}{} }, Pools: []pipeline.Pool{{Name: publish.Name, Limit: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		raised := &pools.Activities{Store: pg.Pools(), Temporal: temporalRuns, Definitions: defs}
		temporalRuns["run-x"], temporalRuns["run-y"] = enums.WORKFLOW_EXECUTION_STATUS_RUNNING, enums.WORKFLOW_EXECUTION_STATUS_RUNNING
		if err := a.AcquirePoolSlots(ctx, slotsOf("x", publish)); err != nil {
			t.Fatal(err)
		}
		if err := a.AcquirePoolSlots(ctx, slotsOf("y", publish)); err == nil {
			t.Fatal("y acquired a second slot of a pool of 1")
		}
		if err := raised.AcquirePoolSlots(ctx, slotsOf("y", publish)); err != nil {
			t.Fatalf("y with the limit raised to 2: %v", err)
		}
		for _, id := range []string{"x", "y"} {
			if err := a.ReleasePoolSlots(ctx, slotsOf(id, publish)); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("bad input is not retried", func(t *testing.T) {
		err := a.AcquirePoolSlots(ctx, slotsOf("d", pipeline.Pool{Name: "x"}))
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != pools.ErrTypeBadPools {
			t.Errorf("error %v, want non-retryable %s", err, pools.ErrTypeBadPools)
		}
	})
}

// Reading a pool's usage must not fail on slots of a pool no job declares any more.
func TestUsageOfUndeclaredPool(t *testing.T) {
	ctx := context.Background()
	pg, _, _ := teststores.Open(t)
	if _, err := pg.Pools().Acquire(ctx, postgres.PoolClaim{Run: postgres.PoolRun{WorkflowID: "w", RunID: "r"}, Limits: map[string]int{"gone": 1}}); err != nil {
		t.Fatal(err)
	}
	defs, err := pipeline.New()
	if err != nil {
		t.Fatal(err)
	}
	us, err := (&pools.Monitor{Definitions: defs, Store: pg.Pools()}).Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Pool == "gone" && u.Limit == 0 && len(u.Holders) == 1 {
			return
		}
	}
	t.Errorf("usage %+v lacks the undeclared pool with its holder", us)
}
