package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/pipeline"
)

// poolJobInput is the input of the pool test jobs: how long their one activity works.
type poolJobInput struct {
	WorkMS int `json:"work_ms"`
}

// interval is when one run's activity worked.
type interval struct{ start, end time.Time }

// poolRecorder is the pool test jobs' activity: it records when each run worked.
type poolRecorder struct {
	mu   sync.Mutex
	runs map[string]interval // by workflow id
}

// PoolTestWork works for in.WorkMS, heartbeating so that a terminated run's activity
// stops, and records its interval under the run's workflow id.
func (r *poolRecorder) PoolTestWork(ctx context.Context, in poolJobInput) error {
	id := activity.GetInfo(ctx).WorkflowExecution.ID
	iv := interval{start: time.Now()}
	r.set(id, iv)
	done := time.After(time.Duration(in.WorkMS) * time.Millisecond)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			iv.end = time.Now()
			r.set(id, iv)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			activity.RecordHeartbeat(ctx)
		}
	}
}

func (r *poolRecorder) set(id string, iv interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs[id] = iv
}

func (r *poolRecorder) get(id string) (interval, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	iv, ok := r.runs[id]
	return iv, ok
}

func poolJobWorkflow(ctx workflow.Context, in *poolJobInput) error {
	var r *poolRecorder
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute, HeartbeatTimeout: 2 * time.Second})
	return workflow.ExecuteActivity(ctx, r.PoolTestWork, in).Get(ctx, nil)
}

// poolJobs are two jobs sharing the pool "serial" of 1, one in the pool "pair" of 2 and
// one without pools; with pools nil they all have none.
func poolJobs(rec *poolRecorder, withPools bool) []pipeline.Job {
	job := func(name string, ps ...pipeline.Pool) pipeline.Job {
		if !withPools {
			ps = nil
		}
		return pipeline.Job{Name: name, Workflow: poolJobWorkflow, Input: func() any { return &poolJobInput{WorkMS: 1500} }, Pools: ps}
	}
	jobs := []pipeline.Job{
		job("PoolTestA", pipeline.Pool{Name: "serial", Limit: 1}),
		job("PoolTestB", pipeline.Pool{Name: "serial", Limit: 1}),
		job("PoolTestPair", pipeline.Pool{Name: "pair", Limit: 2}),
		job("PoolTestFree"),
	}
	jobs[0].Activities = func(pipeline.Resources) []any { return []any{rec} }
	return jobs
}

