package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/workflows"
)

const token = "0123456789abcdef-test-token"

func opsServer(t *testing.T, d api.Deps) *httptest.Server {
	t.Helper()
	src := &source{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := serving.NewHolder(src, logger)
	src.publish(t, "v1", search.Doc{ID: "tt0133093", Type: "movie", Title: "The Matrix", Year: 1999})
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Items == nil {
		d.Items = items{"tt0133093": {ID: "tt0133093", Type: "movie", Title: "The Matrix", Year: 1999}}
	}
	d.Index, d.Logger = h, logger
	srv := httptest.NewServer(api.New(d))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, auth string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

type fakeRun struct{ client.WorkflowRun }

func (fakeRun) GetID() string    { return "buildtopics-1" }
func (fakeRun) GetRunID() string { return "run-1" }

func TestAdminEndpointsRequireToken(t *testing.T) {
	// Disabled without a token: state cannot change at all.
	off := opsServer(t, api.Deps{})
	if resp, body := do(t, http.MethodPost, off.URL+"/api/admin/runs", token, []byte(`{"workflow":"BuildTopics"}`), nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "CURIO_ADMIN_TOKEN") {
		t.Errorf("disabled admin: %d %s", resp.StatusCode, body)
	}

	tc := &mocks.Client{}
	tc.On("ExecuteWorkflow", mock.Anything, mock.MatchedBy(func(o client.StartWorkflowOptions) bool { return o.TaskQueue == "q" }),
		workflows.BuildTopicsName, mock.MatchedBy(func(in *workflows.BuildTopicsInput) bool { return in.K == 7 })).Return(fakeRun{}, nil).Once()
	srv := opsServer(t, api.Deps{Admin: &api.Admin{Token: token, Temporal: tc, TaskQueue: "q"}, TemporalUIURL: "http://ui", TemporalNamespace: "default"})
	run := []byte(`{"workflow":"BuildTopics","input":{"k":7}}`)
	for name, auth := range map[string]string{"no token": "", "wrong token": token + "x", "prefix of token": token[:10]} {
		resp, body := do(t, http.MethodPost, srv.URL+"/api/admin/runs", auth, run, nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(body, token) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	resp, body := do(t, http.MethodPost, srv.URL+"/api/admin/runs", token, run, nil)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(body, `"workflow_id":"buildtopics-1"`) || !strings.Contains(body, "http://ui/namespaces/default/workflows/buildtopics-1/run-1/history") {
		t.Errorf("start run: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{`{"workflow":"Nope"}`, `{"workflow":"BuildTopics","input":{"kk":1}}`, `{"workflow":"BuildTopics","extra":1}`, `not json`} {
		if resp, body := do(t, http.MethodPost, srv.URL+"/api/admin/runs", token, []byte(bad), nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
	if resp, body := do(t, http.MethodPost, srv.URL+"/api/admin/backfills", token, []byte(`{"asset":"no.such"}`), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("backfill of unknown asset: %d %s", resp.StatusCode, body)
	}
	tc.AssertExpectations(t)
	// Reads stay public.
	if resp, _ := do(t, http.MethodGet, srv.URL+"/api/search?q=matrix", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("search without token: %d", resp.StatusCode)
	}
}

func TestRequestSizeLimit(t *testing.T) {
	srv := opsServer(t, api.Deps{Admin: &api.Admin{Token: token, Temporal: &mocks.Client{}, TaskQueue: "q"}, Limits: api.Limits{MaxBody: 1024}})
	big := []byte(`{"workflow":"BuildTopics","input":{"k":` + strings.Repeat(" ", 4096) + `1}}`)
	if resp, body := do(t, http.MethodPost, srv.URL+"/api/admin/runs", token, big, nil); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", resp.StatusCode, body)
	}
}

// slowItems blocks until the request's context ends.
type slowItems struct{}

func (slowItems) ItemsByID(ctx context.Context, _ []string) (map[string]mysql.Item, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestRequestTimeLimit(t *testing.T) {
	srv := opsServer(t, api.Deps{Items: slowItems{}, Limits: api.Limits{Timeout: 100 * time.Millisecond}})
	start := time.Now()
	resp, body := do(t, http.MethodGet, srv.URL+"/api/search?q=matrix", "", nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "timed out") {
		t.Errorf("slow request: %d %s", resp.StatusCode, body)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the time limit did not cut the request short: %v", took)
	}
}

func TestSearchRateLimitPerClient(t *testing.T) {
	srv := opsServer(t, api.Deps{Limits: api.Limits{SearchRate: 0.5, SearchBurst: 3}})
	codes := []int{}
	for range 5 {
		// A forged X-Forwarded-For must not count as another client (no trusted proxies).
		resp, body := do(t, http.MethodGet, srv.URL+"/api/search?q=matrix", "", nil, map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('1'+len(codes)))})
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && (resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error"`)) {
			t.Errorf("429 without Retry-After or JSON error: %v %s", resp.Header, body)
		}
	}
	want := []int{200, 200, 200, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("status codes %v, want %v", codes, want)
		}
	}
	// Other endpoints are not limited.
	if resp, _ := do(t, http.MethodGet, srv.URL+"/livez", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("livez while rate limited: %d", resp.StatusCode)
	}
	resp, body := do(t, http.MethodGet, srv.URL+"/metrics", "", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "curio_http_rate_limited_total 2") {
		t.Errorf("metrics do not count the refusals: %s", grepLines(body, "rate_limited"))
	}
}

func TestMetricsAndProbes(t *testing.T) {
	ready := errors.New("database down")
	srv := opsServer(t, api.Deps{Ready: func(context.Context) error { return ready }})
	if resp, _ := do(t, http.MethodGet, srv.URL+"/livez", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("livez: %d", resp.StatusCode)
	}
	if resp, body := do(t, http.MethodGet, srv.URL+"/readyz", "", nil, nil); resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "database down") {
		t.Errorf("readyz with a database down: %d %s", resp.StatusCode, body)
	}
	ready = nil
	if resp, _ := do(t, http.MethodGet, srv.URL+"/readyz", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("readyz: %d", resp.StatusCode)
	}
	do(t, http.MethodGet, srv.URL+"/api/search?q=matrix", "", nil, nil)
	do(t, http.MethodGet, srv.URL+"/api/search?q=", "", nil, nil)
	_, body := do(t, http.MethodGet, srv.URL+"/metrics", "", nil, nil)
	for _, want := range []string{
		`curio_http_requests_total{code="200",method="GET",route="/api/search"} 1`,
		`curio_http_requests_total{code="400",method="GET",route="/api/search"} 1`,
		`curio_http_request_duration_seconds_count{route="/api/search"} 2`,
		`curio_search_index_docs 1`,
		`curio_search_index_info{version="v1"} 1`,
		`curio_metrics_warehouse_up 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(body, "curio_"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
