package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// Helpers shared by every pipeline's activities, in this package and in the per-pipeline
// packages under activities/.

// BadInput marks err as a failure retrying cannot fix (ErrTypeBadInput).
func BadInput(err error) error { return nonRetryable(ErrTypeBadInput, err) }

// Validate rejects a shard input that names no shard of a version.
func (in BatchShardInput) Validate() error {
	if in.Shards <= 0 || in.Shard < 0 || in.Shard >= in.Shards || in.Version == "" {
		return BadInput(fmt.Errorf("%s: bad shard %d/%d of version %q", in.Job, in.Shard, in.Shards, in.Version))
	}
	return nil
}

// DecodeParams decodes the job's plan shared by all shards into v; no params leave v as is.
func (in BatchShardInput) DecodeParams(v any) error {
	if len(in.Params) == 0 {
		return nil
	}
	if err := json.Unmarshal(in.Params, v); err != nil {
		return BadInput(fmt.Errorf("%s params: %w", in.Job, err))
	}
	return nil
}

// Logger returns the logger for one activity call: l with the workflow id, run id,
// activity type and attempt of ctx's activity. Outside an activity context (a direct
// call) it is l as is; a nil l is slog.Default().
func Logger(ctx context.Context, l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	if ctx == nil || !activity.IsActivity(ctx) {
		return l
	}
	info := activity.GetInfo(ctx)
	return l.With("workflow_id", info.WorkflowExecution.ID, "run_id", info.WorkflowExecution.RunID,
		"activity", info.ActivityType.Name, "attempt", info.Attempt)
}

// FinishShard records who ran the shard (batch_shard_runs) and builds its result.
func FinishShard(ctx context.Context, runs *postgres.BatchRunStore, worker string, in BatchShardInput, items int, started time.Time) (BatchShardResult, error) {
	info := activity.GetInfo(ctx)
	if err := runs.RecordShardRun(ctx, postgres.ShardRun{Job: in.Job, Version: in.Version, Shard: in.Shard,
		Attempt: info.Attempt, Worker: worker, Items: items, StartedAt: started}); err != nil {
		return BatchShardResult{}, err
	}
	return BatchShardResult{Shard: in.Shard, Items: items, Worker: worker, Attempt: int(info.Attempt)}, nil
}

// SwitchModel writes the last rows of a model version, switches the serving store to the
// version and records it in the warehouse.
func SwitchModel[V any](ctx context.Context, w published.Writer, runs *postgres.BatchRunStore, logger *slog.Logger,
	m published.Model[V], version string, last []published.Row[V]) (ModelPublishResult, error) {
	if err := m.Put(ctx, w, version, last); err != nil {
		return ModelPublishResult{}, err
	}
	n, err := m.Switch(ctx, w, version)
	if err != nil {
		return ModelPublishResult{}, err
	}
	model := m.Name()
	if err := runs.RecordModelVersion(ctx, model, version, n); err != nil {
		return ModelPublishResult{}, err
	}
	Logger(ctx, logger).Info("model published", "model", model, "version", version, "rows", n)
	return ModelPublishResult{Model: model, Version: version, Rows: n}, nil
}

// KeepAlive heartbeats details() for ctx's activity from a goroutine, a third of its
// heartbeat timeout apart (at most every 5 s), until the returned stop is called: for long
// phases with no natural point to heartbeat from (loading a catalog, building a model, a
// slow chunk), so that a live worker's attempt is not timed out while a dead worker's
// still is. details must be safe to call concurrently and return the attempt's resume
// point, as its other heartbeats do. Outside an activity, or without a heartbeat timeout,
// it does nothing.
func KeepAlive(ctx context.Context, details func() any) (stop func()) {
	if ctx == nil || !activity.IsActivity(ctx) || activity.GetInfo(ctx).HeartbeatTimeout <= 0 {
		return func() {}
	}
	every := min(activity.GetInfo(ctx).HeartbeatTimeout/3, 5*time.Second)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		activity.RecordHeartbeat(ctx, details())
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details())
			}
		}
	}()
	return func() { close(done); <-finished }
}
