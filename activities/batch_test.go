package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/curiodata/curio/activities"
)

func insertEvents(t *testing.T, a *activities.Activities, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	for _, hr := range []string{"2026112309", "2026112310"} {
		from, _ := time.Parse("2006010215", hr)
		_, err := a.PG.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS raw_events_`+hr+` PARTITION OF raw_events FOR VALUES FROM ('`+
			from.Format(time.RFC3339)+`') TO ('`+from.Add(time.Hour).Format(time.RFC3339)+`')`)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		_, err := a.PG.Pool().Exec(ctx, `INSERT INTO raw_events (event_id, type, user_id, ts, item_id, country, category, source_item, target_item, topic, kpartition, koffset)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'t',0,$10)`, append([]any{fmt.Sprint("ev", i)}, append(r, i)...)...)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestBatchJobActivities(t *testing.T) {
	ctx := context.Background()
	a, env, _ := setup(t)
	if _, err := env.ExecuteActivity(a.ImportDemoCatalog, activities.ImportDemoInput{Movies: 300, Artworks: 200}); err != nil {
		t.Fatal(err)
	}
	h9 := time.Date(2026, 11, 23, 9, 10, 0, 0, time.UTC)
	h10 := h9.Add(time.Hour)
	// type, user, ts, item, country, category, source, target
	insertEvents(t, a, [][]any{
		{"upload", "u1", h9, "demo-aw-000001", "FR", nil, nil, nil},
		{"upload", "u2", h9, "demo-aw-000002", "FR", nil, nil, nil},
		{"upload", "u3", h10, "demo-aw-000003", "JP", nil, nil, nil},
		{"click", "u1", h9, nil, nil, nil, "demo-m-000001", "demo-m-000002"},
		{"click", "u2", h9, nil, nil, nil, "demo-m-000003", "demo-m-000002"},
		{"click", "u3", h10, nil, nil, nil, "demo-m-000002", "demo-m-000001"},
		{"search", "shopper", h9, nil, nil, "Drama", nil, nil},
		{"search", "shopper", h9.Add(time.Minute), nil, nil, "drama", nil, nil},
		{"search", "shopper", h10, nil, nil, "Drama", nil, nil},
		{"search", "buyer", h9, nil, nil, "Drama", nil, nil},
		{"search", "buyer", h9, nil, nil, "Drama", nil, nil},
		{"search", "buyer", h9, nil, nil, "Drama", nil, nil},
	})
	run := func(fn any, in any, out any) {
		t.Helper()
		v, err := env.ExecuteActivity(fn, in)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			if err := v.Get(out); err != nil {
				t.Fatal(err)
			}
		}
	}

	var hours activities.HoursParams
	run(a.EventHours, activities.HoursInput{EventType: "upload"}, &hours)
	if len(hours.Hours) != 2 {
		t.Fatalf("upload hours %v", hours.Hours)
	}
	params, _ := json.Marshal(hours)
	for shard := range 2 {
		for range 2 { // a re-run replaces, never adds
			run(a.UploadsShard, activities.BatchShardInput{Job: "AggregateUploads", Version: "v1", Shard: shard, Shards: 2, Params: params}, nil)
		}
	}
	var fr int64
	_ = a.PG.Pool().QueryRow(ctx, `SELECT sum(count) FROM upload_hourly WHERE country = 'FR'`).Scan(&fr)
	if fr != 2 {
		t.Errorf("FR uploads = %d, want 2", fr)
	}

	run(a.EventHours, activities.HoursInput{EventType: "click"}, &hours)
	params, _ = json.Marshal(hours)
	for shard := range len(hours.Hours) {
		run(a.ClickEdgesShard, activities.BatchShardInput{Job: "ClickstreamPageRank", Version: "p1", Shard: shard, Shards: len(hours.Hours), Params: params}, nil)
	}
	var pr activities.PageRankResult
	run(a.ComputePageRank, activities.ModelPublishInput{Version: "p1"}, &pr)
	top, err := a.MySQL.TopModelRows(ctx, activities.ModelPageRank, 3)
	if err != nil || len(top) != 3 || top[0].Key != "demo-m-000002" || pr.Edges != 3 {
		t.Errorf("pagerank top %+v, %+v, %v", top, pr, err)
	}

	adsParams, _ := json.Marshal(activities.AdsParams{Now: h10.Add(time.Hour), Window: 24 * time.Hour, MinSearches: 3, MaxProducts: 3})
	// buyer bought a drama: not targeted.
	var dramaID string
	_ = a.PG.Pool().QueryRow(ctx, `SELECT id FROM movies WHERE 'Drama' = ANY(genres) ORDER BY id LIMIT 1`).Scan(&dramaID)
	insertEvents(t, a, [][]any{{"purchase", "buyer", h10, dramaID, nil, nil, nil, nil}})
	for shard := range 3 {
		run(a.AdsShard, activities.BatchShardInput{Job: "TargetAds", Version: "a1", Shard: shard, Shards: 3, Params: adsParams}, nil)
	}
	run(a.PublishAds, activities.ModelPublishInput{Version: "a1"}, nil)
	raw, err := a.MySQL.ModelRow(ctx, activities.ModelAds, "shopper")
	var targets []activities.AdTarget
	if err != nil || json.Unmarshal(raw, &targets) != nil || len(targets) != 1 || targets[0].Category != "drama" ||
		targets[0].Searches != 3 || len(targets[0].Products) == 0 {
		t.Errorf("shopper targets %s, %v", raw, err)
	}
	if _, err := a.MySQL.ModelRow(ctx, activities.ModelAds, "buyer"); err == nil {
		t.Error("a user who bought in the category must not be targeted")
	}

	// Similarity: two shards, one run twice from a heartbeat-free start; output is published.
	simParams, _ := json.Marshal(activities.SimilarityParams{K: 5, Chunk: 50})
	for shard := range 2 {
		run(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "s1", Shard: shard, Shards: 2, Params: simParams}, nil)
	}
	run(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "s1", Shard: 1, Shards: 2, Params: simParams}, nil)
	var pub activities.ModelPublishResult
	run(a.PublishSimilarity, activities.ModelPublishInput{Version: "s1"}, &pub)
	if pub.Rows != 500 {
		t.Errorf("similarity rows published = %d, want one per item (500)", pub.Rows)
	}
	var dup int
	_ = a.PG.Pool().QueryRow(ctx, `SELECT count(*) FROM (SELECT item_id, rank FROM similar_items GROUP BY 1, 2 HAVING count(*) > 1) d`).Scan(&dup)
	var attempts int
	_ = a.PG.Pool().QueryRow(ctx, `SELECT count(*) FROM batch_shard_runs WHERE job = 'BuildSimilarity'`).Scan(&attempts)
	if dup != 0 || attempts != 2 {
		t.Errorf("duplicates %d, shard run rows %d (a re-run of the same attempt replaces its row)", dup, attempts)
	}
}
