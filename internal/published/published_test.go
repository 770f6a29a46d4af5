package published_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/teststores"
)

// open is a migrated serving store on a fresh database.
func open(t *testing.T) *mysql.Store {
	_, my, _ := teststores.Open(t)
	return my
}

// publish writes rows of version through the typed writer and serves them.
func publish[V any](t *testing.T, s *mysql.Store, m published.Model[V], version string, rows ...published.Row[V]) {
	t.Helper()
	ctx := context.Background()
	if err := m.Put(ctx, s, version, rows); err != nil {
		t.Fatal(err)
	}
	n, err := m.Switch(ctx, s, version)
	if err != nil || n != int64(len(rows)) {
		t.Fatalf("switch %s to %s: %d rows, %v; want %d", m.Name(), version, n, err, len(rows))
	}
}

func get[V any](t *testing.T, s *mysql.Store, m published.Model[V], key string, want V) {
	t.Helper()
	got, err := m.Get(context.Background(), s, key)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s[%s] = %+v, %v; want %+v", m.Name(), key, got, err, want)
	}
}

// TestWriteThenRead writes every published model through its typed writer and reads it
// back through its typed reader from real MariaDB.
func TestWriteThenRead(t *testing.T) {
	ctx := context.Background()
	s := open(t)

	topics := []published.Row[published.Topic]{
		{Key: published.TopicKey(0), Rank: 0, Value: published.Topic{ID: 0, Words: []published.TopicWord{{Word: "matrix", Weight: 0.25}}, Items: 2}},
		{Key: published.TopicKey(1), Rank: 1, Value: published.Topic{ID: 1, Words: []published.TopicWord{{Word: "stillleben", Weight: 0.5}, {Word: "öl", Weight: 0.125}}}},
		{Key: published.TopicKey(10), Rank: 10, Value: published.Topic{ID: 10, Words: []published.TopicWord{}, Items: 1}},
	}
	publish(t, s, published.Topics, "run-1", topics...)
	top, err := published.Topics.Top(ctx, s, 2)
	if err != nil || !reflect.DeepEqual(top, topics[:2]) {
		t.Errorf("top topics %+v, %v; want %+v", top, err, topics[:2])
	}
	get(t, s, published.Topics, "10", topics[2].Value)

	members := []published.TopicMember{{ID: "tt1", Weight: 0.75}, {ID: "moma-aw-2", Weight: 0.5}}
	publish(t, s, published.TopicItems, "run-1", published.Row[[]published.TopicMember]{Key: published.TopicKey(0), Value: members})
	get(t, s, published.TopicItems, "0", members)

	mix := []published.TopicShare{{Topic: 0, Weight: 0.75}, {Topic: 1, Weight: 0.25}}
	publish(t, s, published.ItemTopics, "run-1", published.Row[[]published.TopicShare]{Key: "tt1", Value: mix})
	get(t, s, published.ItemTopics, "tt1", mix)

	nbrs := []published.Neighbor{{ID: "tt2", Score: 0.9}, {ID: "moma-aw-2", Score: 0.1}}
	publish(t, s, published.Similar, "s1", published.Row[[]published.Neighbor]{Key: "tt1", Value: nbrs})
	get(t, s, published.Similar, "tt1", nbrs)

	ranks := []published.Row[published.RankedItem]{
		{Key: "tt2", Rank: 1, Value: published.RankedItem{ID: "tt2", Score: 0.6, Rank: 1}},
		{Key: "tt1", Rank: 2, Value: published.RankedItem{ID: "tt1", Score: 0.4, Rank: 2}},
	}
	publish(t, s, published.PageRank, "p1", ranks...)
	if got, err := published.PageRank.Top(ctx, s, 10); err != nil || !reflect.DeepEqual(got, ranks) {
		t.Errorf("top pages %+v, %v; want %+v", got, err, ranks)
	}

	last := time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC)
	targets := []published.AdTarget{{Category: "drama", Searches: 3, LastSearch: last, Products: []string{"tt1", "tt2"}}}
	publish(t, s, published.Ads, "a1", published.Row[[]published.AdTarget]{Key: "shopper", Value: targets})
	got, err := published.Ads.Get(ctx, s, "shopper")
	if err != nil || len(got) != 1 || !got[0].LastSearch.Equal(last) || got[0].Category != "drama" || got[0].Searches != 3 ||
		!reflect.DeepEqual(got[0].Products, targets[0].Products) {
		t.Errorf("ads of shopper %+v, %v; want %+v", got, err, targets)
	}

	// Models do not see each other's rows: "tt1" is keyed in Similar and ItemTopics only.
	for _, err := range []error{
		func() error { _, err := published.Ads.Get(ctx, s, "buyer"); return err }(),
		func() error { _, err := published.Similar.Get(ctx, s, "tt2"); return err }(),
		func() error { _, err := published.PageRank.Get(ctx, s, "shopper"); return err }(),
		func() error { _, err := published.TopicItems.Get(ctx, s, "1"); return err }(),
	} {
		if !errors.Is(err, domain.ErrNotFound) || !errors.Is(err, mysql.ErrNotFound) {
			t.Errorf("absent row: %v, want domain.ErrNotFound", err)
		}
	}

	// A new version is not served until it is switched to.
	next := []published.Neighbor{{ID: "tt3", Score: 1}}
	if err := published.Similar.Put(ctx, s, "s2", []published.Row[[]published.Neighbor]{{Key: "tt1", Value: next}}); err != nil {
		t.Fatal(err)
	}
	get(t, s, published.Similar, "tt1", nbrs)
	if _, err := published.Similar.Switch(ctx, s, "s2"); err != nil {
		t.Fatal(err)
	}
	get(t, s, published.Similar, "tt1", next)

	// A row that is not the model's JSON shape is an error, not a zero value.
	if err := s.PutModelRows(ctx, published.PageRankName, "p2", []mysql.ModelRow{{Key: "tt1", Rank: 1, Payload: []byte(`[1,2]`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SwitchModel(ctx, published.PageRankName, "p2"); err != nil {
		t.Fatal(err)
	}
	if _, err := published.PageRank.Top(ctx, s, 10); err == nil {
		t.Error("a malformed pagerank row was read without an error")
	}
}

// TestStoredShapes pins the JSON of each model's rows: the rows already in MySQL were
// written in these shapes, and the API serves several of them as they are stored.
func TestStoredShapes(t *testing.T) {
	last := time.Date(2024, 5, 1, 10, 0, 0, 0, time.FixedZone("", 2*3600))
	for _, c := range []struct {
		model string
		name  string
		value any
		want  string
	}{
		{published.Similar.Name(), published.SimilarName, []published.Neighbor{{ID: "tt1", Score: 0.5}}, `[{"id":"tt1","score":0.5}]`},
		{published.PageRank.Name(), published.PageRankName, published.RankedItem{ID: "tt1", Score: 0.5, Rank: 1}, `{"id":"tt1","score":0.5,"rank":1}`},
		{published.Ads.Name(), published.AdsName, []published.AdTarget{{Category: "drama", Searches: 3, LastSearch: last}},
			`[{"category":"drama","searches":3,"last_search":"2024-05-01T10:00:00+02:00","products":null}]`},
		{published.Topics.Name(), published.TopicsName, published.Topic{ID: 2, Words: []published.TopicWord{{Word: "öl", Weight: 0.25}}, Items: 7},
			`{"id":2,"words":[{"word":"öl","weight":0.25}],"items":7}`},
		{published.ItemTopics.Name(), published.ItemTopicsName, []published.TopicShare{{Topic: 2, Weight: 0.25}}, `[{"topic":2,"weight":0.25}]`},
		{published.TopicItems.Name(), published.TopicItemsName, []published.TopicMember{{ID: "tt1", Weight: 0.25}}, `[{"id":"tt1","weight":0.25}]`},
	} {
		if c.model != c.name {
			t.Errorf("model %q is named %q", c.model, c.name)
		}
		b, err := json.Marshal(c.value)
		if err != nil || string(b) != c.want {
			t.Errorf("%s row %s, %v; want %s", c.model, b, err, c.want)
		}
	}
	names := map[string]bool{}
	for _, n := range []string{published.SimilarName, published.PageRankName, published.AdsName, published.TopicsName, published.ItemTopicsName, published.TopicItemsName} {
		if names[n] {
			t.Errorf("two models are named %q", n)
		}
		names[n] = true
	}
	if published.TopicKey(12) != "12" {
		t.Errorf("TopicKey(12) = %q", published.TopicKey(12))
	}
}
