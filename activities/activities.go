// Package activities holds Curio's Temporal activities. Each is a method on Activities,
// which holds the dependencies; all I/O of the pipelines happens here, never in workflows.
package activities

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/scrapers"
)

// VersionNotifier announces a newly published catalog version (Kafka in production).
type VersionNotifier interface {
	PublishVersion(ctx context.Context, version string) error
}

// Activities are the activities of the catalog pipelines. Create one per worker so that
// Identity names the worker that ran each shard.
type Activities struct {
	PG       *postgres.Store
	MySQL    *mysql.Store
	Notifier VersionNotifier // optional
	Logger   *slog.Logger
	Identity string            // worker identity, reported in shard results
	Fetcher  *scrapers.Fetcher // polite HTTP fetcher shared by this worker's scrape activities
	// KafkaBrokers are where user-activity events are consumed from.
	KafkaBrokers []string
	// EventPolicy bounds consumed events' times; nil means events.DefaultTimePolicy.
	EventPolicy *events.TimePolicy
	// Assets is the asset graph of the deployment's definitions (built-in and user jobs).
	Assets *pipeline.Definitions
	// BatchSize is how many records one warehouse transaction writes; 0 means 1000.
	BatchSize int
}

func (a *Activities) batchSize() int {
	if a.BatchSize > 0 {
		return a.BatchSize
	}
	return 1000
}

// Error types that retrying cannot fix; workflows see them as non-retryable failures.
const (
	ErrTypeBadInput   = "BadInput"
	ErrTypeIncomplete = "IncompleteVersion"
)

func nonRetryable(errType string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), errType, err)
}
