// Package runs starts Curio's runs with the reason they were started (their trigger) and
// lists them from Temporal's visibility store: the runs list of the web app, the
// run-status sensors and the run-failure alerts read runs through it.
package runs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/pipeline"
)

// Run is one run of a job as Temporal records it.
type Run struct {
	Job        string     `json:"job"`
	WorkflowID string     `json:"workflow_id"`
	RunID      string     `json:"run_id"`
	Status     string     `json:"status"` // Running, Completed, Failed, TimedOut, Terminated, Canceled, ContinuedAsNew
	StartedAt  time.Time  `json:"started_at"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	Trigger    string     `json:"trigger,omitempty"`
}

// TriggerKey is the search attribute that carries a run's trigger.
var TriggerKey = temporal.NewSearchAttributeKeyKeyword(pipeline.TriggerSearchAttribute)

// EnsureSearchAttributes registers the CurioTrigger search attribute in namespace (a no-op
// when it exists). Runs start without it, the trigger kept in the memo only, where it
// cannot be registered.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	op := c.OperatorService()
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	if _, ok := have.GetCustomAttributes()[pipeline.TriggerSearchAttribute]; ok {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{pipeline.TriggerSearchAttribute: enumspb.INDEXED_VALUE_TYPE_KEYWORD}})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attribute %s: %w", pipeline.TriggerSearchAttribute, err)
	}
	return nil
}

// StartOptions say what to start and why.
type StartOptions struct {
	ID        string
	TaskQueue string
	Job       string
	Input     any
	// Trigger is why the run starts, e.g. "eager:catalog.items@v3" or "manual:web".
	Trigger string
	// ReuseCompleted: an ID whose run already closed starts a new run (the default refuses
	// it, so a deterministic ID starts at most one run ever).
	ReuseCompleted bool
}

// Start starts a run with its trigger as memo and search attribute. An ID that is
// running, or (unless ReuseCompleted) that ran before, gives
// *serviceerror.WorkflowExecutionAlreadyStarted.
func Start(ctx context.Context, c client.Client, o StartOptions) (client.WorkflowRun, error) {
	opts := client.StartWorkflowOptions{ID: o.ID, TaskQueue: o.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		Memo:                                     map[string]any{pipeline.TriggerMemo: o.Trigger},
		TypedSearchAttributes:                    temporal.NewSearchAttributes(TriggerKey.ValueSet(truncate(o.Trigger, maxKeyword))),
	}
	if o.ReuseCompleted {
		opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	run, err := c.ExecuteWorkflow(ctx, opts, o.Job, o.Input)
	var invalid *serviceerror.InvalidArgument
	if errors.As(err, &invalid) && strings.Contains(invalid.Error(), pipeline.TriggerSearchAttribute) {
		opts.TypedSearchAttributes = temporal.SearchAttributes{} // not registered on this server: memo only
		run, err = c.ExecuteWorkflow(ctx, opts, o.Job, o.Input)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", o.Job, o.ID, err)
	}
	return run, nil
}

// maxKeyword is the longest Keyword search attribute SQL visibility stores (the memo keeps
// the whole trigger).
const maxKeyword = 255

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Lister lists runs from Temporal's visibility store.
type Lister struct {
	Client client.Client
}

// Filter selects runs.
type Filter struct {
	Job    string
	Status string // a Run status; "" any
	Limit  int    // default 50, at most 1,000
	// ClosedAfter keeps closed runs that closed after it (and no running ones).
	ClosedAfter time.Time
}

// Statuses are the run statuses a Filter takes.
func Statuses() []string {
	return []string{"Running", "Completed", "Failed", "TimedOut", "Terminated", "Canceled", "ContinuedAsNew"}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// Query is the visibility query for f.
func (f Filter) Query() (string, error) {
	var where []string
	if f.Job != "" {
		where = append(where, "WorkflowType = "+quote(f.Job))
	}
	if f.Status != "" {
		if !slices.Contains(Statuses(), f.Status) {
			return "", fmt.Errorf("unknown run status %q: want one of %s", f.Status, strings.Join(Statuses(), ", "))
		}
		where = append(where, "ExecutionStatus = "+quote(f.Status))
	}
	if !f.ClosedAfter.IsZero() {
		where = append(where, "CloseTime > "+quote(f.ClosedAfter.UTC().Format(time.RFC3339Nano)))
	}
	return strings.Join(where, " AND "), nil
}

// Recent returns the runs f selects, newest first (by start time).
func (l *Lister) Recent(ctx context.Context, f Filter) ([]Run, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 1000)
	out, err := l.list(ctx, f, f.Limit)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Run) int { return b.StartedAt.Compare(a.StartedAt) })
	return out, nil
}

// maxScan bounds how many runs one ClosedRuns call reads from visibility.
const maxScan = 10_000

// list reads at most limit runs f selects, in the order visibility returns them.
func (l *Lister) list(ctx context.Context, f Filter, limit int) ([]Run, error) {
	q, err := f.Query()
	if err != nil {
		return nil, err
	}
	var out []Run
	var token []byte
	for len(out) < limit {
		resp, err := l.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: q, PageSize: int32(min(limit-len(out), 500)), NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list runs (%s): %w", q, err)
		}
		for _, e := range resp.GetExecutions() {
			out = append(out, runOf(e))
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return out, nil
}

// ClosedRuns lists the job's runs that closed after since, oldest first (pipeline.RunLister).
func (l *Lister) ClosedRuns(ctx context.Context, job string, since time.Time, limit int) ([]pipeline.RunInfo, error) {
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	// Visibility lists newest first: read every run closed since, then keep the oldest.
	rs, err := l.list(ctx, Filter{Job: job, ClosedAfter: since}, maxScan)
	if err != nil {
		return nil, err
	}
	out := make([]pipeline.RunInfo, 0, len(rs))
	for _, r := range rs {
		if r.ClosedAt == nil || r.Status == "Running" {
			continue
		}
		out = append(out, pipeline.RunInfo{Job: r.Job, WorkflowID: r.WorkflowID, RunID: r.RunID, Status: r.Status, ClosedAt: *r.ClosedAt})
	}
	slices.SortStableFunc(out, func(a, b pipeline.RunInfo) int { return a.ClosedAt.Compare(b.ClosedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

var statusNames = map[enumspb.WorkflowExecutionStatus]string{
	enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:          "Running",
	enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:        "Completed",
	enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:           "Failed",
	enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:        "TimedOut",
	enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:       "Terminated",
	enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:         "Canceled",
	enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: "ContinuedAsNew",
}

func runOf(e *workflowpb.WorkflowExecutionInfo) Run {
	r := Run{Job: e.GetType().GetName(), WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
		Status: statusNames[e.GetStatus()], StartedAt: e.GetStartTime().AsTime()}
	if r.Status == "" {
		r.Status = e.GetStatus().String()
	}
	if ct := e.GetCloseTime(); ct != nil && e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t := ct.AsTime()
		r.ClosedAt = &t
	}
	if p, ok := e.GetMemo().GetFields()[pipeline.TriggerMemo]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &r.Trigger)
	}
	return r
}
