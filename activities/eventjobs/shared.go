package eventjobs

import (
	"context"
	"time"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/published"
)

// badInput is an error retrying cannot fix (activities.ErrTypeBadInput).
func badInput(err error) error { return activities.BadInput(err) }

// validate rejects a shard input that names no shard of a version.
func validate(in activities.BatchShardInput) error { return in.Validate() }

// params decodes the job's plan shared by all shards into v; no params leave v as is.
func params(in activities.BatchShardInput, v any) error { return in.DecodeParams(v) }

// finishShard records who ran the shard (batch_shard_runs) and builds its result.
func (a *Activities) finishShard(ctx context.Context, in activities.BatchShardInput, items int, started time.Time) (activities.BatchShardResult, error) {
	return activities.FinishShard(ctx, a.Store.BatchRunStore, a.Identity, in, items, started)
}

// switchModel writes the last rows of a model version, switches the serving store to the
// version and records it in the warehouse.
func switchModel[V any](ctx context.Context, a *Activities, m published.Model[V], version string, last []published.Row[V]) (activities.ModelPublishResult, error) {
	return activities.SwitchModel(ctx, a.Publisher, a.Store.BatchRunStore, a.Logger, m, version, last)
}
