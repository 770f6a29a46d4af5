package workflows

import (
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// BackfillName is the workflow type name of backfills.
const BackfillName = "Backfill"

// BackfillInput selects the partitions of an asset to (re)materialize. From and To take
// an hour (2026-11-23T10), a date or an RFC 3339 time; To is exclusive and defaults to the
// current hour, From to 24 hours before To (assets.ParseBackfillRange). A range of more
// than MaxPartitions partitions is refused.
type BackfillInput struct {
	Asset       string   `json:"asset"`
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	Only        []string `json:"only,omitempty"` // statuses to backfill: failed, missing, stale, materialized; empty: all
	DryRun      bool     `json:"dry_run,omitempty"`
	MaxParallel int      `json:"max_parallel,omitempty"` // partitions at once; default 4
	// MaxPartitions caps the plan (CURIO_BACKFILL_MAX_PARTITIONS, filled in by the CLI and
	// the API); 0: assets.DefaultMaxBackfillPartitions.
	MaxPartitions int `json:"max_partitions,omitempty"`
}

// BackfillProgress is what the "progress" query returns.
type BackfillProgress struct {
	Asset      string   `json:"asset"`
	Partitions []string `json:"partitions"`
	Done       []string `json:"done"`
	Failed     []string `json:"failed"`
	Skipped    []string `json:"skipped"` // already being materialized by another run
	Running    []string `json:"running"`
	DryRun     bool     `json:"dry_run"`
}

// Backfiller runs backfills over a deployment's definitions: they name each asset's
// partitioning and the job (and its input) that materializes one partition. Definitions
// registers its Backfill method as the Backfill workflow.
type Backfiller struct {
	Defs *pipeline.Definitions
}

// Backfill materializes the selected partitions of an asset as child workflows, at most
// MaxParallel at once. Each child's id is derived from asset and partition, so a partition
// is never materialized twice at once (a partition another run is already materializing is
// skipped); a crashed backfill resumes where it stopped, because its history records which
// children finished.
func (b *Backfiller) Backfill(ctx workflow.Context, in BackfillInput) (BackfillProgress, error) {
	bad := func(err error) error {
		return temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeBadInput, nil)
	}
	asset, ok := b.Defs.Asset(in.Asset)
	if !ok {
		return BackfillProgress{}, bad(fmt.Errorf("unknown asset %q: known assets are %v", in.Asset, b.Defs.AssetNames()))
	}
	if in.MaxParallel <= 0 {
		in.MaxParallel = 4
	}
	switch {
	case in.MaxPartitions <= 0:
		in.MaxPartitions = assets.DefaultMaxBackfillPartitions
	case in.MaxPartitions > assets.MaxBackfillPartitionsCeiling:
		in.MaxPartitions = assets.MaxBackfillPartitionsCeiling
	}
	// A range too long would plan more partitions than one payload holds: refuse it before
	// planning, for good (retrying cannot make it fit).
	rng, err := assets.ParseBackfillRange(asset, in.From, in.To, workflow.Now(ctx), in.MaxPartitions)
	if err != nil {
		return BackfillProgress{}, bad(err)
	}
	for _, s := range in.Only {
		if !slices.Contains([]string{assets.StatusFailed, assets.StatusMissing, assets.StatusStale, assets.StatusMaterialized}, s) {
			return BackfillProgress{}, bad(fmt.Errorf("only: unknown status %q (want failed, missing, stale or materialized)", s))
		}
	}
	p := BackfillProgress{Asset: in.Asset, DryRun: in.DryRun}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (BackfillProgress, error) { return p, nil }); err != nil {
		return p, fmt.Errorf("register progress query: %w", err)
	}
	var a *activities.Activities
	err = workflow.ExecuteActivity(shortActivity(ctx), a.PlanBackfill, activities.BackfillPlanInput{
		Asset: in.Asset, From: rng.From, To: rng.To, Only: in.Only, MaxPartitions: in.MaxPartitions}).Get(ctx, &p.Partitions)
	if err != nil {
		return p, fmt.Errorf("plan backfill: %w", err)
	}
	if n := len(p.Partitions); n > in.MaxPartitions {
		p.Partitions = nil // the progress query must not carry an oversized plan either
		return p, bad(fmt.Errorf("%w: the plan for %s holds %d partitions, at most %d may be backfilled at once (CURIO_BACKFILL_MAX_PARTITIONS): split the range",
			assets.ErrTooManyPartitions, in.Asset, n, in.MaxPartitions))
	}
	if in.DryRun || len(p.Partitions) == 0 {
		return p, nil
	}
	err = boundedFanOut(ctx, len(p.Partitions), in.MaxParallel,
		func(i int) workflow.Future {
			part := p.Partitions[i]
			p.Running = append(p.Running, part)
			name, input, err := b.Defs.PartitionRun(in.Asset, part)
			if err != nil {
				f, set := workflow.NewFuture(ctx)
				set.SetError(err)
				return f
			}
			id := "asset/" + in.Asset
			if part != "" {
				id += "/" + part
			}
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:            id,
				WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
			})
			return workflow.ExecuteChildWorkflow(cctx, name, input)
		},
		func(i int, f workflow.Future) error {
			part := p.Partitions[i]
			p.Running = slices.DeleteFunc(p.Running, func(s string) bool { return s == part })
			err := f.Get(ctx, nil)
			var started *temporal.ChildWorkflowExecutionAlreadyStartedError
			switch {
			case errors.As(err, &started):
				p.Skipped = append(p.Skipped, part)
			case err != nil:
				p.Failed = append(p.Failed, part)
			default:
				p.Done = append(p.Done, part)
			}
			return nil // one failed partition does not stop the others
		})
	if err != nil {
		return p, err
	}
	if len(p.Failed) > 0 {
		return p, fmt.Errorf("backfill of %s: %d of %d partitions failed: %v", in.Asset, len(p.Failed), len(p.Partitions), p.Failed)
	}
	return p, nil
}
