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
	// PartitionsPerRun is how many partitions one run materializes before it continues as
	// new (each child adds several events to the history, which Temporal caps at 51,200);
	// 0: defaultBackfillPartitionsPerRun. A run also continues as new earlier when Temporal
	// suggests it.
	PartitionsPerRun int `json:"partitions_per_run,omitempty"`
	// State is set by the backfill itself when it continues as new: the plan and the
	// progress of the runs before. Leave it out when starting a backfill.
	State *BackfillState `json:"state,omitempty"`
}

// defaultBackfillPartitionsPerRun keeps one run's history far below Temporal's 51,200
// events (a child workflow adds about six).
const defaultBackfillPartitionsPerRun = 500

// backfillContinueAsNew is the workflow.GetVersion change id of continuing a backfill as new
// every PartitionsPerRun partitions: runs that started before it run every partition in one
// run.
const backfillContinueAsNew = "backfill-continue-as-new"

// BackfillState is what a backfill carries into the run it continues as new in: the whole
// plan, so the planning activity is not run again and the progress query keeps reporting the
// whole backfill, and the partitions done, failed and skipped so far. A run continues as new
// only once every child it started has finished, so those are the first
// len(Done)+len(Failed)+len(Skipped) partitions of the plan; the rest remain. It is at most
// the size of the progress the last run returns (the plan is capped by MaxPartitions).
type BackfillState struct {
	Partitions []string `json:"partitions"`
	Done       []string `json:"done,omitempty"`
	Failed     []string `json:"failed,omitempty"`
	Skipped    []string `json:"skipped,omitempty"`
}

// Finished is how many partitions of the plan earlier runs materialized (or failed or skipped).
func (s *BackfillState) Finished() int { return len(s.Done) + len(s.Failed) + len(s.Skipped) }

// Remaining are the partitions of the plan left to later runs.
func (s *BackfillState) Remaining() []string {
	return s.Partitions[min(s.Finished(), len(s.Partitions)):]
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
	if in.PartitionsPerRun <= 0 {
		in.PartitionsPerRun = defaultBackfillPartitionsPerRun
	}
	// A range too long would plan more partitions than one payload holds: refuse it before
	// planning, for good (retrying cannot make it fit). A continued backfill carries its plan:
	// its range is not parsed again (a "to" defaulting to the current hour has moved since).
	var rng assets.BackfillRange
	if in.State == nil {
		var err error
		if rng, err = assets.ParseBackfillRange(asset, in.From, in.To, workflow.Now(ctx), in.MaxPartitions); err != nil {
			return BackfillProgress{}, bad(err)
		}
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
	if st := in.State; st != nil {
		p.Partitions, p.Done, p.Failed, p.Skipped = st.Partitions, st.Done, st.Failed, st.Skipped
		if st.Finished() > len(st.Partitions) {
			return p, bad(fmt.Errorf("state: %d partitions finished of a plan of %d", st.Finished(), len(st.Partitions)))
		}
	} else {
		var a *activities.Activities
		err := workflow.ExecuteActivity(shortActivity(ctx), a.PlanBackfill, activities.BackfillPlanInput{
			Asset: in.Asset, From: rng.From, To: rng.To, Only: in.Only, MaxPartitions: in.MaxPartitions}).Get(ctx, &p.Partitions)
		if err != nil {
			return p, fmt.Errorf("plan backfill: %w", err)
		}
	}
	if n := len(p.Partitions); n > in.MaxPartitions {
		p.Partitions = nil // the progress query must not carry an oversized plan either
		return p, bad(fmt.Errorf("%w: the plan for %s holds %d partitions, at most %d may be backfilled at once (CURIO_BACKFILL_MAX_PARTITIONS): split the range",
			assets.ErrTooManyPartitions, in.Asset, n, in.MaxPartitions))
	}
	if in.DryRun || len(p.Partitions) == 0 {
		return p, nil
	}
	// Runs that started before backfills continued as new (DefaultVersion) run every
	// partition here; newer ones at most PartitionsPerRun, then continue as new.
	canContinue := workflow.GetVersion(ctx, backfillContinueAsNew, workflow.DefaultVersion, 1) >= 1
	todo := p.Partitions[len(p.Done)+len(p.Failed)+len(p.Skipped):]
	n := len(todo)
	if canContinue {
		n = min(n, in.PartitionsPerRun)
	}
	begun := 0
	err := boundedFanOut(ctx, n, in.MaxParallel,
		func(i int) workflow.Future {
			begun++
			part := todo[i]
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
			part := todo[i]
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
			if canContinue && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				return errBackfillContinue // start no more here: wait for the others, continue as new
			}
			return nil // one failed partition does not stop the others
		})
	if err != nil && !errors.Is(err, errBackfillContinue) {
		return p, err
	}
	if begun < len(todo) {
		// Every child started here has finished: the rest, with the progress so far, goes to
		// a new run (the same workflow id, so the progress query and the result follow it).
		next := in
		next.State = &BackfillState{Partitions: p.Partitions, Done: p.Done, Failed: p.Failed, Skipped: p.Skipped}
		return p, workflow.NewContinueAsNewError(ctx, BackfillName, next)
	}
	if len(p.Failed) > 0 {
		return p, fmt.Errorf("backfill of %s: %d of %d partitions failed: %v", in.Asset, len(p.Failed), len(p.Partitions), p.Failed)
	}
	return p, nil
}

// errBackfillContinue stops a backfill run from starting more partitions when Temporal
// suggests continuing as new.
var errBackfillContinue = errors.New("backfill: continue as new")
