package imdb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// seedPages adds every testdata page to the fuzz corpus.
func seedPages(f *testing.F, add func([]byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.html"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed pages: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	add(nil)
	add([]byte(`<script type="application/ld+json">[[[{"@graph":[{"@type":"Movie","name":{"x":1},"url":7}]}]]]</script>`))
	add([]byte(`<script id="__NEXT_DATA__">{"props":{"pageProps":{"titleResults":{"results":[{"listItem":{"listItem":{}}}]}}}}</script>`))
}

// FuzzParseTitle checks that no input panics and that an accepted page names a title.
func FuzzParseTitle(f *testing.F) {
	seedPages(f, func(b []byte) { f.Add(b, "") })
	f.Add([]byte("<title>x - IMDb</title>"), "https://www.imdb.com/title/tt0000001/")
	f.Fuzz(func(t *testing.T, page []byte, url string) {
		got, err := ParseTitle(page, url)
		if err != nil {
			return
		}
		if !validID(got.IMDbID) || got.Title == "" || got.Layout == "" || (got.Type != "movie" && got.Type != "series") {
			t.Fatalf("accepted an incomplete title: %+v", got)
		}
		if got.Year != nil && (*got.Year < minYear || *got.Year > maxYear) {
			t.Fatalf("year %d", *got.Year)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatal(err)
		}
		_ = got.Movie()
	})
}

// FuzzParseSearch checks that no input panics and that results are valid and unique.
func FuzzParseSearch(f *testing.F) {
	seedPages(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, page []byte) {
		got, err := ParseSearch(page)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range got {
			if !validID(r.IMDbID) || seen[r.IMDbID] || (r.Kind != "movie" && r.Kind != "series") {
				t.Fatalf("bad result %+v in %+v", r, got)
			}
			seen[r.IMDbID] = true
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatal(err)
		}
	})
}
