package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// TestAssetHistory records materializations in PostgreSQL and reads them back through
// GET /api/assets/NAME/history: newest first, filtered by partition, with each check's
// results over time.
func TestAssetHistory(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if _, err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour).UTC()
	for _, m := range []assets.Materialization{
		{Asset: assets.TermsTrending, Partition: "2026-11-23T09", Status: assets.StatusMaterialized, WorkflowID: "w1", RunID: "r1", Rows: 10,
			Checks: []assets.CheckResult{{Name: "hour_equals_sum_of_minutes", Passed: true, Blocking: true, Detail: "60 windows add up"}}},
		{Asset: assets.TermsTrending, Partition: "2026-11-23T10", Status: assets.StatusFailed, WorkflowID: "w2", RunID: "r2", Error: "check failed",
			Checks: []assets.CheckResult{{Name: "hour_equals_sum_of_minutes", Passed: false, Blocking: true, Detail: "1h has 12, minutes sum to 11"},
				{Name: "retired_check", Passed: true, Detail: "ok"}}},
		{Asset: assets.TermsTrending, Partition: "2026-11-23T09", Status: assets.StatusMaterialized, WorkflowID: "w3", RunID: "r3", Rows: 12},
		{Asset: assets.SimilarItems, Status: assets.StatusMaterialized, WorkflowID: "w4", RunID: "r4", Rows: 5},
	} {
		m.StartedAt = start
		if err := pg.RecordMaterialization(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	srv := opsServer(t, api.Deps{Assets: pg, AssetHistory: pg})
	base := srv.URL + "/api/assets/"

	var h api.AssetHistory
	get(t, base+assets.TermsTrending+"/history", http.StatusOK, &h)
	if h.Asset != assets.TermsTrending || h.Limit != api.DefaultHistoryLimit || len(h.Materializations) != 3 {
		t.Fatalf("history: %+v", h)
	}
	for i, want := range []string{"r3", "r2", "r1"} {
		if got := h.Materializations[i].RunID; got != want {
			t.Errorf("materialization %d is run %s, want %s (newest first)", i, got, want)
		}
	}
	if m := h.Materializations[1]; m.Status != assets.StatusFailed || m.Error != "check failed" || m.Partition != "2026-11-23T10" || m.WorkflowID != "w2" {
		t.Errorf("failed materialization: %+v", m)
	}
	// The declared check comes first with its results newest first; a check no longer
	// declared is kept after it.
	if len(h.Checks) != 2 || h.Checks[0].Name != "hour_equals_sum_of_minutes" || !h.Checks[0].Declared || !h.Checks[0].Blocking ||
		h.Checks[0].Description == "" || h.Checks[1].Name != "retired_check" || h.Checks[1].Declared {
		t.Fatalf("checks: %+v", h.Checks)
	}
	res := h.Checks[0].Results
	if len(res) != 2 || res[0].Passed || res[0].Detail != "1h has 12, minutes sum to 11" || res[0].WorkflowID != "w2" || res[0].RunID != "r2" ||
		res[0].Partition != "2026-11-23T10" || !res[1].Passed || !res[0].At.After(res[1].At) {
		t.Errorf("check results: %+v", res)
	}

	get(t, base+assets.TermsTrending+"/history?partition=2026-11-23T09&limit=1", http.StatusOK, &h)
	if len(h.Materializations) != 1 || h.Materializations[0].RunID != "r3" || h.Partition != "2026-11-23T09" || h.Limit != 1 ||
		len(h.Checks) != 1 || len(h.Checks[0].Results) != 0 {
		t.Errorf("one partition, limit 1: %+v", h)
	}
	// An asset without checks or materializations answers empty lists, not nulls.
	var raw map[string]json.RawMessage
	get(t, base+assets.PageRank+"/history", http.StatusOK, &raw)
	if string(raw["materializations"]) != "[]" || string(raw["checks"]) != "[]" {
		t.Errorf("empty history: %s %s", raw["materializations"], raw["checks"])
	}

	for q, want := range map[string]string{
		"?limit=0": "limit", "?limit=501": "limit", "?limit=x": "limit",
		"?partition=yesterday": "2026-11-23T10", "?partition=2026-11-23T10:30": "no partition",
	} {
		wantError(t, http.MethodGet, base+assets.TermsTrending+"/history"+q, nil, http.StatusBadRequest)
		if _, body := do(t, http.MethodGet, base+assets.TermsTrending+"/history"+q, "", nil, nil); !strings.Contains(body, want) {
			t.Errorf("%s: %s does not mention %s", q, body, want)
		}
	}
	wantError(t, http.MethodGet, base+assets.SimilarItems+"/history?partition=2026-11-23T10", nil, http.StatusBadRequest)
	wantError(t, http.MethodGet, base+"no.such/history", nil, http.StatusNotFound)
	wantError(t, http.MethodGet, base+"%00/history", nil, http.StatusBadRequest)
}

// fakeRuns stands in for Temporal's visibility store.
type fakeRuns struct {
	mu   sync.Mutex
	got  []runs.Filter
	runs []runs.Run
	err  error
}

func (f *fakeRuns) Recent(_ context.Context, flt runs.Filter) ([]runs.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, flt)
	return f.runs, f.err
}

