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

// TestSimilarityActivities runs BuildSimilarity's activities (the event batch jobs'
// activities are tested in package eventjobs).
func TestSimilarityActivities(t *testing.T) {
	ctx := context.Background()
	a, env, _ := setup(t)
	if _, err := env.ExecuteActivity(a.ImportDemoCatalog, activities.ImportDemoInput{Movies: 300, Artworks: 200}); err != nil {
		t.Fatal(err)
	}
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
