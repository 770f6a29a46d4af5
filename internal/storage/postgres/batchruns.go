package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// BatchRunStore owns the bookkeeping every batch job shares: batch_shard_runs (who ran each
// shard attempt) and model_versions / model_current (published model versions).
type BatchRunStore struct {
	pool *pgxpool.Pool
}

// BatchRuns returns the store of batch bookkeeping.
func (s *Store) BatchRuns() *BatchRunStore { return &BatchRunStore{pool: s.pool} }

// ShardRun is one attempt of one shard of a batch job, for batch_shard_runs.
type ShardRun struct {
	Job, Version string
	Shard        int
	Attempt      int32
	Worker       string
	Items        int
	StartedAt    time.Time
}

// RecordShardRun records who ran a shard attempt and how many items it wrote; recording
// the same attempt again replaces its row.
func (s *BatchRunStore) RecordShardRun(ctx context.Context, r ShardRun) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO batch_shard_runs (job, version, shard, attempt, worker, items, started_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (job, version, shard, attempt) DO UPDATE SET worker = EXCLUDED.worker,
		items = EXCLUDED.items, finished_at = now()`, r.Job, r.Version, r.Shard, r.Attempt, r.Worker, r.Items, r.StartedAt)
	if err != nil {
		return fmt.Errorf("record shard %s/%d: %w", r.Job, r.Shard, err)
	}
	return nil
}

// RecordModelVersion records a published model version with its number of rows and makes
// it the model's current version in the warehouse.
func (s *BatchRunStore) RecordModelVersion(ctx context.Context, model, version string, rows int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO model_versions (model, version, rows) VALUES ($1, $2, $3)
		ON CONFLICT (model, version) DO UPDATE SET rows = EXCLUDED.rows, published_at = now()`, model, version, rows)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO model_current (model, version) VALUES ($1, $2)
			ON CONFLICT (model) DO UPDATE SET version = EXCLUDED.version`, model, version)
	}
	if err != nil {
		return fmt.Errorf("record %s version %s: %w", model, version, err)
	}
	return nil
}
