package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
)

// benchIndex builds a 20k-document index and the items the API joins results with.
func benchIndex(b *testing.B) (*serving.Holder, items) {
	b.Helper()
	words := []string{"harbor", "glass", "night", "monsoon", "distant", "river", "garden", "storm", "city", "station"}
	var docs []search.Doc
	it := items{}
	for i := range 20_000 {
		title := fmt.Sprintf("%s of the %s %d", words[i%10], words[(i/10)%10], i)
		id := fmt.Sprintf("tt%07d", i)
		docs = append(docs, search.Doc{ID: id, Type: "movie", Title: title, Year: 1950 + i%70, Tags: map[string][]string{"genre": {words[i%7]}}})
		it[id] = mysql.Item{ID: id, Type: "movie", Title: title, Year: 1950 + i%70}
	}
	src := &source{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := serving.NewHolder(src, logger)
	seg, err := search.BuildSegment(docs).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	src.segs = map[string][][]byte{"v1": {seg}}
	src.version = "v1"
	if err := h.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return h, it
}

// BenchmarkSearchHTTP is GET /api/search through the whole handler (routing, metrics,
// request log, body/time limits, rate limiter, validation, search, item join, JSON), next
// to BenchmarkSearchIndex, the same query on the index alone: their ratio is what the HTTP
// layer and its operations middleware cost.
func BenchmarkSearchHTTP(b *testing.B) {
	h, it := benchIndex(b)
	const plain = "/api/search?q=harbor+glass&limit=10&facets=genre,decade"
	for _, tc := range []struct {
		name, url string
		limits    api.Limits
	}{
		{"rate-limited", plain, api.Limits{SearchRate: 1e9, SearchBurst: 1 << 30}},
		{"unlimited", plain, api.Limits{SearchRate: -1}},
		// A filtered facet is counted again without its filter: one more index search.
		{"genre-filtered", plain + "&genre=night", api.Limits{SearchRate: -1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			handler := api.New(api.Deps{Items: it, Index: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: tc.limits})
			req := httptest.NewRequest(http.MethodGet, tc.url, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func BenchmarkSearchIndex(b *testing.B) {
	h, _ := benchIndex(b)
	snap, err := h.Current()
	if err != nil {
		b.Fatal(err)
	}
	q := search.Query{Text: "harbor glass", Limit: 10, Facets: []string{"genre", "decade"}}
	b.ReportAllocs()
	for b.Loop() {
		if res := snap.Index.Search(q); res.Total == 0 {
			b.Fatal("no hits")
		}
	}
}
