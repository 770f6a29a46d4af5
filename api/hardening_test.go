package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/workflows"
)

// backends stand in for PostgreSQL and MySQL and count the calls that reach them. The
// embedded (nil) interface keeps the fake compiling when ActivityReader grows.
type backends struct {
	api.ActivityReader
	calls atomic.Int64
}

func (b *backends) Lag(context.Context) ([]ingest.PartitionLag, error) { return nil, nil }

func (b *backends) Trending(context.Context, time.Time, time.Duration, []string, int) ([]ingest.ItemCount, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) ItemTrend(context.Context, string, time.Time, time.Time) ([]ingest.TrendPoint, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) UploadsByCountry(context.Context) ([]ingest.CountryCount, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) Stats(context.Context) (ingest.Stats, error) { return ingest.Stats{}, nil }

func (b *backends) UploadsDaily(context.Context, time.Time, time.Time) ([]ingest.DayCount, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) TrendingTerms(_ context.Context, size string, at time.Time, _ int) (ingest.TermsWindow, error) {
	b.calls.Add(1)
	return ingest.TermsWindow{}, nil
}

func (b *backends) ModelRow(context.Context, string, string) ([]byte, error) {
	b.calls.Add(1)
	return nil, mysql.ErrNotFound
}

func (b *backends) TopModelRows(context.Context, string, int) ([]mysql.ModelRow, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) LatestMaterializations(context.Context, string) (map[string]assets.Materialization, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) LastSuccess(context.Context) (map[string]time.Time, error) {
	b.calls.Add(1)
	return nil, nil
}

func (b *backends) EventHourRange(context.Context) (time.Time, time.Time, error) {
	b.calls.Add(1)
	return time.Time{}, time.Time{}, nil
}

// countingItems counts the item lookups that reach the database.
type countingItems struct {
	items
	calls *atomic.Int64
}

func (c countingItems) ItemsByID(ctx context.Context, ids []string) (map[string]mysql.Item, error) {
	c.calls.Add(1)
	return c.items.ItemsByID(ctx, ids)
}

func fullServer(t *testing.T, admin *api.Admin) (string, *backends) {
	t.Helper()
	b := &backends{}
	srv := opsServer(t, api.Deps{
		Items:    countingItems{items{"tt0133093": {ID: "tt0133093", Type: "movie", Title: "The Matrix", Year: 1999}}, &b.calls},
		Activity: b, Models: b, Assets: b, Admin: admin,
		Static: fstest.MapFS{"index.html": {Data: []byte(`<main id="app"></main>`)}},
	})
	return srv.URL, b
}

// wantError asserts a JSON error answer with the given status.
func wantError(t *testing.T, method, url string, body []byte, status int) *http.Response {
	t.Helper()
	resp, got := do(t, method, url, token, body, nil)
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(got, `"error":"`) {
		t.Errorf("%s %s = %d %q (%s), want %d with a JSON error", method, url, resp.StatusCode, got, resp.Header.Get("Content-Type"), status)
	}
	return resp
}

