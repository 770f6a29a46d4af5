package devstack

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/workflows"
)

// TestSimilarityShardsHeartbeatThroughLongPhases runs BuildSimilarity with a 3-second
// heartbeat timeout over a catalog whose loading and model build take longer than that
// (60,000 items: about 4 s here, without a heartbeat before this fix): every shard must keep
// its first attempt alive (no shard retried, none timed out). The timeout leaves room for a
// loaded CI machine: the SDK sends heartbeats at most every 80% of it.
func TestSimilarityShardsHeartbeatThroughLongPhases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	run, err := stack.RunCatalogPipeline(ctx, "heartbeat-catalog", workflows.CatalogPipelineInput{
		Demo: catalogjob.ImportDemoInput{Movies: 30000, Artworks: 30000, Seed: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	sr, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "heartbeat-similarity", TaskQueue: cfg.TaskQueue},
		workflows.BuildSimilarityName, workflows.BuildSimilarityInput{BatchOptions: workflows.BatchOptions{Shards: 2, HeartbeatTimeoutSeconds: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.BatchResult
	if err := sr.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("BuildSimilarity over %d items, 2 shards, 3 s heartbeat timeout: %s", res.Items, time.Since(started).Round(time.Millisecond))
	if res.Retried != 0 {
		t.Errorf("%d shards needed another attempt", res.Retried)
	}
	var attempts, maxAttempt int
	if err := stack.PG.Pool().QueryRow(ctx, `SELECT count(*), coalesce(max(attempt), 0) FROM batch_shard_runs WHERE job = $1 AND version = $2`,
		workflows.BuildSimilarityName, res.Version).Scan(&attempts, &maxAttempt); err != nil {
		t.Fatal(err)
	}
	if attempts != 2 || maxAttempt != 1 {
		t.Errorf("shard attempts recorded %d (highest attempt %d), want 2 first attempts", attempts, maxAttempt)
	}
}
