package postgres_test

import (
	"context"
	"testing"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/postgres"
)

func TestCatalogQuality(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	write := func(recs ...domain.Record) {
		t.Helper()
		if _, err := s.WriteRecords(ctx, "imp", recs); err != nil {
			t.Fatal(err)
		}
	}
	write(domain.Record{Source: "t", Kind: domain.KindMovie, Key: "m1", Movie: &domain.Movie{ID: "m1", Title: "A", Source: "t"}},
		domain.Record{Source: "t", Kind: domain.KindArtwork, Key: "w1", Artwork: &domain.Artwork{ID: "w1", Title: "B", Source: "t"}})
	if q, err := s.CatalogQuality(ctx); err != nil || q != (postgres.CatalogQuality{}) {
		t.Fatalf("clean catalog: %+v, %v", q, err)
	}
	write(domain.Record{Source: "t", Kind: domain.KindMovie, Key: "m2", Movie: &domain.Movie{ID: "m2", Title: " ", Source: "t"}},
		domain.Record{Source: "t", Kind: domain.KindArtwork, Key: "w2", Artwork: &domain.Artwork{ID: "w2", Title: "", Source: "t"}},
		domain.Record{Source: "t", Kind: domain.KindArtwork, Key: "m1", Artwork: &domain.Artwork{ID: "m1", Title: "C", Source: "t"}})
	if q, err := s.CatalogQuality(ctx); err != nil || q != (postgres.CatalogQuality{EmptyTitles: 2, DuplicateIDs: 1}) {
		t.Fatalf("2 blank titles and a shared id: %+v, %v", q, err)
	}
}
