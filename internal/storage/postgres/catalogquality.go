package postgres

import (
	"context"
	"fmt"
)

// CatalogQuality counts the catalog's integrity problems (CatalogPipeline's checks of
// catalog.items).
type CatalogQuality struct {
	EmptyTitles  int64 // movies and artworks whose title is blank
	DuplicateIDs int64 // ids used by both a movie and an artwork
}

// CatalogQuality counts the catalog's blank titles and ids shared by two item types.
func (s *Store) CatalogQuality(ctx context.Context) (CatalogQuality, error) {
	var q CatalogQuality
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM movies WHERE btrim(title) = '') + (SELECT count(*) FROM artworks WHERE btrim(title) = ''),
		(SELECT count(*) FROM movies m JOIN artworks w ON w.id = m.id)`).Scan(&q.EmptyTitles, &q.DuplicateIDs)
	if err != nil {
		return CatalogQuality{}, fmt.Errorf("catalog quality: %w", err)
	}
	return q, nil
}
