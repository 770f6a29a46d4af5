package imdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
	}
}

func TestParseTitleGolden(t *testing.T) {
	for _, tc := range []struct{ file, layout string }{
		{"jsonld_movie", "json-ld"}, {"nextdata_series", "next-data"}, {"itemprop_old", "itemprop"},
		{"missing_fields", "json-ld"}, {"truncated", "json-ld"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			page, err := os.ReadFile(filepath.Join("testdata", tc.file+".html"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseTitle(page, "")
			if err != nil {
				t.Fatal(err)
			}
			if got.Layout != tc.layout {
				t.Errorf("layout %q, want %q", got.Layout, tc.layout)
			}
			golden(t, tc.file, got)
		})
	}
}

func TestParseTitleFacts(t *testing.T) {
	page, _ := os.ReadFile("testdata/jsonld_movie.html")
	got, err := ParseTitle(page, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "The Lantern Keeper's Daughter" || *got.Year != 1961 || *got.Votes != 12345 || *got.Rating != 7.4 ||
		*got.RuntimeMinutes != 102 || len(got.Directors) != 1 || got.Cast[0] != "Sören Åberg" || !strings.Contains(got.Plot, "&") {
		t.Errorf("%+v", got)
	}
	m := got.Movie()
	if m.ID != "tt7000001" || m.Kind != "movie" || m.Source != "imdb-scrape" || m.Year != 1961 {
		t.Errorf("movie %+v", m)
	}
	page, _ = os.ReadFile("testdata/missing_fields.html")
	got, _ = ParseTitle(page, "")
	b, _ := json.Marshal(got)
	for _, want := range []string{`"year":null`, `"rating":null`, `"votes":null`, `"genres":[]`, `"cast":[]`, `"runtime_minutes":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("missing fields must be null or empty: %s lacks %s", b, want)
		}
	}
}

func TestParseTitleRejectsNonTitlePages(t *testing.T) {
	for _, page := range [][]byte{nil, []byte("not html at all {"), []byte(`<script type="application/ld+json">{"@type":"Person","name":"X"}</script>`)} {
		if _, err := ParseTitle(page, ""); !errors.Is(err, ErrNotTitlePage) {
			t.Errorf("%q: %v", page, err)
		}
	}
	page, _ := os.ReadFile("testdata/not_imdb.html")
	if _, err := ParseTitle(page, "https://www.imdb.com/title/tt1/"); !errors.Is(err, ErrNotTitlePage) {
		t.Errorf("not imdb: %v", err)
	}
}

func TestParseSearchGolden(t *testing.T) {
	for _, f := range []string{"find_old", "find_next"} {
		page, _ := os.ReadFile(filepath.Join("testdata", f+".html"))
		got, err := ParseSearch(page)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].IMDbID != "tt7000002" || got[0].Kind != "series" || *got[1].Year != 1988 {
			t.Errorf("%s: %+v", f, got)
		}
		golden(t, f, got)
	}
}

func TestISODuration(t *testing.T) {
	for in, want := range map[string]int{"PT2H16M": 136, "PT45M": 45, "PT1H": 60, "P0DT2H16M0S": 136, "PT90S": 2, "pt30m": 30} {
		if got, ok := ISODurationMinutes(in); !ok || got != want {
			t.Errorf("%s = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "2h16m", "PT0M"} {
		if _, ok := ISODurationMinutes(in); ok {
			t.Errorf("%q should not parse", in)
		}
	}
}

func TestIDFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"/title/tt0133093/?ref_=fn_al_tt_1": "tt0133093", "https://www.imdb.com/title/tt12345678/": "tt12345678",
		"/name/nm0000206/": "", "": "", "/title/": "",
	} {
		if got := IDFromURL(in); got != want {
			t.Errorf("%q = %q, want %q", in, got, want)
		}
	}
}

// The real pages in ../shared/fixtures are not the project's; they are read when present.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "imdb", name))
	if err != nil {
		t.Skipf("shared fixture %s not available: %v", name, err)
	}
	return b
}

func TestSharedFixtures(t *testing.T) {
	m, err := ParseTitle(fixture(t, "flexget_tt0133093_the_matrix_2023-05.html"), "")
	if err != nil {
		t.Fatal(err)
	}
	if m.IMDbID != "tt0133093" || m.Type != "movie" || *m.Year != 1999 || *m.Rating != 8.7 || *m.RuntimeMinutes != 136 ||
		strings.Join(m.Directors, ",") != "Lana Wachowski,Lilly Wachowski" || m.Cast[0] != "Keanu Reeves" || m.ContentRating != "R" {
		t.Errorf("matrix: %+v", m)
	}
	u, err := ParseTitle(fixture(t, "flexget_tt0114814_the_usual_suspects_2022-10.html"), "")
	if err != nil || u.Title != "The Usual Suspects" || *u.Year != 1995 || u.Directors[0] != "Bryan Singer" {
		t.Errorf("usual suspects: %+v %v", u, err)
	}
	n, err := ParseTitle(fixture(t, "flexget_tt3303790_master_of_none_noyear_2022-10.html"), "")
	if err != nil || n.Title != "Master of None" || n.Year != nil || n.Rating != nil || len(n.Cast) != 0 || n.Plot != "" {
		t.Errorf("master of none: %+v %v", n, err)
	}
	s, err := ParseSearch(fixture(t, "drogers141_imdb-search-archer.html"))
	if err != nil || len(s) < 2 || s[0].IMDbID != "tt1486217" || s[0].Kind != "series" || *s[0].Year != 2009 || s[1].IMDbID != "tt0060490" {
		t.Errorf("archer search: %+v %v", s, err)
	}
	for _, r := range s {
		if r.IMDbID == "tt3991066" {
			t.Error("a title linked from the Names section leaked into the results")
		}
	}
}

func FuzzParseTitle(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.html")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseTitle(b, "")
		_, _ = ParseSearch(b)
	})
}

func BenchmarkParseTitle(b *testing.B) {
	page, _ := os.ReadFile("testdata/jsonld_movie.html")
	if real, err := os.ReadFile("../../../shared/fixtures/imdb/flexget_tt0133093_the_matrix_2023-05.html"); err == nil {
		page = real // a real 1 MB page is the honest case
	}
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := ParseTitle(page, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
