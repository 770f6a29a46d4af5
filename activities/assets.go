package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	var blocked []string
	if !in.Failed {
		res := pipeline.Resources{Logger: a.log(ctx)}
		if a.PG != nil {
			res.Warehouse = a.PG.Pool()
		}
		declared, err := a.Assets.RunChecks(ctx, res, pipeline.ChecksInput{Asset: in.Asset, Partition: in.Partition})
		if err != nil {
			return err
		}
		for _, c := range declared {
			if c.Blocking && !c.Passed {
				blocked = append(blocked, c.Name+" ("+c.Detail+")")
			}
		}
		in.Checks = append(in.Checks, declared...)
		if len(blocked) > 0 {
			in.Failed = true
			in.Error = fmt.Sprintf("asset %s: blocking check failed: %s; not materialized downstream: %s",
				in.Asset, strings.Join(blocked, "; "), strings.Join(a.Assets.Downstream(asset.Name), ", "))
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
	if len(blocked) > 0 {
		return nonRetryable(pipeline.ErrTypeCheckFailed, errors.New(in.Error))
	}
	return nil
}

// CheckInput names what a catalog check looks at.
type CheckInput struct {
	Version string `json:"version,omitempty"` // index version, for row-count bounds
	// MinRatio: a new index with fewer than MinRatio × the previous published docs fails;
	// default 0.5.
	MinRatio float64 `json:"min_ratio,omitempty"`
}

// CheckCatalog runs catalog.items' checks on the warehouse: no empty titles and no id used
// by two item types. Both block downstream assets when they fail.
func (a *Activities) CheckCatalog(ctx context.Context, _ CheckInput) ([]assets.CheckResult, error) {
	var empty, dups int64
	err := a.PG.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM movies WHERE btrim(title) = '') + (SELECT count(*) FROM artworks WHERE btrim(title) = ''),
		(SELECT count(*) FROM movies m JOIN artworks w ON w.id = m.id)`).Scan(&empty, &dups)
	if err != nil {
		return nil, fmt.Errorf("catalog checks: %w", err)
	}
	return []assets.CheckResult{
		{Name: "no_empty_titles", Passed: empty == 0, Blocking: true, Detail: fmt.Sprintf("%d items without a title", empty)},
		{Name: "no_duplicate_ids", Passed: dups == 0, Blocking: true, Detail: fmt.Sprintf("%d ids used by both a movie and an artwork", dups)},
	}, nil
}

// CheckIndex runs search.index's check: its document count must be within bounds of the
// version served now (a sudden drop means a broken import, not a smaller catalog).
func (a *Activities) CheckIndex(ctx context.Context, in CheckInput) ([]assets.CheckResult, error) {
	if in.MinRatio <= 0 {
		in.MinRatio = 0.5
	}
	var docs, prev int64
	err := a.MySQL.DB().QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(d), 0) FROM (SELECT MAX(docs) AS d FROM index_segments WHERE version = ? GROUP BY shard) s),
		COALESCE((SELECT v.docs FROM catalog_current c JOIN catalog_versions v ON v.version = c.version WHERE c.id = 1), 0)`,
		in.Version).Scan(&docs, &prev)
	if err != nil {
		return nil, fmt.Errorf("index checks: %w", err)
	}
	ok := prev == 0 || float64(docs) >= in.MinRatio*float64(prev)
	return []assets.CheckResult{{Name: "row_count_within_bounds", Passed: ok && docs > 0, Blocking: true,
		Detail: fmt.Sprintf("%d documents; the served version has %d (minimum ratio %.2f)", docs, prev, in.MinRatio)}}, nil
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
