package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// MaterializeInput records one asset partition's outcome for the calling workflow run: the
// platform's record activity input, shared with user jobs (pipeline.Materialize).
type MaterializeInput = pipeline.Materialization

// RecordMaterialization writes the lineage record of an asset partition. Before recording
// a success it evaluates the asset's declared checks (pipeline.Check with Run) and adds
// their results; when a blocking one fails, the partition is recorded as failed and the
// activity fails for good with pipeline.ErrTypeCheckFailed, so the run stops before any
// downstream asset. Checks that a job evaluates in its own activities arrive in in.Checks.
func (a *Activities) RecordMaterialization(ctx context.Context, in MaterializeInput) error {
	asset, ok := a.Assets.Asset(in.Asset)
	if !ok {
		return nonRetryable(ErrTypeBadInput, fmt.Errorf("unknown asset %q", in.Asset))
	}
	var why string
	if !in.Failed {
		res := pipeline.Resources{Logger: a.log(ctx)}
		if a.PG != nil {
			res.Warehouse = a.PG.Pool()
		}
		declared, err := a.Assets.RunChecks(ctx, res, pipeline.ChecksInput{Asset: in.Asset, Partition: in.Partition})
		if err != nil {
			return err
		}
		in.Checks = append(in.Checks, declared...)
		if why = pipeline.BlockingFailures(declared); why != "" {
			in.Failed = true
			in.Error = pipeline.CheckFailedMessage(in.Asset, why, a.Assets.Downstream(asset.Name))
		}
	}
	info := activity.GetInfo(ctx)
	status := assets.StatusMaterialized
	if in.Failed {
		status = assets.StatusFailed
	}
	if err := a.PG.RecordMaterialization(ctx, assets.Materialization{Asset: in.Asset, Partition: in.Partition, Status: status,
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Rows: in.Rows, DataVersion: in.DataVersion,
		StartedAt: in.StartedAt, Checks: in.Checks, Error: in.Error}); err != nil {
		return err
	}
	if why != "" {
		return nonRetryable(pipeline.ErrTypeCheckFailed, errors.New(in.Error))
	}
	return nil
}

// BackfillPlanInput selects partitions of an asset.
type BackfillPlanInput struct {
	Asset string    `json:"asset"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Only  []string  `json:"only,omitempty"` // statuses to keep; empty keeps all
	// MaxPartitions caps the range; 0: assets.DefaultMaxBackfillPartitions.
	MaxPartitions int `json:"max_partitions,omitempty"`
}

// PlanBackfill lists the asset's partitions in [From, To) whose status is in Only. A range
// of more than MaxPartitions partitions fails for good.
func (a *Activities) PlanBackfill(ctx context.Context, in BackfillPlanInput) ([]string, error) {
	asset, ok := a.Assets.Asset(in.Asset)
	if !ok {
		return nil, nonRetryable(ErrTypeBadInput, fmt.Errorf("unknown asset %q", in.Asset))
	}
	if _, err := assets.CheckPartitionCount(asset, in.From, in.To, in.MaxPartitions); err != nil {
		return nil, nonRetryable(ErrTypeBadInput, err)
	}
	latest, err := a.PG.LatestMaterializations(ctx, asset.Name)
	if err != nil {
		return nil, err
	}
	done, err := a.PG.LastSuccess(ctx)
	if err != nil {
		return nil, err
	}
	upDone, err := assets.UpstreamsDone(ctx, a.PG, a.Assets, asset, done)
	if err != nil {
		return nil, err
	}
	p := asset.Partitioning
	expected := p.KeysBetween(in.From, in.To)
	if p.TimeBased() {
		for key := range latest { // only the requested range
			if t, err := p.ParseTime(key); err != nil || t.Before(p.Start(in.From)) || !t.Before(in.To) {
				delete(latest, key)
			}
		}
	}
	return assets.Select(assets.Statuses(asset, expected, latest, upDone, time.Now()), in.Only), nil
}
