package pipeline

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RecordActivity is the platform's activity that records a materialization (the lineage
// record the asset graph, `curio assets` and the pipeline page read).
const RecordActivity = "RecordMaterialization"

// ErrTypeCheckFailed marks a run stopped by a failed blocking check.
const ErrTypeCheckFailed = "AssetCheckFailed"

// Materialization is what RecordActivity records for one asset partition.
type Materialization struct {
	Asset       string        `json:"asset"`
	Partition   string        `json:"partition,omitempty"`
	Failed      bool          `json:"failed,omitempty"`
	Rows        int64         `json:"rows"`
	DataVersion string        `json:"data_version,omitempty"`
	StartedAt   time.Time     `json:"started_at"`
	Checks      []CheckResult `json:"checks,omitempty"`
	Error       string        `json:"error,omitempty"`
}

// platformActivity bounds the platform's own short activities.
func platformActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{ErrTypeCheckFailed}},
	})
}

// Materialize is how a job's workflow materializes one partition of an asset (""
// when unpartitioned): it runs compute (the job's own activities, returning the rows
// written) and records the outcome through the platform, which evaluates the asset's
// declared checks as it records. A compute error is recorded as a failed materialization
// and returned; a failing blocking check is recorded and fails the run for good (error type
// ErrTypeCheckFailed), so nothing downstream runs on bad data.
func Materialize(ctx workflow.Context, asset, partition string, compute func(ctx workflow.Context) (rows int64, err error)) error {
	started := workflow.Now(ctx)
	record := func(m Materialization) error {
		m.Asset, m.Partition, m.StartedAt = asset, partition, started
		if err := workflow.ExecuteActivity(platformActivity(ctx), RecordActivity, m).Get(ctx, nil); err != nil {
			return fmt.Errorf("record %s: %w", asset, err)
		}
		return nil
	}
	rows, err := compute(ctx)
	if err != nil {
		if rerr := record(Materialization{Failed: true, Error: err.Error()}); rerr != nil {
			return fmt.Errorf("%w (and %w)", err, rerr)
		}
		return err
	}
	return record(Materialization{Rows: rows})
}

// BlockingFailures describes the failed blocking checks as "name (detail); ...", or ""
// when all passed.
func BlockingFailures(checks []CheckResult) string {
	var failed []string
	for _, c := range checks {
		if c.Blocking && !c.Passed {
			failed = append(failed, c.Name+" ("+c.Detail+")")
		}
	}
	return strings.Join(failed, "; ")
}

// CheckFailedMessage is the error of a run stopped by a failed blocking check of asset:
// why it failed and the downstream assets it blocks.
func CheckFailedMessage(asset, why string, downstream []string) string {
	return fmt.Sprintf("asset %s: blocking check failed: %s; not materialized downstream: %s", asset, why, strings.Join(downstream, ", "))
}
