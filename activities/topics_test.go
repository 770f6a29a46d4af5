package activities_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
)

// TestTopicActivitiesRoundsAreBarriersAndIdempotent runs the topic activities by hand on
// real PostgreSQL and MySQL: a sweep cannot run ahead of a shard still in the previous
// round, a repeated sweep changes nothing, and the fitted model is published.
func TestTopicActivitiesRoundsAreBarriersAndIdempotent(t *testing.T) {
	acts, env, _ := setup(t)
	ctx := context.Background()
	if err := demo.Batches(demo.Options{Movies: 150, Artworks: 150, Seed: 4}, 500, func(b []domain.Record) error {
		_, err := acts.PG.WriteRecords(ctx, "test", b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p := activities.TopicsParams{RunID: "run-1", K: 4, Shards: 2, Heldout: 0.1, Seed: 1, Sweeps: 1, TopWords: 8, MaxItemTopics: 3}
	val, err := env.ExecuteActivity(acts.PrepareTopics, p)
	if err != nil {
		t.Fatal(err)
	}
	var plan activities.TopicsPlan
	if err := val.Get(&plan); err != nil || plan.Docs == 0 || plan.Heldout == 0 || plan.Vocab == 0 {
		t.Fatalf("plan %+v %v", plan, err)
	}
	sweep := func(shard, round int) error {
		q := p
		q.Iteration = round
		raw, _ := json.Marshal(q)
		_, err := env.ExecuteActivity(acts.TopicsSweep, activities.BatchShardInput{Job: "BuildTopics", Version: "run-1/it", Shard: shard, Shards: 2, Params: raw})
		return err
	}
	z := func(shard int) string {
		var b []byte
		if err := acts.PG.Pool().QueryRow(ctx, `SELECT z FROM topic_shards WHERE run_id = 'run-1' AND shard = $1`, shard).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if err := sweep(0, 1); err != nil {
		t.Fatal(err)
	}
	before := z(0)
	if err := sweep(0, 1); err != nil || z(0) != before {
		t.Fatalf("a repeated sweep changed the shard (err %v)", err)
	}
	if err := sweep(0, 2); err == nil || !strings.Contains(err.Error(), "1 of 2 shards") {
		t.Fatalf("round 2 ran while shard 1 was still in round 1: %v", err)
	}
	for round := 1; round <= 4; round++ {
		for shard := range 2 {
			if err := sweep(shard, round); err != nil {
				t.Fatalf("round %d shard %d: %v", round, shard, err)
			}
		}
	}
	var kept int
	if err := acts.PG.Pool().QueryRow(ctx, `SELECT count(*) FROM topic_shard_counts WHERE run_id = 'run-1'`).Scan(&kept); err != nil || kept != 4 {
		t.Errorf("%d shard count rows kept, want 4 (rounds 3 and 4 of 2 shards): %v", kept, err)
	}
	p.Iteration = 4
	val, err = env.ExecuteActivity(acts.FinishTopics, p)
	if err != nil {
		t.Fatal(err)
	}
	var q activities.TopicsQuality
	if err := val.Get(&q); err != nil || q.Items != int64(plan.Docs+plan.Heldout) || q.Perplexity <= 0 || q.Perplexity >= q.UniformPPL {
		t.Fatalf("quality %+v %v", q, err)
	}
	if _, err := env.ExecuteActivity(acts.PublishTopics, activities.ModelPublishInput{Version: "run-1"}); err != nil {
		t.Fatal(err)
	}
	rows, err := acts.MySQL.TopModelRows(ctx, activities.ModelTopics, 10)
	if err != nil || len(rows) != 4 {
		t.Fatalf("published topics %d %v", len(rows), err)
	}
	// Every item counts once, under its strongest topic.
	members := 0
	for _, r := range rows {
		var tp struct{ Items int }
		if err := json.Unmarshal(r.Payload, &tp); err != nil {
			t.Fatal(err)
		}
		members += tp.Items
	}
	if members != plan.Docs+plan.Heldout {
		t.Errorf("topics count %d items, want %d", members, plan.Docs+plan.Heldout)
	}
	var any string
	if err := acts.PG.Pool().QueryRow(ctx, `SELECT item_id FROM item_topics WHERE run_id = 'run-1' LIMIT 1`).Scan(&any); err != nil {
		t.Fatal(err)
	}
	if _, err := acts.MySQL.ModelRow(ctx, activities.ModelItemTopics, any); err != nil {
		t.Errorf("item %s has no published topic mix: %v", any, err)
	}
}
