package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testdb"
)

func open(t *testing.T) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if n, err := s.Migrate(ctx); err != nil || n == 0 {
		t.Fatalf("migrate: applied %d, %v", n, err)
	}
	if n, err := s.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second migrate must be a no-op: applied %d, %v", n, err)
	}
	return s
}

func TestWriteRecordsUpsertsAndKeepsRawRows(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	recs := []domain.Record{
		{Source: "imdb-tsv", Kind: domain.KindMovie, Key: "tt1", Line: 1, Raw: []byte(`{"tconst":"tt1"}`),
			Movie: &domain.Movie{ID: "tt1", Title: "Alpha", Year: 1999, Genres: []string{"Drama"}, Source: "imdb-tsv"}},
		{Source: "imdb-tsv", Kind: domain.KindMovie, Key: "tt2", Line: 2, Raw: []byte(`{"tconst":"tt2"}`),
			Movie: &domain.Movie{ID: "tt2", Title: "Beta", Source: "imdb-tsv"}},
		{Source: "imdb-tsv", Kind: domain.KindMovie, Line: 3, Raw: []byte(`{"bad":"row"}`), Err: errors.New("line 3: too few fields")},
		{Source: "moma-artists", Kind: domain.KindArtist, Key: "moma-a-1", Line: 1,
			Artist: &domain.Artist{ID: "moma-a-1", Name: "Robert Arneson", Source: "moma-artists"}},
		{Source: "moma-artworks", Kind: domain.KindArtwork, Key: "moma-aw-2", Line: 1,
			Artwork: &domain.Artwork{ID: "moma-aw-2", Title: "Ferdinandsbrücke", ArtistIDs: []string{"moma-a-1"}, Source: "moma-artworks"}},
	}
	st, err := s.WriteRecords(ctx, "imp-1", recs)
	if err != nil {
		t.Fatal(err)
	}
	if st.OK != 4 || st.Failed != 1 {
		t.Errorf("stats = %+v", st)
	}
	// Replaying the same batch (a retried activity) must not add rows.
	recs[0].Movie.Title = "Alpha (restored)"
	if _, err := s.WriteRecords(ctx, "imp-1", recs); err != nil {
		t.Fatal(err)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Movies != 2 || c.Artists != 1 || c.Artworks != 1 || c.Failed != 1 {
		t.Errorf("counts = %+v", c)
	}
	failed, err := s.FailedRecords(ctx, "imdb-tsv", 10)
	if err != nil || len(failed) != 1 || failed[0].Key != "line:3" || failed[0].Error != "line 3: too few fields" {
		t.Fatalf("failed = %+v, %v", failed, err)
	}
	var titles []string
	for sh := range 3 {
		err := s.ShardMovies(ctx, postgres.Shard{Index: sh, Of: 3}, func(m domain.Movie) error {
			titles = append(titles, m.Title)
			if m.ID == "tt1" && (m.Year != 1999 || len(m.Genres) != 1) {
				t.Errorf("tt1 = %+v", m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(titles) != 2 {
		t.Errorf("shards must partition the movies: %v", titles)
	}
	for _, tt := range titles {
		if tt == "Alpha" {
			t.Error("upsert did not replace the title")
		}
	}
}

func TestRecordRun(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.RecordRun(ctx, "wf", "run", "CatalogPipeline", "running", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordRun(ctx, "wf", "run", "CatalogPipeline", "completed", []byte(`{"b":2}`)); err != nil {
		t.Fatal(err)
	}
	r, err := s.GetRun(ctx, "wf", "run")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "completed" || r.FinishedAt == nil || string(r.Details) != `{"a": 1, "b": 2}` {
		t.Errorf("run = %+v details=%s", r, r.Details)
	}
	if _, err := s.GetRun(ctx, "wf", "nope"); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("want ErrNotFound, got %v", err)
	}
}
