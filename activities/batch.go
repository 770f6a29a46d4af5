package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
)

// BatchShardInput is the input of every shard activity of a batch job.
type BatchShardInput struct {
	Job     string          `json:"job"`
	Version string          `json:"version"`
	Shard   int             `json:"shard"`
	Shards  int             `json:"shards"`
	Params  json.RawMessage `json:"params,omitempty"` // the job's plan, shared by all shards
}

// BatchShardResult reports one finished shard.
type BatchShardResult struct {
	Shard   int    `json:"shard"`
	Items   int    `json:"items"`
	Worker  string `json:"worker"`
	Attempt int    `json:"attempt"`
}

func (in BatchShardInput) validate() error {
	if in.Shards <= 0 || in.Shard < 0 || in.Shard >= in.Shards || in.Version == "" {
		return nonRetryable(ErrTypeBadInput, fmt.Errorf("%s: bad shard %d/%d of version %q", in.Job, in.Shard, in.Shards, in.Version))
	}
	return nil
}

func (in BatchShardInput) params(v any) error {
	if len(in.Params) == 0 {
		return nil
	}
	if err := json.Unmarshal(in.Params, v); err != nil {
		return nonRetryable(ErrTypeBadInput, fmt.Errorf("%s params: %w", in.Job, err))
	}
	return nil
}

// finishShard records who ran the shard (batch_shard_runs) and builds its result.
func (a *Activities) finishShard(ctx context.Context, in BatchShardInput, items int, started time.Time) (BatchShardResult, error) {
	info := activity.GetInfo(ctx)
	_, err := a.PG.Pool().Exec(ctx, `INSERT INTO batch_shard_runs (job, version, shard, attempt, worker, items, started_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (job, version, shard, attempt) DO UPDATE SET worker = EXCLUDED.worker,
		items = EXCLUDED.items, finished_at = now()`, in.Job, in.Version, in.Shard, info.Attempt, a.Identity, items, started)
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("record shard %s/%d: %w", in.Job, in.Shard, err)
	}
	return BatchShardResult{Shard: in.Shard, Items: items, Worker: a.Identity, Attempt: int(info.Attempt)}, nil
}

// publishModel records a published model version in the warehouse.
func (a *Activities) publishModel(ctx context.Context, model, version string, rows int64) error {
	_, err := a.PG.Pool().Exec(ctx, `INSERT INTO model_versions (model, version, rows) VALUES ($1, $2, $3)
		ON CONFLICT (model, version) DO UPDATE SET rows = EXCLUDED.rows, published_at = now()`, model, version, rows)
	if err == nil {
		_, err = a.PG.Pool().Exec(ctx, `INSERT INTO model_current (model, version) VALUES ($1, $2)
			ON CONFLICT (model) DO UPDATE SET version = EXCLUDED.version`, model, version)
	}
	if err != nil {
		return fmt.Errorf("record %s version %s: %w", model, version, err)
	}
	return nil
}

// ShardProgress is heartbeated by shard activities that resume mid-shard.
type ShardProgress struct {
	Done int `json:"done"` // items finished and written
}

func resumePoint(ctx context.Context) int {
	var p ShardProgress
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &p) == nil {
		return p.Done
	}
	return 0
}

// NoopShard does no work beyond recording itself: NoopBatch uses it to measure what the
// fan-out itself costs per shard (scheduling, dispatch, result, bookkeeping).
func (a *Activities) NoopShard(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	started := time.Now()
	if err := in.validate(); err != nil {
		return BatchShardResult{}, err
	}
	return a.finishShard(ctx, in, 0, started)
}