func TestRecentRuns(t *testing.T) {
	started := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	closed := started.Add(time.Minute)
	fr := &fakeRuns{runs: []runs.Run{
		{Job: workflows.BuildSimilarityName, WorkflowID: "materialize-model.similar", RunID: "run-2", Status: "Running", StartedAt: started.Add(time.Hour),
			Trigger: "manual:web:model.similar"},
		{Job: workflows.NoopBatchName, WorkflowID: "noop/1", RunID: "run-1", Status: "Completed", StartedAt: started, ClosedAt: &closed,
			Trigger: "schedule:noop"},
	}}
	srv := opsServer(t, api.Deps{Runs: fr, TemporalUIURL: "http://ui:8233/", TemporalNamespace: "curio"})

	var body struct {
		Runs     []api.RunView `json:"runs"`
		Statuses []string      `json:"statuses"`
		Jobs     []string      `json:"jobs"`
	}
	get(t, srv.URL+"/api/runs?job="+workflows.BuildSimilarityName+"&status=running&limit=5", http.StatusOK, &body)
	if len(fr.got) != 1 || fr.got[0] != (runs.Filter{Job: workflows.BuildSimilarityName, Status: "Running", Limit: 5}) {
		t.Errorf("filter passed on: %+v", fr.got)
	}
	if len(body.Runs) != 2 || len(body.Statuses) == 0 || len(body.Jobs) == 0 {
		t.Fatalf("runs: %+v", body)
	}
	r := body.Runs[0]
	if r.Trigger != "manual:web:model.similar" || r.Status != "Running" || r.ClosedAt != nil ||
		r.TemporalUI != "http://ui:8233/namespaces/curio/workflows/materialize-model.similar/run-2/history" ||
		len(r.Assets) != 1 || r.Assets[0] != assets.SimilarItems {
		t.Errorf("running run: %+v", r)
	}
	if r := body.Runs[1]; r.TemporalUI != "http://ui:8233/namespaces/curio/workflows/noop%2F1/run-1/history" || r.ClosedAt == nil || r.Assets == nil {
		t.Errorf("closed run: %+v", r)
	}
	get(t, srv.URL+"/api/runs", http.StatusOK, nil)
	if f := fr.got[len(fr.got)-1]; f != (runs.Filter{Limit: api.DefaultRunsLimit}) {
		t.Errorf("default filter: %+v", f)
	}

	calls := len(fr.got)
	for _, q := range []string{"?job=Nope", "?status=Sleeping", "?limit=0", "?limit=201", "?limit=ten"} {
		wantError(t, http.MethodGet, srv.URL+"/api/runs"+q, nil, http.StatusBadRequest)
	}
	if len(fr.got) != calls {
		t.Errorf("bad parameters reached Temporal")
	}
	fr.err = serviceerror.NewUnavailable("connection refused")
	wantError(t, http.MethodGet, srv.URL+"/api/runs", nil, http.StatusServiceUnavailable)

	// Without Temporal the list is unavailable, and says why.
	off := opsServer(t, api.Deps{})
	resp := wantError(t, http.MethodGet, off.URL+"/api/runs", nil, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// started records the runs a mock Temporal client was asked to start.
type started struct {
	mu   sync.Mutex
	opts []client.StartWorkflowOptions
	jobs []string
	ins  []any
}

func (s *started) record(args mock.Arguments) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts = append(s.opts, args.Get(1).(client.StartWorkflowOptions))
	s.jobs = append(s.jobs, args.Get(2).(string))
	s.ins = append(s.ins, args.Get(3))
}

func (s *started) last(t *testing.T) (client.StartWorkflowOptions, string, any) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.opts) == 0 {
		t.Fatal("nothing was started")
	}
	i := len(s.opts) - 1
	return s.opts[i], s.jobs[i], s.ins[i]
}

