package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// ErrTypeCheckFailed marks a run stopped by a failed blocking asset check.
const ErrTypeCheckFailed = pipeline.ErrTypeCheckFailed

// recordAsset writes an asset partition's lineage record for this run.
func recordAsset(ctx workflow.Context, in activities.MaterializeInput) error {
	var a *activities.Activities
	if err := workflow.ExecuteActivity(shortActivity(ctx), a.RecordMaterialization, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("record %s: %w", in.Asset, err)
	}
	return nil
}

// checkFailed records asset as failed with its checks and returns the error that stops
// the run, naming the downstream assets it blocks.
func checkFailed(ctx workflow.Context, asset, partition string, started time.Time, checks []assets.CheckResult, why string) error {
	var downstream []string
	if defs, err := pipeline.New(Jobs()...); err == nil { // the built-in graph: pure, so deterministic
		downstream = defs.Downstream(asset)
	}
	msg := pipeline.CheckFailedMessage(asset, why, downstream)
	if err := recordAsset(ctx, activities.MaterializeInput{Asset: asset, Partition: partition, Failed: true,
		StartedAt: started, Checks: checks, Error: msg}); err != nil {
		return err
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeCheckFailed, nil)
}
