package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/topics"
)

// TestTopicStoreSweepsAreConditionalAndRunsRestart: a sweep is stored once per iteration,
// old counts are pruned, a fitted model reads back, and starting a run again replaces it.
func TestTopicStoreSweepsAreConditionalAndRunsRestart(t *testing.T) {
	ctx := context.Background()
	st := open(t).Topics()
	docs := [][]int32{{0, 1, 1}, {2, 0}}
	z, counts := topics.InitShard(docs, 2, 3, 1)
	run := postgres.TopicRun{RunID: "r1", K: 2, Alpha: 0.5, Beta: 0.01, Vocab: []string{"a", "b", "c"}, Docs: 2, Tokens: 5, Shards: 1}
	shards := []postgres.TopicShard{
		{Shard: 0, ItemIDs: []string{"m1", "m2"}, ItemTypes: []string{"movie", "movie"}, Docs: docs, Z: z},
		{Shard: postgres.TopicHeldoutShard, Z: topics.Assignments{}},
	}
	if err := st.StartTopicRun(ctx, run, shards, []*topics.Counts{counts, nil}); err != nil {
		t.Fatal(err)
	}
	if vocab, err := st.RunVocab(ctx, "r1"); err != nil || len(vocab) != 3 {
		t.Fatalf("vocab %v %v", vocab, err)
	}
	sh, err := st.Shard(ctx, "r1", 0)
	if err != nil || sh.Iteration != 0 || len(sh.Docs) != 2 || len(sh.Z) != 2 || sh.ItemIDs[1] != "m2" {
		t.Fatalf("shard %+v %v", sh, err)
	}
	if held, err := st.Shard(ctx, "r1", postgres.TopicHeldoutShard); err != nil || len(held.Docs) != 0 {
		t.Fatalf("held-out shard %+v %v", held, err)
	}
	if _, err := st.Shard(ctx, "r1", 7); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("missing shard: %v, want ErrNotFound", err)
	}
	for it := 1; it <= 3; it++ {
		if ok, err := st.SaveSweep(ctx, "r1", 0, it, z, counts); err != nil || !ok {
			t.Fatalf("sweep %d: stored %v, %v", it, ok, err)
		}
	}
	if ok, err := st.SaveSweep(ctx, "r1", 0, 3, z, counts); err != nil || ok {
		t.Errorf("repeated sweep stored %v (%v), want nothing stored", ok, err)
	}
	if _, it, err := st.ShardAssignments(ctx, "r1", 0); err != nil || it != 3 {
		t.Errorf("shard at iteration %d (%v), want 3", it, err)
	}
	if n, err := st.CountShardCounts(ctx, "r1"); err != nil || n != 2 {
		t.Errorf("%d count rows kept, want 2 (iterations 2 and 3): %v", n, err)
	}
	if c, err := st.ShardCounts(ctx, "r1", 3); err != nil || len(c) != 1 || c[0].Counts.K != 2 {
		t.Errorf("counts of iteration 3: %+v %v", c, err)
	}

	m := postgres.TopicModel{Iterations: 3, Perplexity: 2.5,
		Topics: []postgres.FittedTopic{{Topic: 0, Tokens: 3, Words: []topics.WordWeight{{Word: "a", Weight: 0.6}}}, {Topic: 1, Tokens: 2}},
		Items: []postgres.ItemTopic{{ItemID: "m1", ItemType: "movie", Topic: 0, Weight: 0.7}, {ItemID: "m1", ItemType: "movie", Topic: 1, Weight: 0.3},
			{ItemID: "m2", ItemType: "movie", Topic: 0, Weight: 0.9}}}
	if err := st.SaveModel(ctx, "r1", m); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveModel(ctx, "r1", m); err != nil { // a retry replaces the model
		t.Fatal(err)
	}
	fitted, err := st.FittedTopics(ctx, "r1")
	if err != nil || len(fitted) != 2 || fitted[0].Items != 2 || fitted[1].Items != 0 || fitted[0].Words[0].Word != "a" {
		t.Fatalf("fitted %+v %v", fitted, err)
	}
	var members []string
	if err := st.TopicMembers(ctx, "r1", 1, func(it postgres.ItemTopic) error {
		members = append(members, it.ItemID)
		return nil
	}); err != nil || len(members) != 2 || members[0] != "m2" || members[1] != "m1" {
		t.Errorf("strongest member per topic %v %v, want [m2 m1]", members, err)
	}
	var mixes int
	if err := st.ItemMixes(ctx, "r1", func(postgres.ItemTopic) error { mixes++; return nil }); err != nil || mixes != 3 {
		t.Errorf("%d item topics %v, want 3", mixes, err)
	}
	if err := st.RecordShardRun(ctx, postgres.ShardRun{Job: "BuildTopics", Version: "r1/it0001", Attempt: 1, Worker: "w", Items: 2, StartedAt: time.Now()}); err != nil {
		t.Error(err)
	}
	if err := st.RecordModelVersion(ctx, "topics", "r1", 2); err != nil {
		t.Error(err)
	}

	// Starting the run again drops everything it held.
	if err := st.StartTopicRun(ctx, run, shards, []*topics.Counts{counts, nil}); err != nil {
		t.Fatal(err)
	}
	if fitted, err := st.FittedTopics(ctx, "r1"); err != nil || len(fitted) != 0 {
		t.Errorf("restarted run kept its model: %+v %v", fitted, err)
	}
	if n, err := st.CountShardCounts(ctx, "r1"); err != nil || n != 1 {
		t.Errorf("restarted run has %d count rows, want 1: %v", n, err)
	}
}

