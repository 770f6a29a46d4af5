package alerting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities/alerting"
	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/pipeline"
)

// runList is Temporal's visibility for tests: closed runs per job. Like a real lister
// that keeps the oldest runs, it returns at most limit runs from the oldest on.
type runList struct {
	mu   sync.Mutex
	runs map[string][]pipeline.RunInfo
	err  error
}

var _ pipeline.RunLister = (*runList)(nil)

func (l *runList) ClosedRuns(_ context.Context, job string, since time.Time, limit int) ([]pipeline.RunInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	var out []pipeline.RunInfo
	for _, r := range l.runs[job] {
		if r.ClosedAt.After(since) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b pipeline.RunInfo) int { return a.ClosedAt.Compare(b.ClosedAt) })
	return out[:min(len(out), limit)], nil
}

func (l *runList) add(job, status string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.runs == nil {
		l.runs = map[string][]pipeline.RunInfo{}
	}
	n := len(l.runs[job])
	l.runs[job] = append(l.runs[job], pipeline.RunInfo{Job: job, WorkflowID: fmt.Sprintf("%s-%d", job, n), RunID: fmt.Sprintf("r%d", n),
		Status: status, ClosedAt: at})
}

func openStore(t *testing.T) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Asset and job names of the test definitions.
const (
	things = "t.things" // unpartitioned, fresh within an hour
	never  = "t.never"  // fresh within an hour, never materialized
	parts  = "t.parts"  // static partitions eu and us, downstream of things
)

func testDefs(t *testing.T) *pipeline.Definitions {
	t.Helper()
	wf := func(workflow.Context) error { return nil }
	in := func() any { return &struct{}{} }
	defs, err := pipeline.New(
		pipeline.Job{Name: "BuildThings", Workflow: wf, Input: in, Assets: []pipeline.Asset{
			{Name: things, Freshness: time.Hour, Checks: []pipeline.Check{{Name: "not_empty", Blocking: true}}},
			{Name: never, Freshness: time.Hour},
		}},
		pipeline.Job{Name: "BuildParts", Workflow: wf, Input: in, Assets: []pipeline.Asset{{
			Name: parts, Partitioning: pipeline.StaticPartitions("eu", "us"), Upstreams: []pipeline.Upstream{pipeline.OnAll(things)},
			PartitionInput: func(string) (any, error) { return struct{}{}, nil },
		}}},
		pipeline.Job{Name: "Hidden", Workflow: wf, Input: in, Internal: true},
		pipeline.Job{Name: "CurioAutomation", Workflow: wf, Input: in},
	)
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// fixture is the activities on a fresh warehouse, logging into logs.
type fixture struct {
	pg   *postgres.Store
	runs *runList
	acts *alerting.Activities
	logs *bytes.Buffer
	env  *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T, hooks ...alerts.Webhook) *fixture {
	t.Helper()
	pg := openStore(t)
	f := &fixture{pg: pg, runs: &runList{}, logs: &bytes.Buffer{}}
	f.acts = &alerting.Activities{Alerts: pg.Alerts(), Assets: pg, Defs: testDefs(t), Runs: f.runs, SkipJobs: []string{"CurioAutomation"},
		Webhooks: hooks, Secret: []byte("hmac-secret-0123456789"), DeadLetterSpike: 3,
		TemporalUIURL: "http://ui.local", Namespace: "default", Logger: slog.New(slog.NewJSONHandler(f.logs, nil))}
	var s testsuite.WorkflowTestSuite
	f.env = s.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.acts)
	return f
}

