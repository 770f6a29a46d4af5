package mysql

import (
	"context"
	"fmt"
)

// IndexDocs returns the documents of an index version (built or not; a rebuilt shard
// counts once) and those of the version served now (0 when none is), for CatalogPipeline's
// check of search.index.
func (s *Store) IndexDocs(ctx context.Context, version string) (docs, served int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(d), 0) FROM (SELECT MAX(docs) AS d FROM index_segments WHERE version = ? GROUP BY shard) s),
		COALESCE((SELECT v.docs FROM catalog_current c JOIN catalog_versions v ON v.version = c.version WHERE c.id = 1), 0)`,
		version).Scan(&docs, &served)
	if err != nil {
		return 0, 0, fmt.Errorf("index docs of %s: %w", version, err)
	}
	return docs, served, nil
}
