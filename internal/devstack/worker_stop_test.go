package devstack

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/workflows"
)

// importActivity is CatalogPipeline's demo import, the activity the worker's stop cuts.
const importActivity = "ImportDemoCatalog"

// importHeartbeatTimeout is the import's heartbeat timeout (workflows/catalog.go): how long
// Temporal waits before retrying an attempt whose result never reaches it.
const importHeartbeatTimeout = time.Minute

// TestWorkerStopsCleanly stops a `curio worker` with SIGTERM while CatalogPipeline imports a
// demo catalog too large to finish within a one-second grace, so the worker cuts the import.
// The worker must exit 0 within the grace (plus a little), log no error (the cut is expected,
// not an "Activity error."), and report the cut to Temporal before it exits, so a second
// worker runs the import again at once rather than after its one-minute heartbeat timeout.
func TestWorkerStopsCleanly(t *testing.T) {
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

	bin := filepath.Join(t.TempDir(), "curio")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/curio")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build curio: %v\n%s", err, out)
	}
	ts, err := temporaldev.Start(temporaldev.Options{LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the worker processes stop before the server.
	t.Cleanup(func() { _ = ts.Stop() })
	c, err := ts.Dial(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	const grace = time.Second
	queue := "worker-stop-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	env := []string{"CURIO_TEMPORAL_HOSTPORT=" + ts.HostPort(), "CURIO_TASK_QUEUE=" + queue, "CURIO_POSTGRES_DSN=" + pgDSN,
		"CURIO_MYSQL_DSN=" + myDSN, "CURIO_SHUTDOWN_GRACE=" + grace.String(), "CURIO_LOG_FORMAT=json", "CURIO_LOG_LEVEL=info",
		"CURIO_DATA_DIR=" + t.TempDir()}
	w1 := startLoggedWorker(t, bin, "w1", env)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "catalog-worker-stop", TaskQueue: queue},
		workflows.CatalogPipelineName, workflows.CatalogPipelineInput{
			Demo: catalogjob.ImportDemoInput{Movies: 300000, Artworks: 300000}})
	if err != nil {
		t.Fatal(err)
	}

	// SIGTERM once the import has written its first rows.
	first := waitImport(ctx, t, c, run, "the import to start", func(pa *workflowpb.PendingActivityInfo) bool {
		return pa != nil && pa.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED
	})
	for {
		var n int
		_ = pg.Pool().QueryRow(ctx, `SELECT count(*) FROM raw_records`).Scan(&n)
		if n > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the import wrote nothing")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mark := len(w1.out.Bytes())
	termAt := time.Now()
	if err := w1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	limit := grace + 10*time.Second
	select {
	case <-w1.exited:
		t.Logf("worker stopped in %s (grace %s)", time.Since(termAt).Round(time.Millisecond), grace)
		if w1.err != nil {
			t.Errorf("worker exited with %v after SIGTERM, want status 0", w1.err)
		}
	case <-time.After(limit):
		t.Fatalf("worker did not exit within %s of SIGTERM", limit)
	}
	exitAt := time.Now()
	out := w1.out.Bytes()
	if bad := errorLines(out); len(bad) > 0 {
		t.Errorf("worker printed %d error line(s):\n%s", len(bad), strings.Join(bad, "\n"))
	}
	if warns := levelLines(out[mark:], "warn"); len(warns) > 0 {
		t.Errorf("worker printed %d warning(s) while stopping:\n%s", len(warns), strings.Join(warns, "\n"))
	}
	t.Logf("worker output while stopping:\n%s", out[mark:])

	// The import was cut, not finished within the grace: it is still pending.
	desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if pendingImport(desc.GetPendingActivities()) == nil {
		t.Fatal("the import finished within the grace; make the demo catalog larger")
	}

	// A second worker runs the import again at once: the first reported the cut before it
	// exited, so Temporal does not wait for the import's heartbeat timeout.
	startLoggedWorker(t, bin, "w2", env)
	hbExpiry := first.GetLastStartedTime().AsTime()
	if hb := first.GetLastHeartbeatTime(); hb != nil && hb.AsTime().After(hbExpiry) {
		hbExpiry = hb.AsTime()
	}
	hbExpiry = hbExpiry.Add(importHeartbeatTimeout)
	rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
	defer rcancel()
	retry := waitImport(rctx, t, c, run, "the import's next attempt to start on the second worker", func(pa *workflowpb.PendingActivityInfo) bool {
		return pa == nil || pa.GetAttempt() > first.GetAttempt() && pa.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED
	})
	startedAt := time.Now()
	if retry != nil {
		startedAt = retry.GetLastStartedTime().AsTime()
		if retry.GetLastWorkerIdentity() != "w2" {
			t.Errorf("attempt %d runs on %q, want w2", retry.GetAttempt(), retry.GetLastWorkerIdentity())
		}
	}
	t.Logf("the import's next attempt started %s after the worker exited; its heartbeat timeout would have expired %s after",
		startedAt.Sub(exitAt).Round(time.Millisecond), hbExpiry.Sub(exitAt).Round(time.Millisecond))
	if !startedAt.Before(hbExpiry.Add(-importHeartbeatTimeout / 2)) {
		t.Errorf("the import's next attempt started at %s, not well before its heartbeat timeout (%s)", startedAt, hbExpiry)
	}
	if n := bytes.Count(out, []byte(`"level":"INFO","msg":"activity stopped with its worker`)); n != 1 {
		t.Errorf("the worker logged the cut %d times at info, want once", n)
	}
}

// pendingImport returns the import among a workflow's pending activities, or nil.
func pendingImport(pas []*workflowpb.PendingActivityInfo) *workflowpb.PendingActivityInfo {
	for _, pa := range pas {
		if pa.GetActivityType().GetName() == importActivity {
			return pa
		}
	}
	return nil
}

// waitImport polls the workflow's pending import (nil once it is no longer pending) until
// cond holds, and returns it; it fails the test when ctx ends first.
func waitImport(ctx context.Context, t *testing.T, c client.Client, run client.WorkflowRun, what string,
	cond func(*workflowpb.PendingActivityInfo) bool) *workflowpb.PendingActivityInfo {
	t.Helper()
	var last *workflowpb.PendingActivityInfo
	for {
		desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		if err == nil {
			last = pendingImport(desc.GetPendingActivities())
			if cond(last) {
				return last
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; the import: %v", what, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// loggedWorker is a `curio worker` process whose output the test reads.
type loggedWorker struct {
	cmd    *exec.Cmd
	out    syncBuffer    // stdout and stderr
	exited chan struct{} // closed when the process has exited; err is then set
	err    error
}

// startLoggedWorker starts `curio worker --identity id` with env added to the test's.
func startLoggedWorker(t *testing.T, bin, id string, env []string) *loggedWorker {
	t.Helper()
	w := &loggedWorker{exited: make(chan struct{})}
	w.cmd = exec.Command(bin, "worker", "--identity", id)
	w.cmd.Env = append(os.Environ(), env...)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.err = w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		<-w.exited
		if t.Failed() {
			b := w.out.Bytes()
			t.Logf("worker %s output (last 6000 bytes):\n%s", id, b[max(0, len(b)-6000):])
		}
	})
	return w
}
