package pools

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/pipeline"
)

// ChangeID is the workflow.GetVersion change of pools: runs recorded before pools existed
// replay without them.
const ChangeID = "curio-pools"

// Retry of AcquirePoolSlots while a pool is full: every attempt is a poll, so the wait
// lasts as long as the run may (its execution timeout, if any).
const (
	pollFirst   = time.Second
	pollBackoff = 1.5
	pollMax     = 10 * time.Second
)

// NewInterceptor returns the worker interceptor that enforces the pools of defs: before a
// run of a job with pools (pipeline.Job.Pools) starts its workflow, it holds a slot of
// each of them (activity AcquirePoolSlots, retried until every pool has one for it), and
// it gives them back when the workflow returns, failed and cancelled included (activity
// ReleasePoolSlots). An interceptor sees every run however it was started: the Temporal
// UI, a schedule, the CLI, the API, automation, a parent workflow.
//
// The pools a run takes are fixed when it starts (recorded in its history), so changing a
// job's pools never breaks the replay of runs in flight; runs of jobs without pools record
// nothing.
func NewInterceptor(defs *pipeline.Definitions) interceptor.WorkerInterceptor {
	return &workerInterceptor{defs: defs}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	defs *pipeline.Definitions
}

func (w *workerInterceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, defs: w.defs}
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	defs *pipeline.Definitions
}

func (w *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	info := workflow.GetInfo(ctx)
	declared := w.defs.Pools(info.WorkflowType.Name)
	// A run that starts without pools records nothing. One replayed may have started when
	// its job had pools: GetVersion finds its marker, SideEffect the pools it took.
	if len(declared) == 0 && !workflow.IsReplaying(ctx) {
		return w.Next.ExecuteWorkflow(ctx, in)
	}
	if workflow.GetVersion(ctx, ChangeID, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return w.Next.ExecuteWorkflow(ctx, in)
	}
	var pools []pipeline.Pool
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return declared }).Get(&pools); err != nil {
		return nil, fmt.Errorf("pools of %s: %w", info.WorkflowType.Name, err)
	}
	if len(pools) == 0 {
		return w.Next.ExecuteWorkflow(ctx, in)
	}
	slots := SlotsInput{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Job: info.WorkflowType.Name, Pools: pools}
	if p := info.ParentWorkflowExecution; p != nil {
		slots.ParentWorkflowID, slots.ParentRunID = p.ID, p.RunID
	}
	if err := acquire(ctx, slots); err != nil {
		release(ctx, slots) // the run may be queued, or hold slots a cancelled attempt took
		return nil, err
	}
	// Not deferred: a workflow that panics (a bug: its task fails and is retried) or is
	// evicted from the worker's cache has not ended, and keeps its slots.
	res, err := w.Next.ExecuteWorkflow(ctx, in)
	release(ctx, slots)
	return res, err
}

// acquire runs AcquirePoolSlots until it holds a slot of every pool; it stops early when
// the run is cancelled, after the attempt in flight has finished (WaitForCancellation), so
// the release that follows sees everything it claimed.
func acquire(ctx workflow.Context, in SlotsInput) error {
	var a *Activities
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		WaitForCancellation: true,
		Summary:             "waiting for a slot of " + describe(in.Pools),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: pollFirst, BackoffCoefficient: pollBackoff, MaximumInterval: pollMax,
			MaximumAttempts: 0, NonRetryableErrorTypes: []string{ErrTypeBadPools},
		},
	})
	if err := workflow.ExecuteActivity(ctx, a.AcquirePoolSlots, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("acquire %s: %w", describe(in.Pools), err)
	}
	return nil
}

// release runs ReleasePoolSlots in a disconnected context, so a cancelled run still gives
// its slots back. Its failure does not fail the run: the slots of an ended run are
// reclaimed when they block another run.
func release(ctx workflow.Context, in SlotsInput) {
	var a *Activities
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		Summary:                "release " + describe(in.Pools),
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	if err := workflow.ExecuteActivity(dctx, a.ReleasePoolSlots, in).Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("pool slots not released; they are reclaimed once the run has ended", "pools", describe(in.Pools), "error", err)
	}
}

// describe names pools for summaries and errors: "pool mysql-publish (limit 1)".
func describe(pools []pipeline.Pool) string {
	s := "pool"
	if len(pools) > 1 {
		s = "pools"
	}
	for i, p := range pools {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s (limit %d)", p.Name, p.Limit)
	}
	return s
}
