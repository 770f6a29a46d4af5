package similarity_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/similarity"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/teststores"
)

// TestSimilarityActivities runs BuildSimilarity's activities over the demo catalog: two
// shards, one run twice (a re-run replaces its rows), then the version is published.
func TestSimilarityActivities(t *testing.T) {
	ctx := context.Background()
	pg, my, dsn := teststores.Open(t)
	recs := teststores.LoadDemo(t, pg, 300, 200)
	a := &similarity.Activities{Store: pg.Similarity(), Catalog: pg, Publisher: my, Identity: "test-worker",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
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

	simParams, _ := json.Marshal(similarity.SimilarityParams{K: 5, Chunk: 50})
	items := 0
	for shard := range 2 {
		var res activities.BatchShardResult
		run(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "s1", Shard: shard, Shards: 2, Params: simParams}, &res)
		if res.Shard != shard || res.Worker != "test-worker" {
			t.Errorf("shard %d result %+v", shard, res)
		}
		items += res.Items
	}
	if items != 500 {
		t.Errorf("shards covered %d items, want 500", items)
	}
	run(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "s1", Shard: 1, Shards: 2, Params: simParams}, nil)
	var pub activities.ModelPublishResult
	run(a.PublishSimilarity, activities.ModelPublishInput{Version: "s1"}, &pub)
	if pub.Rows != 500 || pub.Model != published.SimilarName || pub.Version != "s1" {
		t.Errorf("published %+v, want one row per item (500)", pub)
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	var dup int
	_ = db.QueryRow(ctx, `SELECT count(*) FROM (SELECT item_id, rank FROM similar_items GROUP BY 1, 2 HAVING count(*) > 1) d`).Scan(&dup)
	var attempts int
	_ = db.QueryRow(ctx, `SELECT count(*) FROM batch_shard_runs WHERE job = 'BuildSimilarity'`).Scan(&attempts)
	if dup != 0 || attempts != 2 {
		t.Errorf("duplicates %d, shard run rows %d (a re-run of the same attempt replaces its row)", dup, attempts)
	}
	// The published rows are each item's neighbors, most similar first.
	var id string
	for _, r := range recs {
		if r.Movie != nil {
			id = r.Movie.ID
			break
		}
	}
	got, err := published.Similar.Get(ctx, my, id)
	if err != nil || len(got) == 0 || len(got) > 5 {
		t.Fatalf("published neighbors of %s: %v, %v", id, got, err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Score > got[i-1].Score {
			t.Errorf("neighbors of %s not by score: %+v", id, got)
		}
	}
}

// TestSimilarityShardRejectsBadInput checks that a shard outside the version fails
// without retries.
func TestSimilarityShardRejectsBadInput(t *testing.T) {
	a := &similarity.Activities{}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	_, err := env.ExecuteActivity(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "s1", Shard: 2, Shards: 2})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeBadInput || !appErr.NonRetryable() {
		t.Fatalf("shard 2 of 2: want a non-retryable bad input error, got %v", err)
	}
}

// TestPreparedModelGivesTheSameNeighbors builds the model once (PrepareSimilarity) and
// checks that shards reading it write exactly what shards building their own write, that
// publishing drops the stored model, and that a shard without a model fails for good.
func TestPreparedModelGivesTheSameNeighbors(t *testing.T) {
	ctx := context.Background()
	pg, my, dsn := teststores.Open(t)
	teststores.LoadDemo(t, pg, 300, 200)
	a := &similarity.Activities{Store: pg.Similarity(), Catalog: pg, Publisher: my, Identity: "test-worker",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	run := func(fn any, in any, out any) error {
		t.Helper()
		v, err := env.ExecuteActivity(fn, in)
		if err == nil && out != nil {
			err = v.Get(out)
		}
		return err
	}
	var prep similarity.PrepareResult
	if err := run(a.PrepareSimilarity, similarity.PrepareInput{Version: "p1"}, &prep); err != nil {
		t.Fatal(err)
	}
	if prep.Items != 500 || prep.Parts != 1 || prep.Bytes == 0 {
		t.Errorf("prepared %+v", prep)
	}
	own, _ := json.Marshal(similarity.SimilarityParams{K: 5, Chunk: 50})
	read, _ := json.Marshal(similarity.SimilarityParams{K: 5, Chunk: 50, Prepared: true})
	for shard := range 3 {
		if err := run(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "o1", Shard: shard, Shards: 3, Params: own}, nil); err != nil {
			t.Fatal(err)
		}
		if err := run(a.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "p1", Shard: shard, Shards: 3, Params: read}, nil); err != nil {
			t.Fatal(err)
		}
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	var rows, differ int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE version = 'p1'),
		(SELECT count(*) FROM ((SELECT item_id, rank, neighbor_id, score FROM similar_items WHERE version = 'o1')
			EXCEPT (SELECT item_id, rank, neighbor_id, score FROM similar_items WHERE version = 'p1')) d)
		FROM similar_items`).Scan(&rows, &differ); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || differ != 0 {
		t.Fatalf("prepared version has %d rows, %d differ from the shards' own models", rows, differ)
	}
	if err := run(a.PublishSimilarity, activities.ModelPublishInput{Version: "p1"}, nil); err != nil {
		t.Fatal(err)
	}
	var left int
	_ = db.QueryRow(ctx, `SELECT count(*) FROM similarity_models`).Scan(&left)
	if left != 0 {
		t.Errorf("%d model parts left after publishing", left)
	}
	// A worker that has not cached the model (this one keeps it a while for the version's
	// next shards) finds none stored.
	fresh := &similarity.Activities{Store: pg.Similarity(), Catalog: pg, Publisher: my, Identity: "other-worker",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	env.RegisterActivity(fresh)
	_, err = env.ExecuteActivity(fresh.SimilarityShard, activities.BatchShardInput{Job: "BuildSimilarity", Version: "p1", Shard: 0, Shards: 3, Params: read})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("shard of a version without a model: want a non-retryable error, got %v", err)
	}
}