// evaluate runs EvaluateAlerts as the workflow does: through Temporal's payloads.
func (f *fixture) evaluate(t *testing.T, now time.Time) []alerts.Delivery {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.EvaluateAlerts, alerting.EvaluateAlertsInput{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var ds []alerts.Delivery
	if err := v.Get(&ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

func (f *fixture) deliver(d alerts.Delivery) error {
	_, err := f.env.ExecuteActivity(f.acts.DeliverAlert, d)
	return err
}

// open lists the keys of the open incidents, sorted.
func (f *fixture) open(t *testing.T) []string {
	t.Helper()
	recs, err := f.acts.Alerts.OpenIncidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return keys
}

func TestAlertDetectRunFailures(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	f.runs.add("BuildThings", pipeline.RunCompleted, now.Add(-3*time.Hour))
	f.runs.add("BuildThings", pipeline.RunFailed, now.Add(-2*time.Hour))
	f.runs.add("BuildThings", pipeline.RunCanceled, now.Add(-time.Hour)) // someone's decision: no outcome
	for i := range 150 {                                                 // more than one page of runs
		f.runs.add("BuildParts", pipeline.RunCompleted, now.Add(-5*time.Hour+time.Duration(i)*time.Second))
	}
	f.runs.add("BuildParts", pipeline.RunTimedOut, now.Add(-time.Hour))
	f.runs.add("Hidden", pipeline.RunFailed, now.Add(-time.Hour))
	f.runs.add("CurioAutomation", pipeline.RunFailed, now.Add(-time.Hour))

	if ds := f.evaluate(t, now); len(ds) != 0 {
		t.Errorf("no webhooks, yet deliveries: %v", ds)
	}
	if got := fmt.Sprint(f.open(t)); got != "[run_failed:BuildParts run_failed:BuildThings]" {
		t.Fatalf("open: %s", got)
	}
	recs, _ := f.acts.Alerts.OpenIncidents(context.Background())
	for _, r := range recs {
		switch r.Key {
		case "run_failed:BuildThings":
			if r.Summary != "run failed — BuildThings" || !strings.Contains(r.Detail, "BuildThings-1 (run r1) failed at 2026-03-08T10:00:00Z") ||
				r.URL != "http://ui.local/namespaces/default/workflows/BuildThings-1/r1/history" {
				t.Errorf("incident %+v", r)
			}
		case "run_failed:BuildParts":
			if r.Summary != "run timed out — BuildParts" || !strings.Contains(r.Detail, "BuildParts-150") {
				t.Errorf("incident %+v", r)
			}
		}
	}

	t.Run("a failing lister leaves incidents as they are", func(t *testing.T) {
		f.runs.err = errors.New("visibility unavailable")
		f.evaluate(t, now.Add(time.Minute))
		f.runs.err = nil
		if got := fmt.Sprint(f.open(t)); got != "[run_failed:BuildParts run_failed:BuildThings]" {
			t.Errorf("open: %s", got)
		}
		if !strings.Contains(f.logs.String(), "visibility unavailable") {
			t.Errorf("detection failure not logged: %s", f.logs)
		}
	})

	t.Run("a completed run resolves", func(t *testing.T) {
		f.runs.add("BuildThings", pipeline.RunCompleted, now.Add(time.Minute))
		f.evaluate(t, now.Add(2*time.Minute))
		if got := fmt.Sprint(f.open(t)); got != "[run_failed:BuildParts]" {
			t.Errorf("open: %s", got)
		}
	})

	t.Run("runs older than the lookback do not count", func(t *testing.T) {
		f.evaluate(t, now.Add(alerting.RunLookback))
		if got := f.open(t); len(got) != 0 {
			t.Errorf("open: %s", got)
		}
	})
}

func materialize(t *testing.T, pg *postgres.Store, asset, partition, status string, checks ...assets.CheckResult) {
	t.Helper()
	n := time.Now().UnixNano()
	if err := pg.RecordMaterialization(context.Background(), assets.Materialization{Asset: asset, Partition: partition, Status: status,
		WorkflowID: fmt.Sprintf("wf-%s-%s", asset, partition), RunID: fmt.Sprint("run", n), StartedAt: time.Now(), Checks: checks}); err != nil {
		t.Fatal(err)
	}
}

func TestAlertDetectCheckFailures(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	rowCount := assets.CheckResult{Name: "row_count", Blocking: true, Detail: "0 rows"}
	warning := assets.CheckResult{Name: "nulls", Blocking: false, Detail: "3% nulls"}
	materialize(t, f.pg, parts, "eu", assets.StatusMaterialized)
	materialize(t, f.pg, parts, "eu", assets.StatusFailed, rowCount, warning)
	materialize(t, f.pg, parts, "us", assets.StatusFailed) // failed without a check: a run failure
	materialize(t, f.pg, things, "", assets.StatusFailed, assets.CheckResult{Name: "not_empty", Blocking: true, Passed: true})
	materialize(t, f.pg, things, "", assets.StatusFailed, assets.CheckResult{Name: "not_empty", Blocking: true, Detail: "empty"})

	f.evaluate(t, now)
	if got := fmt.Sprint(f.open(t)); got != "[check_failed:t.parts/eu:row_count check_failed:t.things:not_empty]" {
		t.Fatalf("open: %s", got)
	}
	recs, _ := f.acts.Alerts.OpenIncidents(context.Background())
	for _, r := range recs {
		if r.Key == "check_failed:t.parts/eu:row_count" &&
			(r.Summary != "blocking check failed — t.parts[eu]: row_count" || !strings.HasPrefix(r.Detail, "0 rows; workflow wf-t.parts-eu") ||
				!strings.HasPrefix(r.URL, "http://ui.local/namespaces/default/workflows/wf-t.parts-eu/run")) {
			t.Errorf("incident %+v", r)
		}
		if r.Key == "check_failed:t.things:not_empty" && !strings.Contains(r.Detail, "downstream not updated: t.parts") {
			t.Errorf("incident %+v", r)
		}
	}

	materialize(t, f.pg, parts, "eu", assets.StatusMaterialized, assets.CheckResult{Name: "row_count", Blocking: true, Passed: true})
	f.evaluate(t, now.Add(time.Minute))
	if got := fmt.Sprint(f.open(t)); got != "[check_failed:t.things:not_empty]" {
		t.Errorf("after eu passed: %s", got)
	}
}

func TestAlertDetectFreshness(t *testing.T) {
	f := newFixture(t)
	materialize(t, f.pg, things, "", assets.StatusMaterialized)
	now := time.Now().UTC()
	f.evaluate(t, now)
	if got := f.open(t); len(got) != 0 {
		t.Fatalf("fresh, yet open: %s (t.never never succeeded: nothing to be late about)", got)
	}
	f.evaluate(t, now.Add(2*time.Hour))
	if got := fmt.Sprint(f.open(t)); got != "[freshness_overdue:t.things]" {
		t.Fatalf("two hours later: %s", got)
	}
	recs, _ := f.acts.Alerts.OpenIncidents(context.Background())
	if r := recs[0]; r.Summary != "asset overdue — t.things" || !strings.Contains(r.Detail, "(2h before this check); expected at least every 1h") {
		t.Errorf("incident %+v", r)
	}
	materialize(t, f.pg, things, "", assets.StatusMaterialized)
	f.evaluate(t, time.Now().UTC())
	if got := f.open(t); len(got) != 0 {
		t.Errorf("materialized again, yet open: %s", got)
	}
}

func TestAlertDetectDeadLetterSpike(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	for i, reason := range []string{"invalid_json", "future_ts", "invalid_json", "invalid_json"} {
		at := now.Add(-time.Duration(i+1) * time.Minute)
		if i == 3 {
			at = now.Add(-11 * time.Minute) // outside the window
		}
		if _, err := f.pg.Pool().Exec(context.Background(), `INSERT INTO dead_letters (consumer, topic, kpartition, koffset, reason, detail, received_at)
			VALUES ('c', 't', 0, $1, $2, '', $3)`, i, reason, at); err != nil {
			t.Fatal(err)
		}
	}
	f.evaluate(t, now)
	if got := fmt.Sprint(f.open(t)); got != "[dead_letter_spike]" {
		t.Fatalf("3 in 10 minutes, threshold 3: %s", got)
	}
	recs, _ := f.acts.Alerts.OpenIncidents(context.Background())
	if r := recs[0]; r.Summary != "dead-letter spike — 3 messages in 10m" || r.Detail != "threshold 3 per 10m; by reason: invalid_json 2, future_ts 1" {
		t.Errorf("incident %+v", r)
	}
	f.evaluate(t, now.Add(8*time.Minute)) // two of the three left the window
	if got := f.open(t); len(got) != 0 {
		t.Errorf("1 in 10 minutes: %s", got)
	}
	f.acts.DeadLetterSpike = 0
	f.evaluate(t, now)
	if got := f.open(t); len(got) != 0 {
		t.Errorf("alert off: %s", got)
	}
}

// hook is a local receiver: it answers with statuses in turn (the last one repeats) and
// records what it accepted.
type hook struct {
	mu       sync.Mutex
	statuses []int
	calls    int
	accepted []acceptedNotice
	srv      *httptest.Server
}

type acceptedNotice struct {
	delivery string // X-Curio-Delivery
	body     []byte
	verified bool
}

func newHook(t *testing.T, secret []byte, statuses ...int) *hook {
	h := &hook{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls++
		s := h.statuses[min(h.calls, len(h.statuses))-1]
		if s < 300 {
			h.accepted = append(h.accepted, acceptedNotice{r.Header.Get(alerts.HeaderDelivery), body,
				alerts.Verify(secret, r.Header.Get(alerts.HeaderTimestamp), body, r.Header.Get(alerts.HeaderSignature))})
		}
		w.WriteHeader(s)
		_, _ = fmt.Fprintf(w, `{"error":"status %d"}`, s)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) snapshot() (int, []acceptedNotice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, slices.Clone(h.accepted)
}

// deliverWithRetries runs DeliverAlert as Temporal would under DeliveryRetryPolicy
// (without the waits): again while the error is retryable.
func deliverWithRetries(t *testing.T, f *fixture, d alerts.Delivery) (attempts int) {
	t.Helper()
	max := int(alerting.DeliveryRetryPolicy().MaximumAttempts)
	for attempts = 1; attempts <= max; attempts++ {
		err := f.deliver(d)
		if err == nil {
			return attempts
		}
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.NonRetryable() || app.Type() != alerting.ErrDeliveryFailed {
			t.Fatalf("attempt %d: want a retryable %s error, got %v", attempts, alerting.ErrDeliveryFailed, err)
		}
	}
	t.Fatalf("not delivered in %d attempts", max)
	return attempts
}

func TestAlertDeliverRetriesUntilAcceptedOncePerNotice(t *testing.T) {
	secret := []byte("hmac-secret-0123456789")
	flaky := newHook(t, secret, 500, 500, 200) // the receiver that answers 500 twice first
	slack := newHook(t, nil, 200)
	generic := alerts.Webhook{Kind: alerts.WebhookGeneric, URL: flaky.srv.URL + "/hook/XXXXSECRETXXXX"}
	slackHook := alerts.Webhook{Kind: alerts.WebhookSlack, URL: slack.srv.URL + "/services/T/B/XXXXSECRETXXXX"}
	f := newFixture(t, generic, slackHook)
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	f.runs.add("BuildThings", pipeline.RunFailed, now.Add(-time.Minute))

	ds := f.evaluate(t, now)
	if len(ds) != 2 || ds[0].Webhook != generic.ID() || ds[1].Webhook != slackHook.ID() || ds[0].State != alerts.StateOpen {
		t.Fatalf("deliveries %+v", ds)
	}
	if b, _ := json.Marshal(ds); strings.Contains(string(b), "XXXXSECRETXXXX") || strings.Contains(string(b), "127.0.0.1") {
		t.Errorf("a delivery (an activity argument, kept in history) names its URL: %s", b)
	}
	if again := f.evaluate(t, now.Add(time.Second)); len(again) != 0 {
		t.Errorf("the next tick claimed notices already handed out: %v", again)
	}
	if n := deliverWithRetries(t, f, ds[0]); n != 3 {
		t.Errorf("generic: delivered on attempt %d, want 3", n)
	}
	if n := deliverWithRetries(t, f, ds[1]); n != 1 {
		t.Errorf("slack: delivered on attempt %d, want 1", n)
	}
	// A late retry, or the same notice handed out twice, sends nothing.
	if err := f.deliver(ds[0]); err != nil {
		t.Fatal(err)
	}
	if again := f.evaluate(t, now.Add(time.Hour)); len(again) != 0 {
		t.Errorf("delivered notices claimed again: %v", again)
	}

	// The job recovers: one resolved notice per receiver.
	f.runs.add("BuildThings", pipeline.RunCompleted, now.Add(2*time.Hour))
	ds = f.evaluate(t, now.Add(2*time.Hour))
	if len(ds) != 2 || ds[0].State != alerts.StateResolved || ds[1].State != alerts.StateResolved {
		t.Fatalf("resolved deliveries %+v", ds)
	}
	for _, d := range ds {
		deliverWithRetries(t, f, d)
	}
	f.evaluate(t, now.Add(3*time.Hour))

	calls, got := flaky.snapshot()
	id := ds[0].IncidentID
	if calls != 4 || len(got) != 2 || got[0].delivery != fmt.Sprint(id, "-open") || got[1].delivery != fmt.Sprint(id, "-resolved") ||
		!got[0].verified || !got[1].verified {
		t.Fatalf("generic receiver: %d calls, accepted %+v", calls, got)
	}
	var m alerts.GenericMessage
	if err := json.Unmarshal(got[1].body, &m); err != nil || m.State != "resolved" || m.Key != "run_failed:BuildThings" || m.ResolvedAt == nil {
		t.Errorf("resolved notice %s: %v", got[1].body, err)
	}
	calls, got = slack.snapshot()
	if calls != 2 || len(got) != 2 || !strings.Contains(string(got[0].body), "run failed — BuildThings") ||
		!strings.Contains(string(got[1].body), ":white_check_mark: Curio: resolved") {
		t.Errorf("slack receiver: %d calls, accepted %d", calls, len(got))
	}
	recs, err := f.acts.Alerts.RecentIncidents(context.Background(), 1)
	if err != nil || len(recs[0].Notices) != 4 || recs[0].Notices[0].Attempts != 3 || recs[0].Notices[0].DeliveredAt == nil {
		t.Errorf("incident record %+v %v", recs, err)
	}
	if strings.Contains(f.logs.String(), "XXXXSECRETXXXX") || !strings.Contains(f.logs.String(), "alert delivered") {
		t.Errorf("logs: %s", f.logs)
	}
}

func TestAlertDeliverRefusedIsGivenUp(t *testing.T) {
	refusing := newHook(t, nil, 404)
	w := alerts.Webhook{Kind: alerts.WebhookSlack, URL: refusing.srv.URL + "/services/XXXXSECRETXXXX"}
	f := newFixture(t, w)
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	f.runs.add("BuildThings", pipeline.RunFailed, now.Add(-time.Minute))
	ds := f.evaluate(t, now)
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", ds)
	}
	err := f.deliver(ds[0])
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != alerting.ErrDeliveryRejected || strings.Contains(err.Error(), "XXXXSECRETXXXX") {
		t.Fatalf("want a non-retryable %s error without the URL, got %v", alerting.ErrDeliveryRejected, err)
	}
	if again := f.evaluate(t, now.Add(time.Hour)); len(again) != 0 {
		t.Errorf("a refused notice is claimed again: %v", again)
	}
	recs, _ := f.acts.Alerts.OpenIncidents(context.Background())
	if n := recs[0].Notices[0]; n.GaveUpAt == nil || !strings.Contains(n.LastError, "HTTP 404") || strings.Contains(n.LastError, "XXXXSECRETXXXX") {
		t.Errorf("notice %+v", n)
	}
}

func TestAlertDeliverUnknownWebhookWaitsForTheLease(t *testing.T) {
	ok := newHook(t, nil, 200)
	w := alerts.Webhook{Kind: alerts.WebhookSlack, URL: ok.srv.URL}
	f := newFixture(t, w)
	now := time.Now().UTC()
	f.runs.add("BuildThings", pipeline.RunFailed, now.Add(-time.Minute))
	ds := f.evaluate(t, now)
	f.acts.Webhooks = nil // this worker does not know the webhook
	err := f.deliver(ds[0])
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != alerting.ErrUnknownWebhook {
		t.Fatalf("got %v", err)
	}
	f.acts.Webhooks = []alerts.Webhook{w}
	if again := f.evaluate(t, now.Add(alerting.ClaimLease+time.Minute)); len(again) != 1 || again[0].ID != ds[0].ID {
		t.Fatalf("after the lease: %v", again)
	}
}
