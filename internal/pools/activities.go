package pools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
)

// Error types of AcquirePoolSlots (temporal.ApplicationError's type).
const (
	// ErrTypePoolFull: a pool has no slot for the run yet; the activity is retried.
	ErrTypePoolFull = "PoolFull"
	// ErrTypeBadPools: the request cannot succeed (no run, a pool without a positive limit).
	ErrTypeBadPools = "BadPools"
)

// RunDescriber tells whether a run is still running (a client.Client is one).
type RunDescriber interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

// Activities are the pools' activities, run by the interceptor (NewInterceptor) around
// every run of a job with pools. The method names are the Temporal activity names:
// recorded histories refer to them, so they must not change.
type Activities struct {
	Store *postgres.PoolStore
	// Temporal finds the holders that ended without releasing their slots (terminated,
	// timed out); nil leaves them until a run releases.
	Temporal RunDescriber
	// Definitions, when set, give the pools' current limits: a limit changed since a run
	// started applies to it while it waits. Without them, the limits the run started with.
	Definitions *pipeline.Definitions
	Logger      *slog.Logger
}

// SlotsInput names a run and the pools it holds slots of.
type SlotsInput struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Job        string `json:"job"`
	// The parent run, for a child workflow: a slot the parent holds is shared with it.
	ParentWorkflowID string          `json:"parent_workflow_id,omitempty"`
	ParentRunID      string          `json:"parent_run_id,omitempty"`
	Pools            []pipeline.Pool `json:"pools"`
}

// AcquirePoolSlots takes a slot of every pool of in for the run, or none; when a pool is
// full it fails with ErrTypePoolFull, naming the pool, its limit and the runs holding it
// (what the Temporal UI shows on the waiting run), and the retry policy polls again. The
// runs first in line get the slots. Before refusing, it gives back the slots of runs that
// are no longer running. Claiming again for a run that holds its slots succeeds.
func (a *Activities) AcquirePoolSlots(ctx context.Context, in SlotsInput) error {
	if in.WorkflowID == "" || in.RunID == "" || len(in.Pools) == 0 {
		return temporal.NewNonRetryableApplicationError("acquire pool slots: want a workflow id, a run id and pools", ErrTypeBadPools, nil)
	}
	claim := postgres.PoolClaim{
		Run:    postgres.PoolRun{WorkflowID: in.WorkflowID, RunID: in.RunID, Job: in.Job},
		Parent: postgres.PoolRun{WorkflowID: in.ParentWorkflowID, RunID: in.ParentRunID},
		Limits: map[string]int{},
	}
	for _, p := range in.Pools {
		if p.Name == "" || p.Limit <= 0 {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("pool %q: limit %d must be positive", p.Name, p.Limit), ErrTypeBadPools, nil)
		}
		claim.Limits[p.Name] = p.Limit
		if limit, ok := a.limit(p.Name); ok {
			claim.Limits[p.Name] = limit
		}
	}
	for reaped := false; ; reaped = true {
		g, err := a.Store.Acquire(ctx, claim)
		if err != nil {
			return err
		}
		if g.Acquired {
			a.logger().Info("pool slots acquired", "workflow_id", in.WorkflowID, "run_id", in.RunID, "pools", describe(in.Pools))
			return nil
		}
		if reaped || a.reapEnded(ctx, g.Blocked) == 0 {
			full := fullMessage(g.Blocked)
			if activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt == 1 { // once per run, not per poll
				a.logger().Info("run waits for pool slots", "workflow_id", in.WorkflowID, "run_id", in.RunID, "why", full)
			}
			// Benign: waiting is normal operation, so the SDK logs each poll at debug level
			// and counts no activity failure.
			return temporal.NewApplicationErrorWithOptions(full, ErrTypePoolFull, temporal.ApplicationErrorOptions{
				Category: temporal.ApplicationErrorCategoryBenign})
		}
	}
}

