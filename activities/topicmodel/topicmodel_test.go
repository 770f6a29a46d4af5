package topicmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/topicmodel"
	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/teststores"
)

// setup builds the topic activities on fresh PostgreSQL and MySQL databases, and a test
// activity environment with them registered.
func setup(t *testing.T) (*topicmodel.Activities, *postgres.Store, *mysql.Store, *testsuite.TestActivityEnvironment) {
	t.Helper()
	pg, my, _ := teststores.Open(t)
	a := &topicmodel.Activities{Store: pg.Topics(), Catalog: pg, Publisher: my, Identity: "test-worker",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, pg, my, env
}

// TestTopicActivitiesRoundsAreBarriersAndIdempotent runs the topic activities by hand on
// real PostgreSQL and MySQL: a sweep cannot run ahead of a shard still in the previous
// round, a repeated sweep changes nothing, and the fitted model is published.
func TestTopicActivitiesRoundsAreBarriersAndIdempotent(t *testing.T) {
	acts, pg, my, env := setup(t)
	ctx := context.Background()
	if err := demo.Batches(demo.Options{Movies: 150, Artworks: 150, Seed: 4}, 500, func(b []domain.Record) error {
		_, err := pg.WriteRecords(ctx, "test", b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p := topicmodel.TopicsParams{RunID: "run-1", K: 4, Shards: 2, Heldout: 0.1, Seed: 1, Sweeps: 1, TopWords: 8, MaxItemTopics: 3}
	val, err := env.ExecuteActivity(acts.PrepareTopics, p)
	if err != nil {
		t.Fatal(err)
	}
	var plan topicmodel.TopicsPlan
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
		a, _, err := pg.Topics().ShardAssignments(ctx, "run-1", shard)
		if err != nil {
			t.Fatal(err)
		}
		b, err := a.MarshalBinary()
		if err != nil {
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
	if kept, err := pg.Topics().CountShardCounts(ctx, "run-1"); err != nil || kept != 4 {
		t.Errorf("%d shard count rows kept, want 4 (rounds 3 and 4 of 2 shards): %v", kept, err)
	}
	p.Iteration = 4
	val, err = env.ExecuteActivity(acts.FinishTopics, p)
	if err != nil {
		t.Fatal(err)
	}
	var q topicmodel.TopicsQuality
	if err := val.Get(&q); err != nil || q.Items != int64(plan.Docs+plan.Heldout) || q.Perplexity <= 0 || q.Perplexity >= q.UniformPPL {
		t.Fatalf("quality %+v %v", q, err)
	}
	if _, err := env.ExecuteActivity(acts.PublishTopics, activities.ModelPublishInput{Version: "run-1"}); err != nil {
		t.Fatal(err)
	}
	rows, err := my.TopModelRows(ctx, topicmodel.ModelTopics, 10)
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
	errFound := errors.New("found")
	var item string
	if err := pg.Topics().ItemMixes(ctx, "run-1", func(it postgres.ItemTopic) error {
		item = it.ItemID
		return errFound
	}); !errors.Is(err, errFound) || item == "" {
		t.Fatalf("no item topics: %v", err)
	}
	if _, err := my.ModelRow(ctx, topicmodel.ModelItemTopics, item); err != nil {
		t.Errorf("item %s has no published topic mix: %v", item, err)
	}
	if _, err := my.ModelRow(ctx, topicmodel.ModelTopicItems, "0"); err != nil {
		t.Errorf("topic 0 has no published items: %v", err)
	}
}

// TestPrepareTopicsRejectsBadInput: a bad fit fails without retrying.
func TestPrepareTopicsRejectsBadInput(t *testing.T) {
	acts, _, _, env := setup(t)
	_, err := env.ExecuteActivity(acts.PrepareTopics, topicmodel.TopicsParams{RunID: "r", K: 1, Shards: 1})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != activities.ErrTypeBadInput || !strings.Contains(err.Error(), "2 to 1000 topics") {
		t.Fatalf("want a non-retryable bad-input error, got %v", err)
	}
}

// TestPlanTopicsBySize: small corpora fit in one activity, larger ones get only the
// shards their sampling justifies, and explicit shards are obeyed.
func TestPlanTopicsBySize(t *testing.T) {
	for _, c := range []struct {
		tokens      int64
		k, shards   int
		bySize      bool
		mode        string
		want        int
		minSec      float64
		wantInWords string
	}{
		{tokens: 300_000, k: 20, shards: 3, bySize: true, mode: topicmodel.PlanSingle, want: 1, wantInWords: "one activity"},
		// 10M tokens × 20 topics × 5 ns = 1 s: not even one shard's worth.
		{tokens: 10_000_000, k: 20, shards: 3, bySize: true, mode: topicmodel.PlanSingle, want: 1, minSec: 0.99},
		// 80M tokens: 8 s, two shards of 4 s.
		{tokens: 80_000_000, k: 20, shards: 3, bySize: true, mode: topicmodel.PlanSharded, want: 2, minSec: 7.9},
		{tokens: 1_000_000_000, k: 20, shards: 3, bySize: true, mode: topicmodel.PlanSharded, want: 3, wantInWords: "at most 3"},
		{tokens: 1_000_000_000, k: 20, shards: 1, bySize: true, mode: topicmodel.PlanSingle, want: 1},
		{tokens: 300_000, k: 20, shards: 4, bySize: false, mode: topicmodel.PlanSharded, want: 4, wantInWords: "as requested"},
	} {
		mode, n, sec, reason := topicmodel.PlanTopics(c.tokens, c.k, 1, c.shards, c.bySize)
		if mode != c.mode || n != c.want || sec < c.minSec || reason == "" || !strings.Contains(reason, c.wantInWords) {
			t.Errorf("%+v: got %s %d %.2f s %q", c, mode, n, sec, reason)
		}
	}
}

// TestTopicsFitMatchesOneShardAndResumes: the single-activity fit samples exactly what one
// shard swept round by round would, resumes from its stored state, and FinishTopics and
// PublishTopics work on it unchanged.
func TestTopicsFitMatchesOneShardAndResumes(t *testing.T) {
	acts, pg, my, env := setup(t)
	ctx := context.Background()
	if err := demo.Batches(demo.Options{Movies: 100, Artworks: 100, Seed: 5}, 500, func(b []domain.Record) error {
		_, err := pg.WriteRecords(ctx, "test", b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	prepare := func(run string, p topicmodel.TopicsParams) topicmodel.TopicsPlan {
		p.RunID = run
		val, err := env.ExecuteActivity(acts.PrepareTopics, p)
		if err != nil {
			t.Fatal(err)
		}
		var plan topicmodel.TopicsPlan
		if err := val.Get(&plan); err != nil {
			t.Fatal(err)
		}
		return plan
	}
	z := func(run string) (string, int) {
		a, it, err := pg.Topics().ShardAssignments(ctx, run, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := a.MarshalBinary()
		return string(b), it
	}
	base := topicmodel.TopicsParams{K: 4, Shards: 3, Heldout: 0.1, Seed: 3, Sweeps: 1, TopWords: 8, MaxItemTopics: 3}
	single := base
	single.PlanBySize = true
	if plan := prepare("single", single); plan.Mode != topicmodel.PlanSingle || plan.Shards != 1 || plan.Reason == "" || plan.RoundSeconds <= 0 {
		t.Fatalf("small corpus planned %+v, want one activity", plan)
	}
	single.RunID, single.Shards, single.Iteration = "single", 1, 4
	if _, err := env.ExecuteActivity(acts.TopicsFit, single); err != nil {
		t.Fatal(err)
	}
	// The same fit as one shard swept round by round.
	sharded := base
	sharded.Shards = 1
	if plan := prepare("sharded", sharded); plan.Mode != topicmodel.PlanSharded || plan.Shards != 1 {
		t.Fatalf("explicit shards planned %+v", plan)
	}
	sharded.RunID = "sharded"
	for round := 1; round <= 4; round++ {
		q := sharded
		q.Iteration = round
		raw, _ := json.Marshal(q)
		if _, err := env.ExecuteActivity(acts.TopicsSweep, activities.BatchShardInput{Job: "BuildTopics", Version: "sharded/it", Shard: 0, Shards: 1, Params: raw}); err != nil {
			t.Fatal(err)
		}
	}
	// Two attempts: the second resumes from the first's stored state.
	resumed := single
	prepare("resumed", topicmodel.TopicsParams{K: 4, Shards: 3, Heldout: 0.1, Seed: 3, Sweeps: 1, PlanBySize: true})
	resumed.RunID, resumed.Iteration = "resumed", 2
	if _, err := env.ExecuteActivity(acts.TopicsFit, resumed); err != nil {
		t.Fatal(err)
	}
	resumed.Iteration = 4
	val, err := env.ExecuteActivity(acts.TopicsFit, resumed)
	if err != nil {
		t.Fatal(err)
	}
	var fit topicmodel.TopicsFitResult
	if err := val.Get(&fit); err != nil || fit.From != 2 || fit.Iteration != 4 {
		t.Errorf("resumed fit %+v %v, want from 2 to 4", fit, err)
	}
	zs, its := z("single")
	zh, ith := z("sharded")
	zr, itr := z("resumed")
	if its != 4 || ith != 4 || itr != 4 || zs != zh || zs != zr {
		t.Fatalf("single fit (iteration %d), one shard swept (%d) and resumed fit (%d) differ", its, ith, itr)
	}
	// Run again to its end: nothing to do.
	if _, err := env.ExecuteActivity(acts.TopicsFit, single); err != nil {
		t.Fatal(err)
	}
	val, err = env.ExecuteActivity(acts.FinishTopics, single)
	if err != nil {
		t.Fatal(err)
	}
	var q topicmodel.TopicsQuality
	if err := val.Get(&q); err != nil || q.Perplexity <= 0 || q.Items != 200 {
		t.Fatalf("quality %+v %v", q, err)
	}
	if _, err := env.ExecuteActivity(acts.PublishTopics, activities.ModelPublishInput{Version: "single"}); err != nil {
		t.Fatal(err)
	}
	if rows, err := my.TopModelRows(ctx, topicmodel.ModelTopics, 10); err != nil || len(rows) != 4 {
		t.Fatalf("published topics %d %v", len(rows), err)
	}
}
