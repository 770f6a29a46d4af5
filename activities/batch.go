package activities

import (
	"context"
	"encoding/json"
	"time"
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

// finishShard records who ran the shard (batch_shard_runs) and builds its result.
func (a *Activities) finishShard(ctx context.Context, in BatchShardInput, items int, started time.Time) (BatchShardResult, error) {
	return FinishShard(ctx, a.PG.BatchRuns(), a.Identity, in, items, started)
}

// ShardProgress is heartbeated by shard activities that resume mid-shard.
type ShardProgress struct {
	Done int `json:"done"` // items finished and written
}

// NoopShard does no work beyond recording itself: NoopBatch uses it to measure what the
// fan-out itself costs per shard (scheduling, dispatch, result, bookkeeping).
func (a *Activities) NoopShard(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	started := time.Now()
	if err := in.Validate(); err != nil {
		return BatchShardResult{}, err
	}
	return a.finishShard(ctx, in, 0, started)
}
