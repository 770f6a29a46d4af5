// Package activities holds the platform's own Temporal activities (recording
// materializations and their declared checks, planning backfills, a no-op shard) and what
// every pipeline's activities share (shard inputs and results, model publishing, logging).
// Each pipeline's activities live in their own package below (catalogjob, ingestjob,
// eventjobs, similarity, termsjob, topicmodel) with a struct holding only the stores it
// needs; all I/O happens in activities, never in workflows.
package activities

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
)

// VersionNotifier announces a newly published catalog version (Kafka in production).
type VersionNotifier interface {
	PublishVersion(ctx context.Context, version string) error
}

// Activities are the platform's activities: lineage records (RecordMaterialization),
// backfill plans (PlanBackfill) and the no-op batch job (NoopShard). The pipelines'
// activities live in their own packages under activities/ (app.Slices). Create one per
// worker so that Identity names the worker that ran each shard.
type Activities struct {
	PG       *postgres.Store
	Logger   *slog.Logger
	Identity string // worker identity, reported in shard results
	// Assets is the asset graph of the deployment's definitions (built-in and user jobs).
	Assets *pipeline.Definitions
}

// Error types that retrying cannot fix; workflows see them as non-retryable failures.
const (
	ErrTypeBadInput   = "BadInput"
	ErrTypeIncomplete = "IncompleteVersion"
)

func nonRetryable(errType string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), errType, err)
}