// TestTopicStoreSaveFitIsConditional: a one-shard fit's checkpoint applies only from the
// iteration it resumed from, and keeps only the latest counts.
func TestTopicStoreSaveFitIsConditional(t *testing.T) {
	ctx := context.Background()
	st := open(t).Topics()
	docs := [][]int32{{0, 1, 1}, {2, 0}}
	z, counts := topics.InitShard(docs, 2, 3, 1)
	run := postgres.TopicRun{RunID: "f1", K: 2, Alpha: 0.5, Beta: 0.01, Vocab: []string{"a", "b", "c"}, Docs: 2, Tokens: 5, Shards: 1}
	if err := st.StartTopicRun(ctx, run, []postgres.TopicShard{{Shard: 0, ItemIDs: []string{"m1", "m2"}, ItemTypes: []string{"movie", "movie"}, Docs: docs, Z: z}},
		[]*topics.Counts{counts}); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.SaveFit(ctx, "f1", 0, 0, 7, z, counts); err != nil || !ok {
		t.Fatalf("checkpoint 0 → 7: stored %v, %v", ok, err)
	}
	if ok, err := st.SaveFit(ctx, "f1", 0, 0, 9, z, counts); err != nil || ok {
		t.Errorf("stale checkpoint from 0 stored %v (%v), want nothing stored", ok, err)
	}
	if ok, err := st.SaveFit(ctx, "f1", 0, 7, 12, z, counts); err != nil || !ok {
		t.Fatalf("checkpoint 7 → 12: stored %v, %v", ok, err)
	}
	if _, it, err := st.ShardAssignments(ctx, "f1", 0); err != nil || it != 12 {
		t.Errorf("shard at iteration %d (%v), want 12", it, err)
	}
	if n, err := st.CountShardCounts(ctx, "f1"); err != nil || n != 1 {
		t.Errorf("%d count rows kept, want 1: %v", n, err)
	}
	if c, err := st.ShardCounts(ctx, "f1", 12); err != nil || len(c) != 1 {
		t.Errorf("counts of iteration 12: %+v %v", c, err)
	}
	if _, err := st.SaveFit(ctx, "f1", 0, 12, 12, z, counts); err == nil {
		t.Error("a checkpoint not after its start was accepted")
	}
}