// triggerOf reads the trigger memo and search attribute a run was started with.
func triggerOf(t *testing.T, o client.StartWorkflowOptions) string {
	t.Helper()
	memo, _ := o.Memo[pipeline.TriggerMemo].(string)
	attr, ok := o.TypedSearchAttributes.GetKeyword(runs.TriggerKey)
	if !ok || attr != memo {
		t.Errorf("trigger memo %q, search attribute %q (set: %v): want them equal", memo, attr, ok)
	}
	return memo
}

func TestMaterialize(t *testing.T) {
	tc := &mocks.Client{}
	var st started
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(fakeRun{}, nil).Run(st.record)
	srv := opsServer(t, api.Deps{Admin: &api.Admin{Token: token, Temporal: tc, TaskQueue: "q"}, TemporalUIURL: "http://ui", TemporalNamespace: "default"})
	post := func(path, body string, hdr map[string]string) (*http.Response, string) {
		return do(t, http.MethodPost, srv.URL+path, token, []byte(body), hdr)
	}
	web := map[string]string{"X-Curio-Client": "web"}

	resp, body := post("/api/admin/materialize", `{"asset":"model.similar"}`, web)
	var got struct {
		Workflow   string `json:"workflow"`
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
		Trigger    string `json:"trigger"`
		TemporalUI string `json:"temporal_ui"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("materialize: %d %s: %v", resp.StatusCode, body, err)
	}
	if resp.StatusCode != http.StatusAccepted || got.Workflow != workflows.BuildSimilarityName || got.RunID != "run-1" ||
		got.Trigger != "manual:web:model.similar" || got.TemporalUI != "http://ui/namespaces/default/workflows/buildtopics-1/run-1/history" {
		t.Errorf("materialize: %d %s", resp.StatusCode, body)
	}
	o, job, in := st.last(t)
	if job != workflows.BuildSimilarityName || o.ID != "materialize-model.similar" || o.TaskQueue != "q" ||
		!o.WorkflowExecutionErrorWhenAlreadyStarted || triggerOf(t, o) != "manual:web:model.similar" {
		t.Errorf("started %s with %+v", job, o)
	}
	if _, ok := in.(*workflows.BuildSimilarityInput); !ok {
		t.Errorf("input %T, want the job's defaults", in)
	}

	// A partitioned asset runs its job with the partition's input.
	if resp, body := post("/api/admin/materialize", `{"asset":"agg.upload_hourly","partition":"2026-11-23T10"}`, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("partition: %d %s", resp.StatusCode, body)
	}
	o, job, in = st.last(t)
	hr := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if job != workflows.AggregateUploadsName || o.ID != "materialize-agg.upload_hourly-2026-11-23T10" ||
		triggerOf(t, o) != "manual:api:agg.upload_hourly[2026-11-23T10]" {
		t.Errorf("started %s with %+v", job, o)
	}
	if h, ok := in.(workflows.HourlyInput); !ok || !h.From.Equal(hr) || !h.To.Equal(hr.Add(time.Hour)) {
		t.Errorf("partition input %#v", in)
	}

	n := len(st.opts)
	for body, want := range map[string]string{
		`{"asset":"no.such"}`:                                       "unknown asset",
		`{"asset":"agg.upload_hourly"}`:                             "name a partition",
		`{"asset":"agg.upload_hourly","partition":"2026-11-23"}`:    "no partition",
		`{"asset":"model.similar","partition":"2026-11-23T10"}`:     "not partitioned",
		`{"asset":"model.similar","extra":1}`:                       "invalid JSON",
		`not json`:                                                  "invalid JSON",
		`{"asset":"agg.upload_hourly","partition":"a\u0000b"}`:      "partition",
		`{"asset":"model.similar"} {"asset":"model.similar"}`:       "trailing",
		`{"asset":"agg.upload_hourly","partition":"2026-13-01T00"}`: "no partition",
	} {
		resp, got := post("/api/admin/materialize", body, web)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, want) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", body, resp.StatusCode, got, want)
		}
	}
	if len(st.opts) != n {
		t.Errorf("refused requests started %d runs", len(st.opts)-n)
	}

	// Runs and backfills started through the admin API carry their trigger too.
	if resp, body := post("/api/admin/runs", `{"workflow":"BuildTopics"}`, nil); resp.StatusCode != http.StatusAccepted || !strings.Contains(body, `"trigger":"manual:api"`) {
		t.Errorf("run: %d %s", resp.StatusCode, body)
	}
	if o, _, _ := st.last(t); triggerOf(t, o) != "manual:api" {
		t.Errorf("run trigger %q", triggerOf(t, o))
	}
	if resp, body := post("/api/admin/backfills", `{"asset":"events.raw_events","only":["missing"]}`, web); resp.StatusCode != http.StatusAccepted {
		t.Errorf("backfill: %d %s", resp.StatusCode, body)
	}
	if o, job, in := st.last(t); job != workflows.BackfillName || triggerOf(t, o) != "manual:web:events.raw_events" ||
		len(in.(*workflows.BackfillInput).Only) != 1 {
		t.Errorf("backfill %s %+v: trigger %q", job, in, triggerOf(t, o))
	}
}

func TestMaterializeErrors(t *testing.T) {
	// Disabled, refused, then already running.
	off := opsServer(t, api.Deps{})
	resp, body := do(t, http.MethodPost, off.URL+"/api/admin/materialize", token, []byte(`{"asset":"model.similar"}`), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "CURIO_ADMIN_TOKEN") {
		t.Errorf("disabled: %d %s", resp.StatusCode, body)
	}
	tc := &mocks.Client{}
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "req-1", "run-0"))
	srv := opsServer(t, api.Deps{Admin: &api.Admin{Token: token, Temporal: tc, TaskQueue: "q"}})
	resp, body = do(t, http.MethodPost, srv.URL+"/api/admin/materialize", "wrong", []byte(`{"asset":"model.similar"}`), nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Errorf("wrong token: %d %s", resp.StatusCode, body)
	}
	tc.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
	resp, body = do(t, http.MethodPost, srv.URL+"/api/admin/materialize", token, []byte(`{"asset":"model.similar"}`), nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already running") ||
		!strings.Contains(body, `"workflow_id":"materialize-model.similar"`) || !strings.Contains(body, `"run_id":"run-0"`) {
		t.Errorf("running: %d %s", resp.StatusCode, body)
	}
	// Temporal down is a 503, not a 500.
	down := &mocks.Client{}
	down.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, serviceerror.NewUnavailable("down"))
	srv = opsServer(t, api.Deps{Admin: &api.Admin{Token: token, Temporal: down, TaskQueue: "q"}})
	resp, body = do(t, http.MethodPost, srv.URL+"/api/admin/materialize", token, []byte(`{"asset":"model.similar"}`), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "down") {
		t.Errorf("temporal down: %d %s", resp.StatusCode, body)
	}
}
