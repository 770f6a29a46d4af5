package importer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/curiodata/curio/internal/domain"
)

// sharedDir holds the sample datasets next to the project checkout.
const sharedDir = "../../../shared/datasets"

func openShared(t *testing.T, name string) *os.File {
	t.Helper()
	if _, err := os.Stat(sharedDir); err != nil {
		t.Skipf("no shared datasets at %s", sharedDir)
	}
	f, err := os.Open(filepath.Join(sharedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// counts tallies records, errors and typed items.
type counts struct{ records, errs, items int }

func tally(t *testing.T, read func(emit func(domain.Record) error) error) (counts, []domain.Record) {
	t.Helper()
	var c counts
	var recs []domain.Record
	err := read(func(r domain.Record) error {
		c.records++
		if r.Err != nil {
			c.errs++
			t.Logf("row error: %v", r.Err)
		}
		if r.Movie != nil || r.Artist != nil || r.Artwork != nil {
			c.items++
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, recs
}

func TestSharedIMDbTSV(t *testing.T) {
	basics := openShared(t, "imdb_title.basics_head249_kashery.tsv")
	ratings := openShared(t, "imdb_title.ratings_head249_kashery.tsv")
	c, recs := tally(t, func(emit func(domain.Record) error) error { return ReadIMDbTSV(basics, ratings, emit) })
	if c != (counts{records: 249, items: 249}) {
		t.Errorf("got %+v, want 249 titles without errors", c)
	}
	rated, movies := 0, 0
	for _, r := range recs {
		if r.Movie.Votes > 0 {
			rated++
		}
		if r.Movie.Kind == "movie" {
			movies++
		}
	}
	// The ratings head covers tt0000001..tt0000302 with gaps: 221 of the 249 titles are rated.
	if rated != 221 || movies != 1 {
		t.Errorf("rated %d, movies %d; want 221 and 1", rated, movies)
	}
	if m := recs[0].Movie; m.ID != "tt0000001" || m.Title != "Carmencita" || m.Rating != 5.6 || m.Votes != 1660 || m.Year != 1894 {
		t.Errorf("first title = %+v", m)
	}
}

func TestSharedMoMAArtists(t *testing.T) {
	f := openShared(t, "moma_Artists_2016-05-12.csv")
	c, recs := tally(t, func(emit func(domain.Record) error) error { return ReadMoMAArtists(f, emit) })
	if c != (counts{records: 14839, items: 14839}) {
		t.Errorf("got %+v, want 14839 artists without errors", c)
	}
	if a := recs[0].Artist; a.ID != "moma-a-1" || a.Name != "Robert Arneson" || a.BeginYear != 1930 || a.EndYear != 1992 {
		t.Errorf("first artist = %+v", a)
	}
	seen := make(map[string]bool, len(recs))
	for _, r := range recs {
		if seen[r.Key] {
			t.Errorf("duplicate key %s", r.Key)
		}
		seen[r.Key] = true
	}
}

func TestSharedMoMAArtworks(t *testing.T) {
	f := openShared(t, "moma_Artworks_head_sample.json")
	c, recs := tally(t, func(emit func(domain.Record) error) error { return ReadMoMAArtworks(f, emit) })
	if c != (counts{records: 26, items: 26}) {
		t.Errorf("got %+v, want 26 artworks without errors", c)
	}
	a := recs[0].Artwork
	if a.ID != "moma-aw-2" || a.Year != 1896 || len(a.ArtistIDs) != 1 || a.ArtistIDs[0] != "moma-a-6210" || a.Artists[0] != "Otto Wagner" {
		t.Errorf("first artwork = %+v", a)
	}
	noImage := 0
	for _, r := range recs {
		if r.Artwork.ImageURL == "" {
			noImage++
		}
		if r.Artwork.Year == 0 {
			t.Errorf("%s: no year in %q", r.Key, r.Artwork.DateText)
		}
	}
	if noImage != 1 {
		t.Errorf("%d artworks without image, want 1 (ImageURL null)", noImage)
	}
}
