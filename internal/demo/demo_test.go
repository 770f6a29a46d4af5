package demo

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/curiodata/curio/internal/domain"
)

// embeddedArtistRows counts the data rows of the embedded CSV directly.
func embeddedArtistRows(t *testing.T) int {
	t.Helper()
	f, err := dataFS.Open(artistsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(zr)
	rows := -1 // the header
	for {
		if _, err := cr.Read(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rows++
	}
	return rows
}

func records(t *testing.T, opts Options) []domain.Record {
	t.Helper()
	var recs []domain.Record
	if err := Records(opts, func(r domain.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRecordsDefaults(t *testing.T) {
	recs := records(t, Options{})
	wantArtists := embeddedArtistRows(t)
	if wantArtists < 14000 {
		t.Fatalf("embedded CSV has %d rows, want the 14,839 of the 2016-05-12 snapshot", wantArtists)
	}
	var artists, artworks, movies, series, accented int
	ids := make(map[string]bool, len(recs))
	artistIDs := make(map[string]bool, wantArtists)
	stage := 0 // artists, then artworks, then movies
	for i, r := range recs {
		if r.Err != nil {
			t.Errorf("record %d (%s): %v", i, r.Key, r.Err)
			continue
		}
		if ids[r.Key] {
			t.Errorf("duplicate key %s", r.Key)
		}
		ids[r.Key] = true
		var raw map[string]any
		if err := json.Unmarshal(r.Raw, &raw); err != nil {
			t.Errorf("%s: Raw is not a JSON object: %v", r.Key, err)
		}
		switch {
		case r.Artist != nil:
			if stage > 0 || r.Source != "moma-artists" || r.Kind != domain.KindArtist || r.Key != r.Artist.ID || r.Artist.Name == "" {
				t.Errorf("artist record %d out of place or incomplete: %+v", i, r)
			}
			artists++
			artistIDs[r.Artist.ID] = true
		case r.Artwork != nil:
			stage = max(stage, 1)
			a := r.Artwork
			artworks++
			if stage > 1 || r.Source != "demo" || a.Source != "demo" || r.Kind != domain.KindArtwork || r.Key != a.ID || r.Line != artworks {
				t.Errorf("artwork record %d out of place: %+v", i, r)
			}
			if a.Title == "" || a.Medium == "" || a.Classification == "" || a.Department == "" || a.Description == "" || a.Year == 0 {
				t.Errorf("%s incomplete: %+v", a.ID, a)
			}
			if len(a.ArtistIDs) == 0 || len(a.ArtistIDs) > 2 || len(a.ArtistIDs) != len(a.Artists) {
				t.Errorf("%s: artists %v %v", a.ID, a.ArtistIDs, a.Artists)
			}
			for _, id := range a.ArtistIDs {
				if !artistIDs[id] {
					t.Errorf("%s references artist %s that was not emitted before it", a.ID, id)
				}
			}
			if !strings.Contains(a.Description, "fictional") {
				t.Errorf("%s: description does not say it is fictional: %q", a.ID, a.Description)
			}
			var back domain.Artwork
			if err := json.Unmarshal(r.Raw, &back); err != nil || !reflect.DeepEqual(&back, a) {
				t.Errorf("%s: Raw does not round-trip: %s", a.ID, r.Raw)
			}
		case r.Movie != nil:
			stage = 2
			m := r.Movie
			movies++
			if r.Source != "demo" || m.Source != "demo" || r.Kind != domain.KindMovie || r.Key != m.ID || r.Line != movies {
				t.Errorf("movie record %d out of place: %+v", i, r)
			}
			if m.Title == "" || m.Plot == "" || len(m.Directors) != 1 || len(m.Cast) < 3 || len(m.Cast) > 6 ||
				len(m.Genres) < 1 || len(m.Genres) > 3 || m.Year < 1920 || m.Year > 2024 ||
				m.Rating < 1 || m.Rating > 9.5 || m.Votes < 100 || m.ContentRating == "" {
				t.Errorf("%s implausible: %+v", m.ID, m)
			}
			switch m.Kind {
			case "movie":
				if m.RuntimeMinutes < 70 || m.RuntimeMinutes > 180 {
					t.Errorf("%s: runtime %d", m.ID, m.RuntimeMinutes)
				}
			case "series":
				series++
			default:
				t.Errorf("%s: kind %q", m.ID, m.Kind)
			}
			if strings.ContainsAny(strings.Join(append(m.Cast, m.Directors...), ""), "éñëèçöüøåáí") {
				accented++
			}
		default:
			t.Errorf("record %d carries no item", i)
		}
	}
	if artists != wantArtists || artworks != DefaultArtworks || movies != DefaultMovies {
		t.Errorf("got %d artists, %d artworks, %d movies; want %d, %d, %d", artists, artworks, movies, wantArtists, DefaultArtworks, DefaultMovies)
	}
	if series < movies/20 || series > movies/5 {
		t.Errorf("%d series among %d movies, want about 10%%", series, movies)
	}
	if accented < movies/10 {
		t.Errorf("only %d movies credit a person with an accented name", accented)
	}
	t.Logf("%d artists, %d artworks, %d movies (%d series, %d with accented names)", artists, artworks, movies, series, accented)
}

func TestRecordsDeterministic(t *testing.T) {
	opts := Options{Movies: 300, Artworks: 300, Seed: 7}
	a, b := records(t, opts), records(t, opts)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	c := records(t, Options{Movies: 300, Artworks: 300, Seed: 8})
	if reflect.DeepEqual(a[len(a)-1], c[len(c)-1]) {
		t.Error("different seeds give the same last movie")
	}
	// The movie stream does not depend on how many artworks were generated.
	d := records(t, Options{Movies: 300, Artworks: 10, Seed: 7})
	if !reflect.DeepEqual(a[len(a)-300:], d[len(d)-300:]) {
		t.Error("movies change with the artwork count")
	}
}

func TestRecordsNegativeCounts(t *testing.T) {
	recs := records(t, Options{Movies: -1, Artworks: -1})
	if len(recs) != embeddedArtistRows(t) {
		t.Errorf("got %d records, want only the artists", len(recs))
	}
	recs = records(t, Options{Movies: 5, Artworks: -1})
	if last := recs[len(recs)-1]; last.Movie == nil || last.Key != "demo-m-000005" || recs[len(recs)-6].Artist == nil {
		t.Errorf("last record = %+v", last)
	}
}

func TestRecordsEmitError(t *testing.T) {
	stop := errors.New("stop")
	for _, at := range []string{"moma-a-1", "demo-aw-000002", "demo-m-000003"} {
		err := Records(Options{Movies: 5, Artworks: 5}, func(r domain.Record) error {
			if r.Key == at {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("stop at %s: got %v", at, err)
		}
	}
}

func TestIDsFormat(t *testing.T) {
	recs := records(t, Options{Movies: 2, Artworks: 2})
	var keys []string
	for _, r := range recs[len(recs)-4:] {
		keys = append(keys, r.Key)
	}
	if want := []string{"demo-aw-000001", "demo-aw-000002", "demo-m-000001", "demo-m-000002"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
}

func TestBatchesCoverEveryRecordOnce(t *testing.T) {
	opts := Options{Movies: 30, Artworks: 20, Seed: 5}
	var all, batched []string
	if err := Records(opts, func(r domain.Record) error { all = append(all, r.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	sizes := []int{}
	if err := Batches(opts, 7, func(b []domain.Record) error {
		sizes = append(sizes, len(b))
		for _, r := range b {
			batched = append(batched, r.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(all, ",") != strings.Join(batched, ",") {
		t.Fatalf("batches hold %d records, Records %d (or in another order)", len(batched), len(all))
	}
	for i, n := range sizes {
		if n > 7 || n == 0 || (i < len(sizes)-1 && n != 7) {
			t.Errorf("batch sizes %v", sizes)
			break
		}
	}
}
