package devstack

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/pipeline/sensors"
	"github.com/curiodata/curio/workflows"
)

type droppedFile struct {
	Path string `json:"path"`
}

type failedRun struct {
	WorkflowID string `json:"workflow_id"`
}

// sensorJobs are three user jobs: one started by a file sensor, one that always fails,
// and one a run-status sensor starts when the second fails.
func sensorJobs(dir string) []pipeline.Job {
	files := sensors.Files("dropped-files", dir, "*.csv", func(p string) any { return droppedFile{Path: p} })
	files.Interval = 500 * time.Millisecond
	failed := sensors.RunStatus("flaky-failed", "FlakyJob", nil, func(r pipeline.RunInfo) any { return failedRun{WorkflowID: r.WorkflowID} })
	failed.Interval = 500 * time.Millisecond
	return []pipeline.Job{
		{Name: "ProcessDroppedFile", Description: "reads one dropped file", Input: func() any { return &droppedFile{} },
			Workflow: func(_ workflow.Context, in droppedFile) (string, error) { return in.Path, nil },
			Sensors:  []pipeline.Sensor{files}},
		{Name: "FlakyJob", Description: "always fails", Input: func() any { return &struct{}{} },
			Workflow: func(workflow.Context, struct{}) error {
				return temporal.NewNonRetryableApplicationError("flaky job failed on purpose", "Flaky", nil)
			}},
		{Name: "OnFlakyFailure", Description: "follows up a failed FlakyJob", Input: func() any { return &failedRun{} },
			Workflow: func(_ workflow.Context, in failedRun) (string, error) { return "followed up " + in.WorkflowID, nil },
			Sensors:  []pipeline.Sensor{failed}},
	}
}

// TestSensorsStartRuns: a file sensor starts one run per dropped file and no more after
// the automation workflow restarts; a run-status sensor starts the follow-up job when a
// job fails; every evaluation is recorded as a tick.
func TestSensorsStartRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true, Jobs: sensorJobs(dir)})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	in := workflows.AutomationInput{Interval: 300 * time.Millisecond, NoAlerts: true}
	if _, err := stack.StartAutomation(ctx, in); err != nil {
		t.Fatal(err)
	}
	lister := &runs.Lister{Client: stack.Temporal}
	list := func(job string) []runs.Run {
		t.Helper()
		rs, err := lister.Recent(ctx, runs.Filter{Job: job})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	completed := func(job string) int {
		n := 0
		for _, r := range list(job) {
			if r.Status == "Completed" {
				n++
			}
		}
		return n
	}

	// Three files, older than the sensor's quiet period (a file still being written waits).
	old := time.Now().Add(-time.Minute)
	var paths []string
	for _, name := range []string{"a.csv", "b.csv", "c.csv"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("id,title\n1,x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not matched"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "three file runs", func() bool { return completed("ProcessDroppedFile") == 3 })

	// Restart the automation: the files were seen, so nothing more starts.
	if err := stack.Temporal.TerminateWorkflow(ctx, workflows.AutomationWorkflowID, "", "test: restart"); err != nil {
		t.Fatal(err)
	}
	ticks := func(sensor string) int {
		var n int
		if err := stack.PG.Pool().QueryRow(ctx, `SELECT count(*) FROM sensor_ticks WHERE sensor = $1`, sensor).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := ticks("dropped-files")
	if _, err := stack.StartAutomation(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "three more sensor ticks after the restart", func() bool { return ticks("dropped-files") >= before+3 })
	rs := list("ProcessDroppedFile")
	if len(rs) != 3 {
		t.Fatalf("%d file runs after the restart, want 3: %+v", len(rs), rs)
	}
	var got []string
	for _, r := range rs {
		if !strings.HasPrefix(r.Trigger, "sensor:dropped-files:") {
			t.Errorf("run %s trigger %q", r.WorkflowID, r.Trigger)
		}
		got = append(got, strings.TrimPrefix(r.Trigger, "sensor:dropped-files:"))
	}
	for _, p := range paths {
		if !slices.ContainsFunc(got, func(k string) bool { return strings.HasPrefix(k, p+"@") }) {
			t.Errorf("no run for %s (keys %q)", p, got)
		}
	}

	// A failed run starts the follow-up job, carrying the failed run's id.
	fr, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "flaky-1", TaskQueue: cfg.TaskQueue}, "FlakyJob", struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	var appErr *temporal.ApplicationError
	if err := fr.Get(ctx, nil); !errors.As(err, &appErr) {
		t.Fatalf("FlakyJob: %v, want its failure", err)
	}
	waitFor(t, time.Minute, "the follow-up run", func() bool { return completed("OnFlakyFailure") == 1 })
	follow := list("OnFlakyFailure")[0]
	if want := "sensor:flaky-failed:flaky-1/" + fr.GetRunID(); follow.Trigger != want {
		t.Errorf("follow-up trigger %q, want %q", follow.Trigger, want)
	}
	var result string
	if err := stack.Temporal.GetWorkflow(ctx, follow.WorkflowID, follow.RunID).Get(ctx, &result); err != nil || result != "followed up flaky-1" {
		t.Errorf("follow-up result %q, %v", result, err)
	}

	// Ticks: fired ones name their runs, the others say why they skipped.
	ts, err := stack.PG.Automation().Ticks(ctx, "dropped-files", 1000)
	if err != nil {
		t.Fatal(err)
	}
	fired, skipped := 0, 0
	for _, tk := range ts {
		switch tk.Status {
		case "fired":
			fired += len(tk.WorkflowIDs)
		case "skipped":
			skipped++
			if tk.Reason == "" {
				t.Errorf("skipped tick without a reason: %+v", tk)
			}
		default:
			t.Errorf("tick %+v", tk)
		}
	}
	if fired != 3 || skipped == 0 {
		t.Errorf("ticks: %d runs fired, %d skipped ticks; want 3 and some", fired, skipped)
	}
}