// TestPools runs user jobs that share concurrency pools on the embedded stack: two jobs
// in a pool of 1 run one after the other, three runs in a pool of 2 at most two at once,
// a run waiting behind a terminated holder gets the slot, and recorded histories replay
// whatever the jobs' pools are now.
func TestPools(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec := &poolRecorder{runs: map[string]interval{}}
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true, Jobs: poolJobs(rec, true)})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	start := func(t *testing.T, id, job string, in poolJobInput) client.WorkflowRun {
		t.Helper()
		run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, job, in)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	wait := func(t *testing.T, runs ...client.WorkflowRun) {
		t.Helper()
		for _, r := range runs {
			if err := r.Get(ctx, nil); err != nil {
				t.Fatalf("%s: %v", r.GetID(), err)
			}
		}
	}
	// waitFor polls until cond holds, for up to 30 s.
	waitFor := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
		}
	}
	usage := func(t *testing.T, pool string) (held, waiting int) {
		t.Helper()
		var got struct {
			Pools []pools.Usage `json:"pools"`
		}
		getJSON(t, stack.APIURL+"/api/pools", http.StatusOK, &got)
		for _, u := range got.Pools {
			if u.Pool == pool {
				return len(u.Holders), len(u.Waiting)
			}
		}
		t.Fatalf("GET /api/pools lacks %s: %+v", pool, got.Pools)
		return 0, 0
	}

	var serialA, serialB client.WorkflowRun
	t.Run("a pool of 1 serializes two jobs", func(t *testing.T) {
		serialA = start(t, "pools-serial-a", "PoolTestA", poolJobInput{WorkMS: 1500})
		serialB = start(t, "pools-serial-b", "PoolTestB", poolJobInput{WorkMS: 1500})
		// The run that waits says why, where the Temporal UI shows it: the acquire
		// activity's last failure names the pool, its limit and the holder.
		waitFor(t, "a run waits for the pool, saying who holds it", func() bool {
			for _, r := range []client.WorkflowRun{serialA, serialB} {
				d, err := stack.Temporal.DescribeWorkflowExecution(ctx, r.GetID(), r.GetRunID())
				if err != nil {
					t.Fatal(err)
				}
				for _, pa := range d.GetPendingActivities() {
					msg := pa.GetLastFailure().GetMessage()
					if pa.GetActivityType().GetName() == "AcquirePoolSlots" && strings.Contains(msg, "pool serial (limit 1): held by PoolTest") {
						t.Logf("%s waits: %s", r.GetID(), msg)
						return true
					}
				}
			}
			return false
		})
		if held, waiting := usage(t, "serial"); held != 1 || waiting != 1 {
			t.Errorf("GET /api/pools: serial held by %d, waited for by %d; want 1 and 1", held, waiting)
		}
		wait(t, serialA, serialB)
		a, _ := rec.get(serialA.GetID())
		b, _ := rec.get(serialB.GetID())
		if a.end.IsZero() || b.end.IsZero() {
			t.Fatalf("a job did not work: %+v %+v", a, b)
		}
		if a.start.Before(b.end) && b.start.Before(a.end) {
			t.Errorf("the jobs overlapped: A %s–%s, B %s–%s", a.start.Format(time.StampMilli), a.end.Format(time.StampMilli),
				b.start.Format(time.StampMilli), b.end.Format(time.StampMilli))
		}
		if held, waiting := usage(t, "serial"); held != 0 || waiting != 0 {
			t.Errorf("after both ended, serial is held by %d and waited for by %d", held, waiting)
		}
	})

	t.Run("a pool of 2 runs at most two at once", func(t *testing.T) {
		var runs []client.WorkflowRun
		for i := range 3 {
			runs = append(runs, start(t, fmt.Sprintf("pools-pair-%d", i), "PoolTestPair", poolJobInput{WorkMS: 1500}))
		}
		wait(t, runs...)
		var ivs []interval
		for _, r := range runs {
			iv, _ := rec.get(r.GetID())
			if iv.end.IsZero() {
				t.Fatalf("%s did not work", r.GetID())
			}
			ivs = append(ivs, iv)
		}
		if n := mostOverlapping(ivs); n != 2 {
			t.Errorf("%d runs of the pool of 2 worked at once, want 2", n)
		}
	})

	t.Run("a terminated holder's slot is reclaimed", func(t *testing.T) {
		stuck := start(t, "pools-stuck", "PoolTestA", poolJobInput{WorkMS: 120_000})
		waitFor(t, "the stuck run works", func() bool { _, ok := rec.get(stuck.GetID()); return ok })
		next := start(t, "pools-next", "PoolTestB", poolJobInput{WorkMS: 100})
		waitFor(t, "the next run waits", func() bool { _, waiting := usage(t, "serial"); return waiting == 1 })
		if err := stack.Temporal.TerminateWorkflow(ctx, stuck.GetID(), stuck.GetRunID(), "test: a holder that dies without releasing"); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		if err := next.Get(wctx, nil); err != nil {
			t.Fatalf("the run behind the terminated holder: %v", err)
		}
		if held, waiting := usage(t, "serial"); held != 0 || waiting != 0 {
			t.Errorf("serial is held by %d and waited for by %d, want none", held, waiting)
		}
	})

	t.Run("histories replay", func(t *testing.T) {
		free := start(t, "pools-free", "PoolTestFree", poolJobInput{WorkMS: 10})
		wait(t, free)
		replayLog := sdklog.NewStructuredLogger(logger)
		hist := func(r client.WorkflowRun) *historypb.History {
			h := &historypb.History{}
			it := stack.Temporal.GetWorkflowHistory(ctx, r.GetID(), r.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				e, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				h.Events = append(h.Events, e)
			}
			return h
		}
		// With the pools as they were, with none (a run keeps the pools it started
		// with), and, for the run without pools, with pools added since.
		for _, withPools := range []bool{true, false} {
			defs, err := pipeline.New(poolJobs(rec, withPools)...)
			if err != nil {
				t.Fatal(err)
			}
			rp, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				Interceptors: []interceptor.WorkerInterceptor{pools.NewInterceptor(defs)}})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range defs.Jobs() {
				rp.RegisterWorkflowWithOptions(j.Workflow, workflow.RegisterOptions{Name: j.Name})
			}
			for _, r := range []client.WorkflowRun{serialA, serialB, free} {
				if r == nil {
					t.Fatal("an earlier step did not run")
				}
				h := hist(r)
				if err := rp.ReplayWorkflowHistory(replayLog, h); err != nil {
					t.Errorf("replay %s with pools %v: %v", r.GetID(), withPools, err)
				}
				if r == free && slices.ContainsFunc(h.Events, func(e *historypb.HistoryEvent) bool {
					return e.GetEventType() == enums.EVENT_TYPE_MARKER_RECORDED
				}) {
					t.Errorf("the run of a job without pools recorded a marker")
				}
			}
		}
		// A run of a job that has been given pools since replays without them.
		later := poolJobs(rec, true)
		later[3].Pools = []pipeline.Pool{{Name: "serial", Limit: 1}}
		defs, err := pipeline.New(later...)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
			Interceptors: []interceptor.WorkerInterceptor{pools.NewInterceptor(defs)}})
		if err != nil {
			t.Fatal(err)
		}
		rp.RegisterWorkflowWithOptions(poolJobWorkflow, workflow.RegisterOptions{Name: "PoolTestFree"})
		if err := rp.ReplayWorkflowHistory(replayLog, hist(free)); err != nil {
			t.Errorf("replay a run of a job given pools since: %v", err)
		}
	})
}

// mostOverlapping is the most intervals that overlap at one time.
func mostOverlapping(ivs []interval) int {
	most := 0
	for _, a := range ivs {
		n := 0
		for _, b := range ivs {
			if !b.start.After(a.start) && b.end.After(a.start) {
				n++ // b is working when a starts
			}
		}
		most = max(most, n)
	}
	return most
}
