package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/curiodata/curio/internal/domain"
)

// collect runs read and returns every emitted record.
func collect(t *testing.T, read func(emit func(domain.Record) error) error) []domain.Record {
	t.Helper()
	var recs []domain.Record
	if err := read(func(r domain.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("read: %v", err)
	}
	return recs
}

func open(t *testing.T, name string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// want describes an expected record: exactly one of item or errPart is set.
type want struct {
	key     string
	line    int
	item    any    // *domain.Movie, *domain.Artist or *domain.Artwork
	errPart string // substring of Err
}

func check(t *testing.T, recs []domain.Record, source string, kind domain.RecordKind, wants []want) {
	t.Helper()
	if len(recs) != len(wants) {
		for _, r := range recs {
			t.Logf("got %s line %d err %v", r.Key, r.Line, r.Err)
		}
		t.Fatalf("got %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		if r.Source != source || r.Kind != kind || r.Key != w.key || r.Line != w.line {
			t.Errorf("record %d: got source %q kind %q key %q line %d, want %q %q %q %d", i, r.Source, r.Kind, r.Key, r.Line, source, kind, w.key, w.line)
		}
		var m map[string]any
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			t.Errorf("record %d: Raw %q is not a JSON object: %v", i, r.Raw, err)
		}
		var got any
		switch {
		case r.Movie != nil:
			got = r.Movie
		case r.Artist != nil:
			got = r.Artist
		case r.Artwork != nil:
			got = r.Artwork
		}
		items := 0
		for _, p := range []bool{r.Movie != nil, r.Artist != nil, r.Artwork != nil} {
			if p {
				items++
			}
		}
		if w.errPart != "" {
			if r.Err == nil || !strings.Contains(r.Err.Error(), w.errPart) {
				t.Errorf("record %d (%s): got err %v, want it to contain %q", i, r.Key, r.Err, w.errPart)
			}
			if items != 0 {
				t.Errorf("record %d (%s): error record carries an item: %+v", i, r.Key, got)
			}
			continue
		}
		if r.Err != nil {
			t.Errorf("record %d (%s): unexpected err %v", i, r.Key, r.Err)
			continue
		}
		if items != 1 || !reflect.DeepEqual(got, w.item) {
			t.Errorf("record %d (%s):\n got %#v\nwant %#v", i, r.Key, got, w.item)
		}
	}
}

func TestFormats(t *testing.T) {
	got := Formats()
	if want := []string{"movies-csv", "imdb-tsv", "moma-artists", "moma-artworks"}; !slices.Equal(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if Formats()[0] != FormatMoviesCSV {
		t.Error("Formats returns shared state")
	}
}

func TestReadMoviesCSV(t *testing.T) {
	recs := collect(t, func(emit func(domain.Record) error) error {
		return ReadMoviesCSV(open(t, "movie_metadata.csv"), emit)
	})
	check(t, recs, "imdb-5000", domain.KindMovie, []want{
		{key: "tt0499549", line: 1, item: &domain.Movie{
			ID: "tt0499549", Kind: "movie", Title: "Star Harbor", Year: 2009,
			Genres: []string{"Action", "Adventure", "Sci-Fi"}, Directors: []string{"Ada Director"},
			Cast: []string{"Al First", "Bo Second", "Cy Third"}, RuntimeMinutes: 162, Rating: 7.9, Votes: 886204,
			ContentRating: "PG-13", Country: "USA", Language: "English", Source: "imdb-5000",
		}},
		{key: "tt0000002", line: 2, item: &domain.Movie{
			ID: "tt0000002", Kind: "movie", Title: `Café, Crème & "Quotes"`, Year: 2009,
			Genres: []string{"Comedy", "Romance"}, Directors: []string{"Émile Réalisateur"},
			Cast: []string{"Zoë Brontë"}, RuntimeMinutes: 95, Rating: 6.1, Votes: 1200,
			ContentRating: "R", Country: "France", Language: "French", Source: "imdb-5000",
		}},
		{key: "tt0000003", line: 3, errPart: `row 3 (line 4): title_year "19x9" is not a whole number`},
		{key: "row-4", line: 4, errPart: `movie_imdb_link "http://example.com/nothing" holds no IMDb title id`},
		{key: "tt0000005", line: 5, item: &domain.Movie{ID: "tt0000005", Kind: "movie", Title: "Sparse", Source: "imdb-5000"}},
		{key: "row-6", line: 6, errPart: "row 6 (line 7): has 4 fields, want 28"},
	})
	var raw map[string]string
	if err := json.Unmarshal(recs[0].Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 28 || raw["plot_keywords"] != "harbor|star|future" || raw["movie_title"] != "Star Harbor\u00a0" {
		t.Errorf("raw row = %v", raw)
	}
	if err := json.Unmarshal(recs[5].Raw, &raw); err != nil || raw["director_name"] != "Short Row" {
		t.Errorf("raw of short row = %s (%v)", recs[5].Raw, err)
	}
}

func TestReadMoviesCSVHeader(t *testing.T) {
	recs := collect(t, func(emit func(domain.Record) error) error {
		return ReadMoviesCSV(open(t, "movie_metadata_reordered.csv"), emit)
	})
	check(t, recs, "imdb-5000", domain.KindMovie, []want{{key: "tt0111161", line: 1, item: &domain.Movie{
		ID: "tt0111161", Kind: "movie", Title: "The Long Wait", Year: 1994, Rating: 8, Source: "imdb-5000",
	}}})

	err := ReadMoviesCSV(open(t, "movie_metadata_noheader.csv"), func(domain.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "header lacks required columns: movie_imdb_link") {
		t.Errorf("missing column: got %v", err)
	}
	err = ReadMoviesCSV(strings.NewReader(""), func(domain.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "empty input") {
		t.Errorf("empty input: got %v", err)
	}
}

func TestReadMoviesCSVWindows1252(t *testing.T) {
	in := "movie_title,movie_imdb_link,director_name\nCaf\xe9\xa0,tt0000042,Fran\xe7ois\n"
	recs := collect(t, func(emit func(domain.Record) error) error { return ReadMoviesCSV(strings.NewReader(in), emit) })
	if len(recs) != 1 || recs[0].Movie == nil {
		t.Fatalf("records = %+v", recs)
	}
	if m := recs[0].Movie; m.Title != "Café" || m.Directors[0] != "François" {
		t.Errorf("got title %q director %q", m.Title, m.Directors[0])
	}
}

func TestReadIMDbTSV(t *testing.T) {
	recs := collect(t, func(emit func(domain.Record) error) error {
		return ReadIMDbTSV(open(t, "title.basics.tsv"), open(t, "title.ratings.tsv"), emit)
	})
	check(t, recs, "imdb-tsv", domain.KindMovie, []want{
		{key: "tt0000001", line: 1, item: &domain.Movie{ID: "tt0000001", Kind: "short", Title: "Carmencita", Year: 1894,
			Genres: []string{"Documentary", "Short"}, RuntimeMinutes: 1, Rating: 5.6, Votes: 1660, Source: "imdb-tsv"}},
		{key: "tt0000009", line: 2, item: &domain.Movie{ID: "tt0000009", Kind: "movie", Title: "Miss Jerry", Year: 1894,
			Genres: []string{"Romance"}, RuntimeMinutes: 45, Rating: 5.4, Votes: 215, Source: "imdb-tsv"}},
		{key: "tt0100001", line: 3, item: &domain.Movie{ID: "tt0100001", Kind: "series", Title: `"Weird" Al Show`, Year: 1997, EndYear: 1998,
			Genres: []string{"Comedy", "Family"}, RuntimeMinutes: 30, Rating: 7, Votes: 12, Source: "imdb-tsv"}},
		{key: "tt0100002", line: 4, item: &domain.Movie{ID: "tt0100002", Kind: "series", Title: "Le Château", OriginalTitle: "Das Schloss",
			Year: 2001, EndYear: 2001, Source: "imdb-tsv"}},
		{key: "tt0100003", line: 5, errPart: "row 5 (line 6): has 5 fields, want 9"},
		{key: "tt0100004", line: 6, errPart: `row 6 (line 7): startYear "19x9" is not a whole number`},
		{key: "tt0100005", line: 7, item: &domain.Movie{ID: "tt0100005", Kind: "video", Title: `Unrated "quote`, OriginalTitle: `"quote`,
			Genres: []string{"Horror"}, Source: "imdb-tsv"}},
	})
	var raw map[string]string
	if err := json.Unmarshal(recs[0].Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["endYear"] != `\N` || raw["averageRating"] != "5.6" || raw["numVotes"] != "1660" || raw["isAdult"] != "0" {
		t.Errorf("raw = %v", raw)
	}
	if err := json.Unmarshal(recs[4].Raw, &raw); err != nil || raw["primaryTitle"] != "Too Few" {
		t.Errorf("raw of short row = %s (%v)", recs[4].Raw, err)
	}

	// Without ratings the titles are unrated.
	recs = collect(t, func(emit func(domain.Record) error) error {
		return ReadIMDbTSV(open(t, "title.basics.tsv"), nil, emit)
	})
	if len(recs) != 7 || recs[0].Movie.Rating != 0 || recs[0].Movie.Votes != 0 {
		t.Errorf("without ratings: %d records, first %+v", len(recs), recs[0].Movie)
	}
}

func TestReadIMDbTSVBadInput(t *testing.T) {
	nop := func(domain.Record) error { return nil }
	for name, tc := range map[string]struct {
		basics, ratings io.Reader
		want            string
	}{
		"wrong header":  {strings.NewReader("a\tb\n1\t2\n"), nil, "header lacks required columns: tconst, titleType, primaryTitle"},
		"empty basics":  {strings.NewReader(""), nil, "empty input"},
		"ratings csv":   {strings.NewReader("tconst\ttitleType\tprimaryTitle\n"), strings.NewReader("tconst,averageRating,numVotes\n"), "ratings: header lacks"},
		"read error":    {iotest.ErrReader(errors.New("disk gone")), nil, "disk gone"},
		"line too long": {strings.NewReader("tconst\ttitleType\tprimaryTitle\n" + strings.Repeat("x", maxTSVLine+1) + "\n"), nil, "token too long"},
	} {
		err := ReadIMDbTSV(tc.basics, tc.ratings, nop)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

func TestTconstNum(t *testing.T) {
	a, ok1 := tconstNum("tt0000001")
	b, ok2 := tconstNum("tt00000001")
	c, ok3 := tconstNum("tt1")
	if !ok1 || !ok2 || !ok3 || a == b || b == c || a == c {
		t.Errorf("keys %d %d %d (%v %v %v)", a, b, c, ok1, ok2, ok3)
	}
	for _, s := range []string{"", "tt", "t1", "tt1x", "nm0000001", "tt123456789012345678"} {
		if _, ok := tconstNum(s); ok {
			t.Errorf("tconstNum(%q) accepted", s)
		}
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop here")
	readers := map[string]func(emit func(domain.Record) error) error{
		"movies":  func(emit func(domain.Record) error) error { return ReadMoviesCSV(open(t, "movie_metadata.csv"), emit) },
		"imdb":    func(emit func(domain.Record) error) error { return ReadIMDbTSV(open(t, "title.basics.tsv"), nil, emit) },
		"artists": func(emit func(domain.Record) error) error { return ReadMoMAArtists(open(t, "moma_artists.csv"), emit) },
		"artworks": func(emit func(domain.Record) error) error {
			return ReadMoMAArtworks(open(t, "moma_artworks.json"), emit)
		},
	}
	for name, read := range readers {
		calls := 0
		err := read(func(domain.Record) error {
			calls++
			if calls == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 2 {
			t.Errorf("%s: got %v after %d calls, want %v after 2", name, err, calls, stop)
		}
	}
}

func TestReadMoMAArtists(t *testing.T) {
	arneson := &domain.Artist{ID: "moma-a-1", Name: "Robert Arneson", Bio: "American, 1930–1992", Nationality: "American",
		Gender: "Male", BeginYear: 1930, EndYear: 1992, Source: "moma-artists"}
	arnoldi := &domain.Artist{ID: "moma-a-4", Name: "Charles Arnoldi", Bio: "American, born 1946", Nationality: "American",
		Gender: "Male", BeginYear: 1946, WikiQID: "Q1063584", ULAN: "500027998", Source: "moma-artists"}
	t.Run("csv", func(t *testing.T) {
		recs := collect(t, func(emit func(domain.Record) error) error { return ReadMoMAArtists(open(t, "moma_artists.csv"), emit) })
		check(t, recs, "moma-artists", domain.KindArtist, []want{
			{key: "moma-a-1", line: 1, item: arneson},
			{key: "moma-a-2", line: 2, item: &domain.Artist{ID: "moma-a-2", Name: "Doroteo Arnaiz", Bio: "Spanish, born 1936",
				Nationality: "Spanish", Gender: "Male", BeginYear: 1936, Source: "moma-artists"}},
			{key: "moma-a-4", line: 3, item: arnoldi},
			{key: "moma-a-5", line: 4, errPart: `row 4 (line 5): BeginDate "19th" is not a whole number`},
			{key: "row-5", line: 5, errPart: `ConstituentID "x6" is not a number`},
			{key: "row-6", line: 6, errPart: "row 6 (line 7): has 2 fields, want 9"},
		})
		var raw map[string]string
		if err := json.Unmarshal(recs[2].Raw, &raw); err != nil || raw["DisplayName"] != " Charles Arnoldi " || raw["ConstituentID"] != "4" {
			t.Errorf("raw = %s (%v)", recs[2].Raw, err)
		}
	})
	t.Run("json", func(t *testing.T) {
		recs := collect(t, func(emit func(domain.Record) error) error { return ReadMoMAArtists(open(t, "moma_artists.json"), emit) })
		check(t, recs, "moma-artists", domain.KindArtist, []want{
			{key: "moma-a-1", line: 1, item: arneson},
			{key: "moma-a-4", line: 2, item: arnoldi},
			{key: "row-3", line: 3, errPart: "element 3: is a string, not an object"},
			{key: "row-4", line: 4, errPart: `element 4: ConstituentID "abc" is not a number`},
		})
		if got := string(recs[2].Raw); got != `{"_value":"not an object"}` {
			t.Errorf("raw of non-object = %s", got)
		}
		if got := string(recs[0].Raw); !strings.HasPrefix(got, `{"ConstituentID":1,"DisplayName":"Robert Arneson"`) {
			t.Errorf("raw keeps JSON types: %s", got)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		nop := func(domain.Record) error { return nil }
		for in, want := range map[string]string{
			"":                      "empty input",
			"   \n":                 "empty input",
			"Name,Bio\nx,y\n":       "header lacks required columns: ConstituentID, DisplayName",
			`[{"ConstituentID":1},`: "read json element 2",
			`[{"ConstituentID":1}`:  "end of array",
		} {
			if err := ReadMoMAArtists(strings.NewReader(in), nop); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: got %v, want %q", in, err, want)
			}
		}
	})
}

func TestReadMoMAArtworks(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		recs := collect(t, func(emit func(domain.Record) error) error {
			return ReadMoMAArtworks(open(t, "moma_artworks.json"), emit)
		})
		check(t, recs, "moma-artworks", domain.KindArtwork, []want{
			{key: "moma-aw-2", line: 1, item: &domain.Artwork{
				ID: "moma-aw-2", Title: "Ferdinandsbrücke Project, Vienna, Austria (Elevation, preliminary version)",
				ArtistIDs: []string{"moma-a-6210"}, Artists: []string{"Otto Wagner"}, Nationalities: []string{"Austrian"},
				Year: 1896, DateText: "1896", Medium: "Ink and cut-and-pasted painted pages on paper",
				Dimensions: `19 1/8 x 66 1/2" (48.6 x 168.9 cm)`, Classification: "Architecture", Department: "Architecture & Design",
				CreditLine: "Gift of a collector", URL: "https://www.moma.org/collection/works/2",
				ImageURL: "https://www.moma.org/media/x.jpg", Source: "moma-artworks",
			}},
			{key: "moma-aw-3", line: 2, item: &domain.Artwork{
				ID: "moma-aw-3", Title: "Two Hands", ArtistIDs: []string{"moma-a-100", "moma-a-200"},
				Artists: []string{"Ann Example", "Bo Example"}, Nationalities: []string{"American"},
				Year: 1962, DateText: "c. 1962-63", Medium: "Gelatin silver print", Source: "moma-artworks",
			}},
			{key: "row-3", line: 3, errPart: "element 3: is a scalar, not an object"},
			{key: "row-4", line: 4, errPart: `element 4: ObjectID "abc" is not a number`},
			{key: "moma-aw-5", line: 5, item: &domain.Artwork{
				ID: "moma-aw-5", Title: "String Forms", ArtistIDs: []string{"moma-a-100", "moma-a-200"},
				Artists: []string{"Ann Example", "Bo Example"}, Nationalities: []string{"American"},
				Year: 1890, DateText: "19th century, 1890s", Source: "moma-artworks",
			}},
			{key: "moma-aw-6", line: 6, errPart: "element 6: empty Title"},
		})
		if got := string(recs[2].Raw); got != `{"_value":42}` {
			t.Errorf("raw of non-object = %s", got)
		}
	})
	t.Run("csv", func(t *testing.T) {
		recs := collect(t, func(emit func(domain.Record) error) error {
			return ReadMoMAArtworks(open(t, "moma_artworks.csv"), emit)
		})
		check(t, recs, "moma-artworks", domain.KindArtwork, []want{
			{key: "moma-aw-4", line: 1, item: &domain.Artwork{
				ID: "moma-aw-4", Title: "Villa project, outside Vienna, Austria (Elevation)",
				ArtistIDs: []string{"moma-a-7605", "moma-a-7606"}, Artists: []string{"Emil Hoppe", "Otto Schönthal"},
				Nationalities: []string{"Austrian", "Austrian"}, Year: 1903, DateText: "1903", Medium: "Graphite on tracing paper",
				Dimensions: `13 1/2 x 12 1/2" (34.3 x 31.8 cm)`, Classification: "Architecture", Department: "Architecture & Design",
				CreditLine: "Gift of a collector", URL: "http://www.moma.org/collection/works/4",
				ImageURL: "http://www.moma.org/media/thumb.jpg", Source: "moma-artworks",
			}},
			{key: "moma-aw-8", line: 2, item: &domain.Artwork{
				ID: "moma-aw-8", Title: "No Date", ArtistIDs: []string{"moma-a-7"}, Artists: []string{"Someone"},
				DateText: "n.d.", Medium: "Oil on canvas", Classification: "Painting", Department: "Painting & Sculpture",
				Source: "moma-artworks",
			}},
			{key: "moma-aw-9", line: 3, errPart: `row 3 (line 4): ConstituentID "x" is not a number`},
		})
	})
}

func TestFirstYear(t *testing.T) {
	for in, want := range map[string]int{
		"1896": 1896, "c. 1917": 1917, "1962-63": 1962, "n.d.": 0, "": 0, "19th century": 0,
		"1890s": 1890, "12345, 1950": 1950, "0999 or 2101, then 2001": 2001, "Printed 1923, published 1925": 1923,
	} {
		if got := domain.FirstYear(in); got != want {
			t.Errorf("domain.FirstYear(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestParenthesized(t *testing.T) {
	for in, want := range map[string][]string{
		"(Austrian) (French)": {"Austrian", "French"},
		"(American) ()":       {"American"},
		"()":                  nil,
		"Swiss":               {"Swiss"},
		"":                    nil,
		"(Unclosed":           {"Unclosed"},
	} {
		if got := parenthesized(in); !slices.Equal(got, want) {
			t.Errorf("parenthesized(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIMDbID(t *testing.T) {
	for in, want := range map[string]string{
		"http://www.imdb.com/title/tt0499549/?ref_=fn_tt_tt_1": "tt0499549",
		"tt0000005": "tt0000005",
		"http://www.imdb.com/title/?ref_=fn_tt_tt_1": "",
		"": "",
	} {
		if got := imdbID(in); got != want {
			t.Errorf("imdbID(%q) = %q, want %q", in, got, want)
		}
	}
}
