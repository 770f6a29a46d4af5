package imdb

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedDir holds real pages saved by others (see its README). They are not the
// project's: tests read them when the folder exists (CI has it) and skip otherwise.
const sharedDir = "../../../shared/fixtures/imdb"

func sharedPage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir, name))
	if err != nil {
		t.Skipf("shared fixture not available: %v", err)
	}
	return b
}

// withoutJSONLD drops the page's JSON-LD blocks so that __NEXT_DATA__ is read alone.
func withoutJSONLD(t testing.TB, page []byte) []byte {
	t.Helper()
	const open, end = `<script type="application/ld+json">`, `</script>`
	out := page
	for {
		i := bytes.Index(out, []byte(open))
		if i < 0 {
			return out
		}
		j := bytes.Index(out[i:], []byte(end))
		if j < 0 {
			t.Fatal("unterminated JSON-LD block")
		}
		out = append(out[:i:i], out[i+j+len(end):]...)
	}
}

type titleFacts struct {
	id, typ, title, layout string
	year                   int // 0: nil
	rating                 float64
	votes                  int
	genres, directors      []string
	cast                   []string
	runtime                int
	plotPrefix, content    string
}

func checkFacts(t *testing.T, got Title, want titleFacts) {
	t.Helper()
	deref := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	rating := 0.0
	if got.Rating != nil {
		rating = *got.Rating
	}
	if got.IMDbID != want.id || got.Type != want.typ || got.Title != want.title || got.Layout != want.layout ||
		deref(got.Year) != want.year || rating != want.rating || deref(got.Votes) != want.votes ||
		deref(got.RuntimeMinutes) != want.runtime || got.ContentRating != want.content ||
		!strings.HasPrefix(got.Plot, want.plotPrefix) || (want.plotPrefix == "" && got.Plot != "") {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, l := range []struct {
		name      string
		got, want []string
	}{{"genres", got.Genres, want.genres}, {"directors", got.Directors, want.directors}, {"cast", got.Cast, want.cast}} {
		if !slices.Equal(l.got, l.want) && !(len(l.got) == 0 && len(l.want) == 0) {
			t.Errorf("%s = %q, want %q", l.name, l.got, l.want)
		}
	}
}

func TestSharedMatrix(t *testing.T) {
	page := sharedPage(t, "flexget_tt0133093_the_matrix_2023-05.html")
	want := titleFacts{
		id: "tt0133093", typ: "movie", title: "The Matrix", layout: LayoutJSONLD, year: 1999, rating: 8.7, votes: 1956171,
		genres: []string{"Action", "Sci-Fi"}, directors: []string{"Lana Wachowski", "Lilly Wachowski"},
		cast: []string{"Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"}, runtime: 136,
		plotPrefix: "When a beautiful stranger leads computer hacker Neo", content: "R",
	}
	got, err := ParseTitle(page, "https://www.imdb.com/title/tt0133093/")
	if err != nil {
		t.Fatal(err)
	}
	checkFacts(t, got, want)

	// The same facts from __NEXT_DATA__ alone.
	got, err = ParseTitle(withoutJSONLD(t, page), "")
	if err != nil {
		t.Fatal(err)
	}
	want.layout = LayoutNextData
	checkFacts(t, got, want)

	m := got.Movie()
	if m.ID != "tt0133093" || m.Kind != "movie" || m.Year != 1999 || m.RuntimeMinutes != 136 || m.Source != "imdb-scrape" {
		t.Errorf("movie %+v", m)
	}
}

func TestSharedUsualSuspects(t *testing.T) {
	page := sharedPage(t, "flexget_tt0114814_the_usual_suspects_2022-10.html")
	want := titleFacts{
		id: "tt0114814", typ: "movie", title: "The Usual Suspects", layout: LayoutJSONLD, year: 1995, rating: 8.5, votes: 1078970,
		genres: []string{"Crime", "Drama", "Mystery"},
		// JSON-LD lists Christopher McQuarrie as a Person creator: he is the writer, not a director.
		directors: []string{"Bryan Singer"}, cast: []string{"Kevin Spacey", "Gabriel Byrne", "Chazz Palminteri"},
		runtime: 106, plotPrefix: "A sole survivor tells of the twisty events", content: "R",
	}
	got, err := ParseTitle(page, "")
	if err != nil {
		t.Fatal(err)
	}
	checkFacts(t, got, want)

	got, err = ParseTitle(withoutJSONLD(t, page), "")
	if err != nil {
		t.Fatal(err)
	}
	want.layout = LayoutNextData
	want.genres = []string{"Crime", "Drama", "Mystery", "Thriller"} // __NEXT_DATA__ lists one more genre
	checkFacts(t, got, want)
}

// tt3303790 is not the Netflix series (that is tt4635276, which this page lists under
// "more like this"): it is an in-development title typed Movie in both JSON-LD and
// __NEXT_DATA__, with no year, rating (0 votes), runtime, certificate, plot or credits
// anywhere on the page. Only the title and the genre are known.
func TestSharedMasterOfNone(t *testing.T) {
	page := sharedPage(t, "flexget_tt3303790_master_of_none_noyear_2022-10.html")
	want := titleFacts{id: "tt3303790", typ: "movie", title: "Master of None", layout: LayoutJSONLD, genres: []string{"Drama"}}
	got, err := ParseTitle(page, "")
	if err != nil {
		t.Fatal(err)
	}
	checkFacts(t, got, want)
	if got.Year != nil || got.Rating != nil || got.Votes != nil || got.RuntimeMinutes != nil {
		t.Errorf("pointer fields must stay nil: %+v", got)
	}

	got, err = ParseTitle(withoutJSONLD(t, page), "")
	if err != nil {
		t.Fatal(err)
	}
	want.layout = LayoutNextData
	checkFacts(t, got, want)
}

func TestSharedArcherSearch(t *testing.T) {
	got, err := ParseSearch(sharedPage(t, "drogers141_imdb-search-archer.html"))
	if err != nil {
		t.Fatal(err)
	}
	// Two title results; the Names section's known-for link (tt3991066) and the keyword
	// and company rows are not results.
	want := []string{"tt1486217 Archer 2009 series", "tt0060490 Harper 1966 movie"}
	var have []string
	for _, r := range got {
		have = append(have, r.IMDbID+" "+r.Title+" "+yearText(r.Year)+" "+r.Kind)
	}
	if !slices.Equal(have, want) {
		t.Errorf("got %q\nwant %q", have, want)
	}
}

// A real title page is not a search page and a search page is not a title page.
func TestSharedCrossed(t *testing.T) {
	if _, err := ParseSearch(sharedPage(t, "flexget_tt0133093_the_matrix_2023-05.html")); err == nil {
		t.Error("ParseSearch accepted a title page")
	}
	if _, err := ParseTitle(sharedPage(t, "drogers141_imdb-search-archer.html"), ""); err == nil {
		t.Error("ParseTitle accepted a search page")
	}
}
