package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/workflows"
)

// workerProc is one `curio worker` OS process.
type workerProc struct {
	id   string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited; err is then its exit error
	err  error
}

func startWorker(t *testing.T, bin, id string, env []string) *workerProc {
	t.Helper()
	cmd := exec.Command(bin, "worker", "--identity", id)
	cmd.Env = append(os.Environ(), env...)
	logPath := filepath.Join(t.TempDir(), id+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{id: id, cmd: cmd, done: make(chan struct{})}
	go func() { w.err = cmd.Wait(); logf.Close(); close(w.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("worker %s log (last 3000 bytes):\n%s", id, b[max(0, len(b)-3000):])
		}
	})
	return w
}

// similarityDigest hashes a version's similar_items, so two runs can be compared exactly.
func similarityDigest(t *testing.T, pg *postgres.Store, version string) (string, int) {
	t.Helper()
	rows, err := pg.Pool().Query(context.Background(), `SELECT item_id, rank, neighbor_id, score FROM similar_items
		WHERE version = $1 ORDER BY item_id, rank`, version)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var item, nbr string
		var rank int
		var score float64
		if err := rows.Scan(&item, &rank, &nbr, &score); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s|%d|%s|%.12f\n", item, rank, nbr, score)
		n++
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// TestBatchSurvivesWorkerLoss runs BuildSimilarity on three real `curio worker` processes
// against the embedded Temporal server, kills one with SIGKILL mid-batch once all three
// have done shards, stops another with SIGTERM (it must drain its shard and exit cleanly),
// and checks the output is identical to a clean single-worker run.
func TestBatchSurvivesWorkerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the curio binary and runs worker processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	pgDSN, myDSN := testdb.Postgres(t), testdb.MySQL(t)
	pg, err := postgres.Open(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	my, err := mysql.Open(ctx, myDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer my.Close()
	if _, err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := my.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	err = demo.Batches(demo.Options{Movies: 2500, Artworks: 2500, Seed: 3}, 2000, func(b []domain.Record) error {
		_, err := pg.WriteRecords(ctx, "test", b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "curio")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/curio")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build curio: %v\n%s", err, out)
	}
	ts, err := temporaldev.Start(temporaldev.Options{LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: worker processes (registered later) stop before the
	// server, which otherwise waits on their open long polls.
	t.Cleanup(func() { _ = ts.Stop() })
	c, err := ts.Dial(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	queue := "worker-loss-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	env := []string{"CURIO_TEMPORAL_HOSTPORT=" + ts.HostPort(), "CURIO_TASK_QUEUE=" + queue, "CURIO_POSTGRES_DSN=" + pgDSN,
		"CURIO_MYSQL_DSN=" + myDSN, "CURIO_WORKER_ACTIVITIES=1", "CURIO_SHUTDOWN_GRACE=60s", "CURIO_LOG_LEVEL=warn",
		"CURIO_DATA_DIR=" + t.TempDir()}
	in := workflows.BuildSimilarityInput{BatchOptions: workflows.BatchOptions{Shards: 30, MaxParallel: 3, HeartbeatTimeoutSeconds: 5}}
	run := func(id string) client.WorkflowRun {
		r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflows.BuildSimilarityName, in)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// A clean run on one worker is the reference.
	solo := startWorker(t, bin, "solo", env)
	r := run("similarity-clean")
	var clean workflows.BatchResult
	if err := r.Get(ctx, &clean); err != nil {
		t.Fatal(err)
	}
	_ = solo.cmd.Process.Signal(syscall.SIGTERM)
	<-solo.done
	want, rows := similarityDigest(t, pg, clean.Version)
	if rows == 0 || clean.Items != 5000 {
		t.Fatalf("clean run: %d rows, result %+v", rows, clean)
	}

	ws := []*workerProc{startWorker(t, bin, "w1", env), startWorker(t, bin, "w2", env), startWorker(t, bin, "w3", env)}
	r = run("similarity-with-loss")
	// Wait until every worker has finished at least one shard, with shards still to go.
	var version string
	for {
		if ctx.Err() != nil {
			t.Fatal("workers never all did shards")
		}
		var per map[string]int
		per, version = shardsByWorker(t, pg, clean.Version)
		done := per["w1"] + per["w2"] + per["w3"]
		if per["w1"] > 0 && per["w2"] > 0 && per["w3"] > 0 {
			if done >= in.Shards-6 {
				t.Fatalf("batch nearly finished (%d/%d) before the kill; make shards heavier", done, in.Shards)
			}
			t.Logf("before the kill: %v", per)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = ws[0].cmd.Process.Kill() // SIGKILL: its in-flight shard is lost and must be retried elsewhere
	<-ws[0].done
	termAt := time.Now()
	_ = ws[1].cmd.Process.Signal(syscall.SIGTERM) // graceful: drains its in-flight shard
	select {
	case <-ws[1].done:
		if ws[1].err != nil {
			t.Errorf("worker stopped with SIGTERM exited with %v, want a clean exit", ws[1].err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("SIGTERM'd worker did not exit")
	}
	var drained int
	_ = pg.Pool().QueryRow(ctx, `SELECT count(*) FROM batch_shard_runs WHERE version = $1 AND worker = 'w2' AND finished_at >= $2`,
		version, termAt).Scan(&drained)
	t.Logf("w2 finished %d shard(s) after SIGTERM", drained)

	var lossy workflows.BatchResult
	if err := r.Get(ctx, &lossy); err != nil {
		t.Fatal(err)
	}
	got, n := similarityDigest(t, pg, lossy.Version)
	if got != want || n != rows {
		t.Fatalf("output after worker loss differs from the clean run: %d rows (digest %s), want %d (%s)", n, got, rows, want)
	}
	if lossy.ShardsByWorker["w3"] == 0 || lossy.Items != clean.Items {
		t.Errorf("result %+v", lossy)
	}
	t.Logf("with loss: %+v (retried shards: %d)", lossy.ShardsByWorker, lossy.Retried)
}

// shardsByWorker counts finished shards per worker of the newest BuildSimilarity version
// other than exclude.
func shardsByWorker(t *testing.T, pg *postgres.Store, exclude string) (map[string]int, string) {
	t.Helper()
	per := map[string]int{}
	var version string
	_ = pg.Pool().QueryRow(context.Background(), `SELECT coalesce(max(version), '') FROM batch_shard_runs WHERE job = $1 AND version <> $2`,
		workflows.BuildSimilarityName, exclude).Scan(&version)
	rows, err := pg.Pool().Query(context.Background(), `SELECT worker, count(*) FROM batch_shard_runs WHERE version = $1 GROUP BY worker`, version)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var w string
		var n int
		_ = rows.Scan(&w, &n)
		per[w] = n
	}
	return per, version
}
