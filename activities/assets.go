package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/internal/assets"
)

// MaterializeInput records one asset partition's outcome for the calling workflow run.
type MaterializeInput struct {
	Asset       string               `json:"asset"`
	Partition   string               `json:"partition,omitempty"`
	Failed      bool                 `json:"failed,omitempty"`
	Rows        int64                `json:"rows"`
	DataVersion string               `json:"data_version,omitempty"`
	StartedAt   time.Time            `json:"started_at"`
	Checks      []assets.CheckResult `json:"checks,omitempty"`
	Error       string               `json:"error,omitempty"`
}

// RecordMaterialization writes the lineage record of an asset partition.
func (a *Activities) RecordMaterialization(ctx context.Context, in MaterializeInput) error {
	if _, ok := assets.Lookup(in.Asset); !ok {
		return nonRetryable(ErrTypeBadInput, fmt.Errorf("unknown asset %q", in.Asset))
	}
	info := activity.GetInfo(ctx)
	status := assets.StatusMaterialized
	if in.Failed {
		status = assets.StatusFailed
	}
	return a.PG.RecordMaterialization(ctx, assets.Materialization{Asset: in.Asset, Partition: in.Partition, Status: status,
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Rows: in.Rows, DataVersion: in.DataVersion,
		StartedAt: in.StartedAt, Checks: in.Checks, Error: in.Error})
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
	asset, ok := assets.Lookup(in.Asset)
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
	expected := []string{""}
	if asset.Partitioning == assets.Hourly {
		expected = assets.Hours(in.From, in.To)
		for p := range latest { // only the requested range
			if t, err := assets.ParsePartition(p); err != nil || t.Before(in.From.UTC().Truncate(time.Hour)) || !t.Before(in.To) {
				delete(latest, p)
			}
		}
	}
	return assets.Select(assets.Statuses(asset, expected, latest, done, time.Now()), in.Only), nil
}
