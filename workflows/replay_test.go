package workflows_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-rpc/sdk-go/nexus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	curioworker "github.com/curiodata/curio/worker"
	"github.com/curiodata/curio/workflows"
)

// historiesDir holds one recorded history per workflow type, NAME.json (and optionally
// more, NAME-*.json), written by TestRecordHistories (record_test.go).
const historiesDir = "testdata/histories"

// recordCommand re-records every history.
const recordCommand = "CURIO_RECORD_HISTORIES=1 go test ./workflows -run TestRecordHistories -count=1"

// TestReplayHistories replays every recorded history against the current workflow code:
// a change that alters the commands a running workflow issues (a new, removed or
// reordered activity, timer or child) fails here with a nondeterminism error. Such a
// change needs workflow.GetVersion or a new workflow type name (README "Changing
// workflows safely"), then re-recorded histories.
func TestReplayHistories(t *testing.T) {
	wfs := registeredWorkflows(t)
	if len(wfs) == 0 {
		t.Fatal("worker.Register registered no workflows")
	}
	replayer := sdkworker.NewWorkflowReplayer()
	for _, name := range sortedNames(wfs) {
		replayer.RegisterWorkflowWithOptions(wfs[name], workflow.RegisterOptions{Name: name})
		if _, err := os.Stat(filepath.Join(historiesDir, name+".json")); err != nil {
			t.Errorf("no recorded history for workflow %s (%v): add it to TestRecordHistories and run %s", name, err, recordCommand)
		}
	}
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			if err := replayFile(replayer, nil, file); err != nil {
				t.Errorf("replaying %s: %v\n(if the change is intended for new runs only, guard it with workflow.GetVersion; then re-record with %s)",
					file, err, recordCommand)
			}
		})
	}
}

// TestReplayDetectsChangedWorkflow makes sure TestReplayHistories has teeth: a
// CatalogPipeline whose first command differs from the recorded one must not replay.
func TestReplayDetectsChangedWorkflow(t *testing.T) {
	changed := func(ctx workflow.Context, _ workflows.CatalogPipelineInput) (workflows.CatalogPipelineResult, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		// The recorded run starts with RecordRun; this one plans the index first.
		err := workflow.ExecuteActivity(ctx, "PlanIndex", struct{}{}).Get(ctx, nil)
		return workflows.CatalogPipelineResult{}, err
	}
	replayer := sdkworker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: workflows.CatalogPipelineName})
	quiet := log.NewStructuredLogger(slog.New(slog.DiscardHandler)) // the SDK logs the expected panic
	err := replayFile(replayer, quiet, filepath.Join(historiesDir, workflows.CatalogPipelineName+".json"))
	if err == nil || !strings.Contains(err.Error(), "TMPRL1100") { // the SDK's nondeterminism error code
		t.Fatalf("replaying a changed CatalogPipeline: want a nondeterminism error, got %v", err)
	}
}

// replayFile replays a recorded history as the run it was recorded from: with the workflow
// id and run id of its start event (ReplayWorkflowHistoryFromJSONFile would use
// placeholders, and a workflow deriving a child's id from its own then looks changed). A nil
// logger is the SDK's default, which logs to stdout.
func replayFile(replayer sdkworker.WorkflowReplayer, logger log.Logger, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if len(hist.GetEvents()) == 0 {
		return fmt.Errorf("%s holds no events", file)
	}
	started := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
	if started == nil {
		return fmt.Errorf("%s does not start with WorkflowExecutionStarted", file)
	}
	return replayer.ReplayWorkflowHistoryWithOptions(logger, hist, sdkworker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: started.GetWorkflowId(), RunID: started.GetOriginalExecutionRunId()}})
}

// registeredWorkflows returns the workflows worker.Register puts on a worker (the jobs of
// the built-in definitions), by type name.
func registeredWorkflows(t testing.TB) map[string]any {
	t.Helper()
	defs, err := workflows.Definitions()
	if err != nil {
		t.Fatal(err)
	}
	r := &captureRegistry{workflows: map[string]any{}}
	curioworker.Register(r, &activities.Activities{}, defs)
	return r.workflows
}

func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// captureRegistry is a worker registry that only records the workflows registered on it.
type captureRegistry struct{ workflows map[string]any }

var _ sdkworker.Registry = (*captureRegistry)(nil)

func (r *captureRegistry) RegisterWorkflow(w any) {
	r.RegisterWorkflowWithOptions(w, workflow.RegisterOptions{})
}

func (r *captureRegistry) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	name := o.Name
	if name == "" { // the SDK's default: the function's name
		full := runtime.FuncForPC(reflect.ValueOf(w).Pointer()).Name()
		name = strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
	}
	if _, dup := r.workflows[name]; dup && !o.DisableAlreadyRegisteredCheck {
		panic(errors.New("workflow " + name + " registered twice"))
	}
	r.workflows[name] = w
}

func (r *captureRegistry) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {}
func (r *captureRegistry) RegisterActivity(any)                                         {}
func (r *captureRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions)    {}
func (r *captureRegistry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {}
func (r *captureRegistry) RegisterNexusService(*nexus.Service)                          {}
