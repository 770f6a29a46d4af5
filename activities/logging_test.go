package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// TestActivityLogCarriesRun runs an activity in the SDK's test environment and checks that
// its log line names the workflow run, the activity type and the attempt.
func TestActivityLogCarriesRun(t *testing.T) {
	var buf bytes.Buffer
	a := &Activities{Logger: slog.New(slog.NewJSONHandler(&buf, nil)).With("worker", "w1")}
	probe := func(ctx context.Context, msg string) error {
		a.log(ctx).Info(msg, "k", "v")
		return nil
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(probe, activity.RegisterOptions{Name: "LogProbe"})
	if _, err := env.ExecuteActivity("LogProbe", "hello"); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", buf.String(), err)
	}
	for k, want := range map[string]any{
		"msg":         "hello",
		"k":           "v",
		"worker":      "w1", // what a.Logger already carried is kept
		"workflow_id": "default-test-workflow-id",
		"run_id":      "default-test-run-id",
		"activity":    "LogProbe",
		"attempt":     float64(1),
	} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], want, buf.String())
		}
	}
}

// TestLogOutsideActivity: a direct call (no activity context) logs through a.Logger unchanged,
// and an Activities without a Logger still logs.
func TestLogOutsideActivity(t *testing.T) {
	var buf bytes.Buffer
	a := &Activities{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	a.log(context.Background()).Info("direct")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if _, ok := line["workflow_id"]; ok || line["msg"] != "direct" {
		t.Errorf("line %s", buf.String())
	}
	if (&Activities{}).log(context.Background()) == nil {
		t.Error("nil logger without a.Logger")
	}
}
