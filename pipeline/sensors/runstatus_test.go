package sensors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// runLog is an in-memory record of closed runs, as Temporal's visibility lists them.
type runLog struct {
	mu   sync.Mutex
	runs []pipeline.RunInfo
}

var _ pipeline.RunLister = (*runLog)(nil)

func (l *runLog) add(runs ...pipeline.RunInfo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, runs...)
}

func (l *runLog) ClosedRuns(_ context.Context, job string, since time.Time, limit int) ([]pipeline.RunInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []pipeline.RunInfo
	for _, r := range l.runs {
		if r.Job == job && r.ClosedAt.After(since) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b pipeline.RunInfo) int { return a.ClosedAt.Compare(b.ClosedAt) })
	return out[:min(limit, len(out))], nil
}

func run(job, id, status string, closed time.Time) pipeline.RunInfo {
	return pipeline.RunInfo{Job: job, WorkflowID: job + "-" + id, RunID: "r" + id, Status: status, ClosedAt: closed}
}

func TestRunStatus(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	log := &runLog{}
	s := RunStatus("etl-failed", "etl", nil, func(r pipeline.RunInfo) any { return map[string]string{"failed": r.WorkflowID} })
	if s.Interval != 15*time.Second || s.Description != "runs of etl that end Failed or TimedOut" {
		t.Errorf("defaults: interval %s, description %q", s.Interval, s.Description)
	}
	log.add(run("etl", "0", pipeline.RunFailed, t0.Add(-time.Minute))) // before the sensor

	var cursor string
	t.Run("first evaluation starts now", func(t *testing.T) {
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, pipeline.SensorEnv{Runs: log, Now: t0}, "")
		if len(res.Runs) != 0 || !strings.Contains(res.Skip, "watching runs of etl") {
			t.Fatalf("runs %v, skip %q", keys(res), res.Skip)
		}
	})

	env := pipeline.SensorEnv{Runs: log, Now: t0.Add(time.Hour)}
	t.Run("only failed runs after the cursor", func(t *testing.T) {
		log.add(
			run("etl", "1", pipeline.RunCompleted, t0.Add(1*time.Second)),
			run("etl", "2", pipeline.RunFailed, t0.Add(2*time.Second)),
			run("etl", "3", pipeline.RunTerminated, t0.Add(3*time.Second)),
			run("etl", "4", pipeline.RunTimedOut, t0.Add(4*time.Second)),
			run("other", "5", pipeline.RunFailed, t0.Add(5*time.Second)),
		)
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, cursor)
		if got := fmt.Sprint(keys(res)); got != "[etl-2/r2 etl-4/r4]" {
			t.Fatalf("keys %s, want the failed and the timed-out run of etl", got)
		}
		if in := res.Runs[0].Input.(map[string]string); in["failed"] != "etl-2" {
			t.Errorf("input %v", in)
		}
		if !strings.Contains(res.Runs[0].Reason, "Failed") {
			t.Errorf("reason %q", res.Runs[0].Reason)
		}
	})

	t.Run("nothing new with the cursor", func(t *testing.T) {
		res, _ := evaluate(t, s, env, cursor)
		if len(res.Runs) != 0 || res.Skip == "" {
			t.Fatalf("runs %v, skip %q", keys(res), res.Skip)
		}
	})

	t.Run("a run listed late inside the overlap", func(t *testing.T) {
		log.add(run("etl", "6", pipeline.RunFailed, t0.Add(10*time.Second)))
		res, next := evaluate(t, s, env, cursor)
		if got := fmt.Sprint(keys(res)); got != "[etl-6/r6]" {
			t.Fatalf("keys %s, want etl-6", got)
		}
		cursor = next
		log.add(run("etl", "7", pipeline.RunFailed, t0.Add(8*time.Second))) // closed earlier, listed later
		res, cursor = evaluate(t, s, env, cursor)
		if got := fmt.Sprint(keys(res)); got != "[etl-7/r7]" {
			t.Fatalf("keys %s, want the late run only", got)
		}
	})
}

// TestRunStatusBurst: more closed runs than one evaluation reads are taken over the
// following evaluations, each once.
func TestRunStatusBurst(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	log := &runLog{}
	s := RunStatus("any-end", "etl", []string{pipeline.RunFailed, pipeline.RunCompleted}, nil)
	_, cursor := evaluate(t, s, pipeline.SensorEnv{Runs: log, Now: t0}, "")
	const n = 250
	for i := range n {
		log.add(run("etl", fmt.Sprint(i), pipeline.RunCompleted, t0.Add(time.Duration(i+1)*100*time.Millisecond)))
	}
	env := pipeline.SensorEnv{Runs: log, Now: t0.Add(time.Hour)}
	seen := map[string]bool{}
	for eval := 0; eval < 5; eval++ {
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, cursor)
		for _, r := range res.Runs {
			if seen[r.Key] {
				t.Errorf("evaluation %d: %s requested again", eval, r.Key)
			}
			seen[r.Key] = true
		}
	}
	if len(seen) != n {
		t.Errorf("%d runs requested, want %d", len(seen), n)
	}
}

func TestRunStatusErrors(t *testing.T) {
	_, err := RunStatus("no-lister", "etl", nil, nil).Evaluate(context.Background(), pipeline.SensorEnv{}, "")
	if !errors.Is(err, ErrNoRunLister) {
		t.Errorf("nil Runs: %v, want ErrNoRunLister", err)
	}
	_, err = RunStatus("typo", "etl", []string{"failed"}, nil).Evaluate(context.Background(), pipeline.SensorEnv{Runs: &runLog{}}, "")
	if err == nil || !strings.Contains(err.Error(), `"failed"`) {
		t.Errorf("unknown status: %v, want an error naming it", err)
	}
}
