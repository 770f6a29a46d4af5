package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
)

// source serves versions from memory, standing in for MySQL's published segments.
type source struct {
	mu      sync.Mutex
	version string
	segs    map[string][][]byte
}

func (s *source) CurrentVersion(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version == "" {
		return "", mysql.ErrNotFound
	}
	return s.version, nil
}

func (s *source) LoadSegments(_ context.Context, v string) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.segs[v], nil
}

func (s *source) publish(t *testing.T, v string, docs ...search.Doc) {
	b, err := search.BuildSegment(docs).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.segs == nil {
		s.segs = map[string][][]byte{}
	}
	s.segs[v] = [][]byte{b}
	s.version = v
}

type items map[string]mysql.Item

func (it items) ItemsByID(_ context.Context, ids []string) (map[string]mysql.Item, error) {
	out := map[string]mysql.Item{}
	for _, id := range ids {
		if v, ok := it[id]; ok {
			out[id] = v
		}
	}
	return out, nil
}

func newServer(t *testing.T) (*httptest.Server, *source, *serving.Holder) {
	src := &source{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := serving.NewHolder(src, logger)
	it := items{
		"tt0133093": {ID: "tt0133093", Type: "movie", Title: "The Matrix", Year: 1999, Subtitle: "Lana Wachowski"},
		"tt0234215": {ID: "tt0234215", Type: "movie", Title: "The Matrix Reloaded", Year: 2003},
		"moma-aw-1": {ID: "moma-aw-1", Type: "artwork", Title: "Matrix Study", Year: 1970},
	}
	srv := httptest.NewServer(api.New(api.Deps{Items: it, Index: h, Logger: logger, Limits: api.Limits{SearchRate: -1},
		Static: fstest.MapFS{"index.html": {Data: []byte(`<main id="app"></main>`)}}}))
	t.Cleanup(srv.Close)
	return srv, src, h
}

func get(t *testing.T, url string, want int, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s = %d, want %d: %s", url, resp.StatusCode, want, body)
	}
	if ct := resp.Header.Get("Content-Type"); out != nil && !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s content type %q", url, ct)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSearchAPI(t *testing.T) {
	srv, src, h := newServer(t)
	var e struct{ Error string }
	get(t, srv.URL+"/api/search?q=matrix", http.StatusServiceUnavailable, &e)
	get(t, srv.URL+"/healthz", http.StatusServiceUnavailable, nil)

	src.publish(t, "v1",
		search.Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix", People: []string{"Keanu Reeves"}, Year: 1999},
		search.Doc{ID: "tt0234215", Type: "movie", Title: "The Matrix Reloaded", Year: 2003},
		search.Doc{ID: "moma-aw-1", Type: "artwork", Title: "Matrix Study", Year: 1970},
		search.Doc{ID: "tt-unpublished", Type: "movie", Title: "Matrix of Nothing"},
	)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	get(t, srv.URL+"/healthz", http.StatusOK, nil)

	var res api.SearchResponse
	get(t, srv.URL+"/api/search?q=the+matrix&type=movie", http.StatusOK, &res)
	if res.Version != "v1" || len(res.Results) < 2 || res.Results[0].ID != "tt0133093" || res.Results[0].Year != 1999 || res.Results[0].Score <= 0 {
		t.Fatalf("search: %+v", res)
	}
	for _, r := range res.Results {
		if r.Type != "movie" || r.ID == "tt-unpublished" {
			t.Errorf("unexpected result %+v", r)
		}
	}
	get(t, srv.URL+"/api/search?q=matrix&limit=1&offset=1", http.StatusOK, &res)
	if len(res.Results) > 1 || res.Total < 3 {
		t.Errorf("paging: %+v", res)
	}

	for _, q := range []string{"", "?q=%20%20", "?q=x&limit=101", "?q=x&limit=-5", "?q=x&offset=abc", "?q=x&type=song",
		"?q=" + strings.Repeat("long", 100), "?q=%ff%fe"} {
		get(t, srv.URL+"/api/search"+q, http.StatusBadRequest, &e)
		if e.Error == "" {
			t.Errorf("%s: empty error", q)
		}
	}
	// Injection-like text is just text.
	get(t, srv.URL+"/api/search?q="+url.QueryEscape(`' OR 1=1;-- <script>alert(1)</script>`), http.StatusOK, &res)

	get(t, srv.URL+"/api/nope", http.StatusNotFound, &e)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="app"`) {
		t.Errorf("GET / = %d %s", resp.StatusCode, body)
	}
}

// TestHotSwapUnderLoad publishes new versions while clients search; no request may fail.
func TestHotSwapUnderLoad(t *testing.T) {
	srv, src, h := newServer(t)
	doc := search.Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix"}
	src.publish(t, "v0", doc)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 100)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(srv.URL + "/api/search?q=matrix")
				if err != nil {
					errs <- err.Error()
					return
				}
				var res api.SearchResponse
				_ = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(res.Results) != 1 {
					errs <- resp.Status
					return
				}
			}
		})
	}
	for i := 1; i <= 20; i++ {
		src.publish(t, "v"+strings.Repeat("x", i), doc)
		if err := h.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSearchFiltersFacetsSuggestHighlights(t *testing.T) {
	srv, src, h := newServer(t)
	src.publish(t, "v1",
		search.Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix", People: []string{"Lana Wachowski"}, Year: 1999, Tags: map[string][]string{"genre": {"Action", "Sci-Fi"}}},
		search.Doc{ID: "tt0234215", Type: "movie", Title: "The Matrix Reloaded", Year: 2003, Tags: map[string][]string{"genre": {"Action"}}},
		search.Doc{ID: "moma-aw-1", Type: "artwork", Title: "Matrix Study", Year: 1970, Tags: map[string][]string{"medium": {"Oil on canvas"}, "nationality": {"French"}}},
	)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	var res api.SearchResponse
	get(t, srv.URL+"/api/search?q=matrix&genre=sci-fi&facets=type,decade,genre", http.StatusOK, &res)
	if res.Total != 1 || len(res.Results) != 1 || res.Results[0].ID != "tt0133093" {
		t.Fatalf("genre filter: %+v", res)
	}
	if len(res.Facets["decade"]) != 1 || res.Facets["decade"][0].Value != "1990s" {
		t.Errorf("facets %+v", res.Facets)
	}
	// The filtered facet counts as if its own filter were off (OR within a facet): ticking
	// Action next to Sci-Fi would add the sequel.
	genres := map[string]int{}
	for _, fc := range res.Facets["genre"] {
		genres[fc.Value] = fc.Count
	}
	if genres["Action"] != 2 || genres["Sci-Fi"] != 1 {
		t.Errorf("genre counts %v, want Action 2, Sci-Fi 1", genres)
	}
	get(t, srv.URL+"/api/search?q=matrix&type=movie&facets=type", http.StatusOK, &res)
	types := map[string]int{}
	for _, fc := range res.Facets["type"] {
		types[fc.Value] = fc.Count
	}
	if res.Total != 2 || types["movie"] != 2 || types["artwork"] != 1 {
		t.Errorf("type filter with type facet: total %d, counts %v", res.Total, types)
	}
	if hl := res.Results[0].Highlights["title"]; len(hl) != 1 || hl[0] != [2]int{4, 10} {
		t.Errorf("highlights %+v", res.Results[0].Highlights)
	}
	get(t, srv.URL+"/api/search?q=matrix&year_from=2000", http.StatusOK, &res)
	if res.Total != 1 || res.Results[0].ID != "tt0234215" {
		t.Errorf("year filter: %+v", res)
	}
	get(t, srv.URL+"/api/search?q=matirx", http.StatusOK, &res)
	if res.Total != 3 || !res.Corrected {
		t.Errorf("typo: %+v", res)
	}
	var e struct{ Error string }
	for _, q := range []string{"q=x&colour=red", "q=x&facets=mood", "q=x&year_from=2010&year_to=2000", "q=x&fuzzy=maybe", "q=x&year_from=99"} {
		get(t, srv.URL+"/api/search?"+q, http.StatusBadRequest, &e)
		if e.Error == "" {
			t.Errorf("%s: empty error", q)
		}
	}
	var sg struct {
		Suggestions []api.Suggestion
	}
	get(t, srv.URL+"/api/suggest?q=the+matr", http.StatusOK, &sg)
	if len(sg.Suggestions) < 2 || sg.Suggestions[0].Title != "The Matrix" {
		t.Errorf("suggest %+v", sg)
	}
	get(t, srv.URL+"/api/suggest?q=matr&type=artwork", http.StatusOK, &sg)
	if len(sg.Suggestions) != 1 || sg.Suggestions[0].ID != "moma-aw-1" {
		t.Errorf("suggest artwork %+v", sg)
	}
	get(t, srv.URL+"/api/suggest", http.StatusBadRequest, &e)
}
