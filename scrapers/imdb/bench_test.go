package imdb

import (
	"os"
	"path/filepath"
	"testing"
)

func benchParse(b *testing.B, page []byte) {
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := ParseTitle(page, ""); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkParseTitle parses the JSON-LD testdata page and, when the shared fixtures are
// present, the real 1 MB Matrix page with and without its JSON-LD (__NEXT_DATA__ only).
func BenchmarkParseTitle(b *testing.B) {
	b.Run("testdata-jsonld", func(b *testing.B) {
		benchParse(b, readTestdata(b, "jsonld_movie.html"))
	})
	b.Run("testdata-itemprop", func(b *testing.B) {
		benchParse(b, readTestdata(b, "itemprop_old.html"))
	})
	matrix, err := os.ReadFile(filepath.Join(sharedDir, "flexget_tt0133093_the_matrix_2023-05.html"))
	if err != nil {
		b.Logf("shared fixtures not available: %v", err)
		return
	}
	b.Run("shared-matrix", func(b *testing.B) { benchParse(b, matrix) })
	b.Run("shared-matrix-nextdata", func(b *testing.B) {
		benchParse(b, withoutJSONLD(b, matrix))
	})
}

// BenchmarkParseSearch parses the real find page when present.
func BenchmarkParseSearch(b *testing.B) {
	page := sharedPage(b, "drogers141_imdb-search-archer.html")
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := ParseSearch(page); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pages/s")
}