func TestPathIDsAreValidated(t *testing.T) {
	base, b := fullServer(t, nil)
	long := strings.Repeat("x", api.MaxIDLen+1)
	for _, id := range []string{"%00", "%ff", "%ED%A0%80" /* lone surrogate */, "a%01b", "a%7Fb", "%C2%85" /* C1 control */, long} {
		for _, path := range []string{
			"/api/items/" + id, "/api/items/" + id + "/trend", "/api/movies/" + id + "/similar", "/api/artworks/" + id + "/similar",
			"/api/movies/" + id + "/topics", "/api/artworks/" + id + "/topics", "/api/topics/" + id + "/items",
			"/api/ads/" + id, "/api/assets/" + id,
		} {
			wantError(t, http.MethodGet, base+path, nil, http.StatusBadRequest)
		}
	}
	if n := b.calls.Load(); n != 0 {
		t.Errorf("invalid ids reached the databases %d times", n)
	}
	// Valid ids still work, including non-ASCII ones.
	for path, want := range map[string]int{
		"/api/items/tt0133093": 200, "/api/items/tt0133093/trend": 200, "/api/items/%C3%A9t%C3%A9/trend": 200,
		"/api/items/%C3%A9t%C3%A9": 404, "/api/ads/u1": 200, "/api/movies/tt0133093/similar": 200,
		"/api/topics/3/items": 404, "/api/assets/" + assets.RawEvents: 200, "/api/items/" + long[1:]: 404,
	} {
		if resp, body := do(t, http.MethodGet, base+path, "", nil, nil); resp.StatusCode != want {
			t.Errorf("GET %s = %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
}

func TestTimeParametersAreBounded(t *testing.T) {
	base, b := fullServer(t, nil)
	now := time.Now().UTC()
	future := now.Add(49 * time.Hour)
	for _, q := range []string{
		"/api/terms/trending?at=9999-12-31T23:00:00Z", "/api/terms/trending?at=1969-12-31T23:59:59Z",
		"/api/terms/trending?at=" + future.Format(time.RFC3339), "/api/terms/trending?at=yesterday",
		"/api/items/tt0133093/trend?from=9999-12-31T22:00:00Z&to=9999-12-31T23:00:00Z",
		"/api/items/tt0133093/trend?from=0001-01-01T00:00:00Z&to=0001-01-01T01:00:00Z",
		"/api/uploads/daily?from=9999-12-01&to=9999-12-31", "/api/uploads/daily?from=0001-01-01&to=0001-02-01",
		"/api/uploads/daily?to=" + future.Format(time.DateOnly),
	} {
		wantError(t, http.MethodGet, base+q, nil, http.StatusBadRequest)
	}
	if n := b.calls.Load(); n != 0 {
		t.Errorf("out-of-range times reached the databases %d times", n)
	}
	for _, q := range []string{
		"/api/terms/trending?at=" + now.Add(time.Hour).Format(time.RFC3339), "/api/terms/trending?at=1970-01-01T00:00:00Z",
		"/api/items/tt0133093/trend?from=" + now.Add(-time.Hour).Format(time.RFC3339),
		"/api/uploads/daily?from=" + now.AddDate(0, 0, -3).Format(time.DateOnly) + "&to=" + now.Format(time.DateOnly),
	} {
		if resp, body := do(t, http.MethodGet, base+q, "", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d %s", q, resp.StatusCode, body)
		}
	}
}

func TestWrongMethodIs405(t *testing.T) {
	base, _ := fullServer(t, &api.Admin{Token: token, Temporal: &mocks.Client{}, TaskQueue: "q"})
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPost, "/api/search?q=x", "GET"},
		{http.MethodDelete, "/api/items/tt0133093", "GET"},
		{http.MethodGet, "/api/admin/runs", "POST"},
		{http.MethodPut, "/api/admin/backfills", "POST"},
		{http.MethodPost, "/index.html", "GET, HEAD"}, // the web app's files
		{http.MethodPost, "/", "GET, HEAD"},
	} {
		resp := wantError(t, tc.method, base+tc.path, nil, http.StatusMethodNotAllowed)
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	// Unknown API paths stay 404 whatever the method; the web app is still served.
	wantError(t, http.MethodGet, base+"/api/nope", nil, http.StatusNotFound)
	wantError(t, http.MethodPost, base+"/api/nope", nil, http.StatusNotFound)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		if resp, _ := do(t, m, base+"/", "", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s / = %d", m, resp.StatusCode)
		}
	}
	if resp, body := do(t, http.MethodGet, base+"/metrics", "", nil, nil); resp.StatusCode != 200 ||
		!strings.Contains(body, `curio_http_requests_total{code="405",method="POST",route="unmatched"}`) {
		t.Errorf("metrics do not label 405s as unmatched: %s", grepLines(body, `code="405"`))
	}
}

func TestStartingARunningWorkflowIsAConflict(t *testing.T) {
	tc := &mocks.Client{}
	strict := mock.MatchedBy(func(o client.StartWorkflowOptions) bool { return o.WorkflowExecutionErrorWhenAlreadyStarted })
	tc.On("ExecuteWorkflow", mock.Anything, strict, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "req-1", "run-0"))
	base, _ := fullServer(t, &api.Admin{Token: token, Temporal: tc, TaskQueue: "q"})
	for path, body := range map[string]string{
		"/api/admin/runs":      `{"workflow":"BuildTopics","id":"topics-nightly"}`,
		"/api/admin/backfills": `{"asset":"events.raw_events","only":["missing"]}`,
	} {
		resp, got := do(t, http.MethodPost, base+path, token, []byte(body), nil)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(got, "already running") || !strings.Contains(got, `"run_id":"run-0"`) {
			t.Errorf("%s: %d %s, want 409 naming the running workflow", path, resp.StatusCode, got)
		}
		if path == "/api/admin/runs" && !strings.Contains(got, `"workflow_id":"topics-nightly"`) {
			t.Errorf("%s: %s does not name the workflow id", path, got)
		}
	}
	tc.AssertNumberOfCalls(t, "ExecuteWorkflow", 2)
}

func TestBackfillRangesAreCheckedBeforeStarting(t *testing.T) {
	tc := &mocks.Client{}
	var started []*workflows.BackfillInput
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.BackfillName, mock.Anything).Return(fakeRun{}, nil).
		Run(func(args mock.Arguments) { started = append(started, args.Get(3).(*workflows.BackfillInput)) })
	base, _ := fullServer(t, &api.Admin{Token: token, Temporal: tc, TaskQueue: "q", MaxBackfillPartitions: 48})
	for body, want := range map[string]string{
		`{"asset":"events.raw_events","from":"not-a-date"}`:                                            `\"not-a-date\"`,
		`{"asset":"events.raw_events","from":"2026-11-20","to":"2026-11-19"}`:                          "must be before",
		`{"asset":"events.raw_events","from":"1970-01-01T00","to":"2199-12-31T00","dry_run":true}`:     "a day from now",
		`{"asset":"events.raw_events","from":"1970-01-01T00","to":"2026-11-01T00","dry_run":true}`:     "at most 48",
		`{"asset":"events.raw_events","from":"2026-11-20","to":"2026-11-23","max_partitions":1000000}`: "at most 48",
	} {
		resp, got := do(t, http.MethodPost, base+"/api/admin/backfills", token, []byte(body), nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, want) {
			t.Errorf("%s: %d %s, want 400 mentioning %s", body, resp.StatusCode, got, want)
		}
	}
	if len(started) != 0 {
		t.Fatalf("started %d backfills of refused ranges", len(started))
	}
	resp, got := do(t, http.MethodPost, base+"/api/admin/backfills", token, []byte(`{"asset":"events.raw_events","from":"2026-11-20T00","to":"2026-11-22T00"}`), nil)
	if resp.StatusCode != http.StatusAccepted || len(started) != 1 || started[0].MaxPartitions != 48 {
		t.Errorf("a 48-partition backfill: %d %s, started %+v", resp.StatusCode, got, started)
	}
}
