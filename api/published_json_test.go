package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/testdb"
)

// TestPublishedModelsJSON pins, byte for byte, what the API serves from published models
// stored in the shapes the publishing activities write (real MariaDB): the stored rows are
// written here as literal JSON so that a change to either side's shape fails this test.
// The 200 answers are the ones the API gave before the models were typed; absent items
// and topics are 404 {"error": ...} through fail.
func TestPublishedModelsJSON(t *testing.T) {
	ctx := context.Background()
	store, err := mysql.Open(ctx, testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertItems(ctx, "v1", []mysql.Item{
		{ID: "tt0133093", Type: "movie", Title: "The Matrix", Year: 1999, Subtitle: "Lana Wachowski"},
		{ID: "moma-aw-1", Type: "artwork", Title: "Matrix <Study> & Co", Year: 1970},
	}); err != nil {
		t.Fatal(err)
	}
	srv := opsServer(t, api.Deps{Items: store, Models: store})
	check := func(path string, status int, want string) {
		t.Helper()
		resp, body := do(t, http.MethodGet, srv.URL+path, "", nil, nil)
		if resp.StatusCode != status {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, status)
			return
		}
		if want != "" && body != want {
			t.Errorf("GET %s:\n got %s\nwant %s", path, body, want)
		}
		if status != http.StatusOK {
			var e map[string]string
			if err := json.Unmarshal([]byte(body), &e); err != nil || len(e) != 1 || e["error"] == "" {
				t.Errorf("GET %s: error body %s, want {\"error\": ...}", path, body)
			}
		}
	}

	// Nothing published yet.
	check("/api/topics", 200, `{"note":"no topic model published yet: run BuildTopics","topics":[]}`)
	check("/api/topics/0/items", 404, `{"error":"topic 0 not found in the published model"}`)
	check("/api/movies/tt0133093/topics", 200, `{"id":"tt0133093","note":"no topic model published yet: run BuildTopics","topics":[]}`)
	check("/api/movies/tt0133093/similar", 200, `{"id":"tt0133093","note":"no similarity computed for this item yet: run BuildSimilarity","similar":[]}`)
	check("/api/pagerank/top", 200, `{"pages":[]}`)
	check("/api/ads/u1", 200, `{"targets":[],"user":"u1"}`)

	publish := func(model string, rows ...mysql.ModelRow) {
		t.Helper()
		if err := store.PutModelRows(ctx, model, "run-1", rows); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SwitchModel(ctx, model, "run-1"); err != nil {
			t.Fatal(err)
		}
	}
	publish("topics",
		mysql.ModelRow{Key: "0", Rank: 0, Payload: []byte(`{"id":0,"words":[{"word":"matrix","weight":0.25},{"word":"study","weight":0.125}],"items":2}`)},
		mysql.ModelRow{Key: "1", Rank: 1, Payload: []byte(`{"id":1,"words":[{"word":"a","weight":0.3},{"word":"b","weight":0.2},{"word":"c","weight":0.1},` +
			`{"word":"d","weight":0.05},{"word":"e","weight":0.025},{"word":"f","weight":0.0125}],"items":0}`)})
	publish("topic_items", mysql.ModelRow{Key: "0", Payload: []byte(`[{"id":"tt0133093","weight":0.75},{"id":"moma-aw-1","weight":0.5},{"id":"gone","weight":0.1}]`)})
	publish("item_topics", mysql.ModelRow{Key: "tt0133093", Payload: []byte(`[{"topic":0,"weight":0.75},{"topic":1,"weight":0.25}]`)})
	publish("similar", mysql.ModelRow{Key: "tt0133093", Payload: []byte(`[{"id":"moma-aw-1","score":0.5},{"id":"gone","score":0.25}]`)})
	publish("pagerank",
		mysql.ModelRow{Key: "tt0133093", Rank: 1, Payload: []byte(`{"id":"tt0133093","score":0.6,"rank":1}`)},
		mysql.ModelRow{Key: "gone", Rank: 2, Payload: []byte(`{"id":"gone","score":0.3,"rank":2}`)},
		mysql.ModelRow{Key: "moma-aw-1", Rank: 3, Payload: []byte(`{"id":"moma-aw-1","score":0.1,"rank":3}`)})
	publish("ads", mysql.ModelRow{Key: "u1", Payload: []byte(`[{"category":"drama","searches":3,"last_search":"2024-05-01T10:00:00.123456+02:00","products":["tt0133093"]},` +
		`{"category":"art","searches":4,"last_search":"2024-04-30T08:00:00Z","products":null}]`)})

	check("/api/topics", 200, `{"topics":[{"id":0,"words":[{"word":"matrix","weight":0.25},{"word":"study","weight":0.125}],"items":2},`+
		`{"id":1,"words":[{"word":"a","weight":0.3},{"word":"b","weight":0.2},{"word":"c","weight":0.1},{"word":"d","weight":0.05},{"word":"e","weight":0.025},{"word":"f","weight":0.0125}],"items":0}]}`)
	check("/api/topics/0/items", 200, `{"items":[{"id":"tt0133093","type":"movie","title":"The Matrix","year":1999,"subtitle":"Lana Wachowski","weight":0.75},`+
		`{"id":"moma-aw-1","type":"artwork","title":"Matrix \u003cStudy\u003e \u0026 Co","year":1970,"weight":0.5}],`+
		`"topic":{"id":0,"words":[{"word":"matrix","weight":0.25},{"word":"study","weight":0.125}],"items":2},"total":3}`)
	check("/api/topics/0/items?limit=1&offset=1", 200, `{"items":[{"id":"moma-aw-1","type":"artwork","title":"Matrix \u003cStudy\u003e \u0026 Co","year":1970,"weight":0.5}],`+
		`"topic":{"id":0,"words":[{"word":"matrix","weight":0.25},{"word":"study","weight":0.125}],"items":2},"total":3}`)
	check("/api/topics/1/items", 200, `{"items":[],"topic":{"id":1,"words":[{"word":"a","weight":0.3},{"word":"b","weight":0.2},{"word":"c","weight":0.1},`+
		`{"word":"d","weight":0.05},{"word":"e","weight":0.025},{"word":"f","weight":0.0125}],"items":0},"total":0}`)
	check("/api/topics/7/items", 404, `{"error":"topic 7 not found in the published model"}`)
	check("/api/movies/tt0133093/topics", 200, `{"id":"tt0133093","topics":[{"topic":0,"weight":0.75,"words":["matrix","study"]},{"topic":1,"weight":0.25,"words":["a","b","c","d","e"]}]}`)
	check("/api/artworks/moma-aw-1/topics", 200, `{"id":"moma-aw-1","note":"no topic model published yet: run BuildTopics","topics":[]}`)
	check("/api/movies/moma-aw-1/topics", 404, `{"error":"movie \"moma-aw-1\" not found"}`)
	check("/api/movies/nope/topics", 404, "")
	check("/api/movies/tt0133093/similar", 200, `{"id":"tt0133093","similar":[{"id":"moma-aw-1","type":"artwork","title":"Matrix \u003cStudy\u003e \u0026 Co","year":1970,"score":0.5}]}`)
	check("/api/artworks/moma-aw-1/similar", 200, `{"id":"moma-aw-1","note":"no similarity computed for this item yet: run BuildSimilarity","similar":[]}`)
	check("/api/artworks/nope/similar", 404, "")
	check("/api/pagerank/top", 200, `{"pages":[{"rank":1,"id":"tt0133093","type":"movie","title":"The Matrix","score":0.6},{"rank":2,"id":"gone","score":0.3},`+
		`{"rank":3,"id":"moma-aw-1","type":"artwork","title":"Matrix \u003cStudy\u003e \u0026 Co","score":0.1}]}`)
	check("/api/pagerank/top?limit=1", 200, `{"pages":[{"rank":1,"id":"tt0133093","type":"movie","title":"The Matrix","score":0.6}]}`)
	check("/api/ads/u1", 200, `{"targets":[{"category":"drama","searches":3,"last_search":"2024-05-01T10:00:00.123456+02:00","products":["tt0133093"]},`+
		`{"category":"art","searches":4,"last_search":"2024-04-30T08:00:00Z","products":null}],"user":"u1"}`)
	check("/api/ads/nobody", 200, `{"targets":[],"user":"nobody"}`)
	check("/api/items/nope", 404, `{"error":"item \"nope\" not found"}`)
}