// ReleasePoolSlots gives back the slots the run holds or waits for.
func (a *Activities) ReleasePoolSlots(ctx context.Context, in SlotsInput) error {
	n, err := a.Store.Release(ctx, in.WorkflowID, in.RunID)
	if err != nil {
		return err
	}
	if n > 0 {
		a.logger().Info("pool slots released", "workflow_id", in.WorkflowID, "run_id", in.RunID, "pools", describe(in.Pools))
	}
	return nil
}

// reapEnded releases the slots of the blocking runs that are no longer running (a run
// that was terminated or timed out never releases), and returns how many runs it found.
func (a *Activities) reapEnded(ctx context.Context, blocked []postgres.PoolBlock) int {
	if a.Temporal == nil {
		return 0
	}
	seen := map[postgres.PoolRun]bool{}
	n := 0
	for _, b := range blocked {
		for _, s := range append(append([]postgres.PoolSlot(nil), b.Holders...), b.Ahead...) {
			run := postgres.PoolRun{WorkflowID: s.WorkflowID, RunID: s.RunID}
			if seen[run] {
				continue
			}
			seen[run] = true
			ended, status, err := a.ended(ctx, run)
			if err != nil {
				a.logger().Warn("could not tell whether a pool slot's run is running", "pool", s.Pool, "workflow_id", run.WorkflowID, "run_id", run.RunID, "err", err)
				continue
			}
			if !ended {
				continue
			}
			if _, err := a.Store.Release(ctx, run.WorkflowID, run.RunID); err != nil {
				a.logger().Warn("could not release the pool slots of an ended run", "workflow_id", run.WorkflowID, "run_id", run.RunID, "err", err)
				continue
			}
			a.logger().Warn("released the pool slots of a run that ended without releasing them", "pool", s.Pool,
				"workflow_id", run.WorkflowID, "run_id", run.RunID, "status", status)
			n++
		}
	}
	return n
}

// ended reports whether run has closed (or is unknown to Temporal), and its status.
func (a *Activities) ended(ctx context.Context, run postgres.PoolRun) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := a.Temporal.DescribeWorkflowExecution(ctx, run.WorkflowID, run.RunID)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return true, "not found", nil
	case err != nil:
		return false, "", fmt.Errorf("describe %s: %w", run, err)
	}
	st := resp.GetWorkflowExecutionInfo().GetStatus()
	return st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING, st.String(), nil
}

// fullMessage says why a run waits: "waiting for a slot: pool mysql-publish (limit 1):
// held by CatalogPipeline cat-1 (run 0193…) since 2026-12-01 12:03:04 UTC; 1 run waiting
// ahead (first …)".
func fullMessage(blocked []postgres.PoolBlock) string {
	var parts []string
	for _, b := range blocked {
		var holders []string
		for _, h := range b.Holders {
			s := h.PoolRun.String()
			if h.AcquiredAt != nil {
				s += " since " + h.AcquiredAt.UTC().Format(time.DateTime) + " UTC"
			}
			holders = append(holders, s)
		}
		msg := fmt.Sprintf("pool %s (limit %d)", b.Pool, b.Limit)
		if len(holders) > 0 {
			msg += ": held by " + strings.Join(holders, ", ")
		}
		if n := len(b.Ahead); n > 0 {
			msg += fmt.Sprintf("; %d %s waiting ahead (first %s)", n, plural(n, "run", "runs"), b.Ahead[0].PoolRun)
		}
		parts = append(parts, msg)
	}
	return "waiting for a slot: " + strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// limit is the pool's declared limit in a.Definitions, if it is declared there.
func (a *Activities) limit(pool string) (int, bool) {
	if a.Definitions == nil {
		return 0, false
	}
	for _, j := range a.Definitions.Jobs() {
		for _, p := range j.Pools {
			if p.Name == pool {
				return p.Limit, true
			}
		}
	}
	return 0, false
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}
