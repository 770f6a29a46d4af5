package catalogjob

import (
	"log/slog"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/scrapers"
)

// Activities are the activities of the catalog pipelines. Create one per worker so that
// Identity names the worker that ran each shard.
type Activities struct {
	Store    *postgres.Store            // the warehouse: raw zone, catalog tables, raw_pages, pipeline_runs
	Serving  *mysql.Store               // the serving store: index versions, items, segments
	Notifier activities.VersionNotifier // optional: announces published versions
	Fetcher  *scrapers.Fetcher          // polite HTTP fetcher shared by this worker's scrape activities
	Logger   *slog.Logger               // nil means slog.Default()
	Identity string                     // worker identity, reported in shard results
	// BatchSize is how many records one warehouse transaction writes; 0 means 1000.
	BatchSize int
	// Downloads fetches datasets given as URLs; the zero value is the default (retries,
	// temporary files in os.TempDir()).
	Downloads Downloader
}

func (a *Activities) batchSize() int {
	if a.BatchSize > 0 {
		return a.BatchSize
	}
	return 1000
}
