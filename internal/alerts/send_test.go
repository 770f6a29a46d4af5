package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/alerts"
)

var (
	opened   = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	resolved = opened.Add(42 * time.Minute)
)

func delivery(state string) alerts.Delivery {
	d := alerts.Delivery{ID: 7, IncidentID: 12, Webhook: "x", State: state, OpenedAt: opened,
		Incident: alerts.Incident{Key: alerts.RunFailedKey("BuildSimilarity"), Kind: alerts.KindRunFailed,
			Summary: "run failed — BuildSimilarity", Detail: "workflow sim-1 (run r1) failed <at> 09:00 & more",
			URL: "http://ui.local/namespaces/default/workflows/sim-1/r1/history"}}
	if state == alerts.StateResolved {
		d.ResolvedAt = &resolved
	}
	return d
}

type received struct {
	header http.Header
	body   []byte
}

// receiver records requests and answers with statuses in turn (the last one repeats).
func receiver(t *testing.T, statuses ...int) (*httptest.Server, *[]received) {
	t.Helper()
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, received{r.Header.Clone(), b})
		s := statuses[min(len(got), len(statuses))-1]
		w.WriteHeader(s)
		_, _ = io.WriteString(w, http.StatusText(s)+" "+strings.Repeat("x", 500))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestWebhookSendSlack(t *testing.T) {
	srv, got := receiver(t, http.StatusOK)
	w := alerts.Webhook{Kind: alerts.WebhookSlack, URL: srv.URL + "/services/T/B/X"}
	for _, state := range []string{alerts.StateOpen, alerts.StateResolved} {
		if err := alerts.Send(context.Background(), srv.Client(), w, []byte("secret-0123456789"), delivery(state)); err != nil {
			t.Fatal(err)
		}
	}
	if len(*got) != 2 {
		t.Fatalf("%d requests", len(*got))
	}
	var open, done alerts.SlackMessage
	if err := json.Unmarshal((*got)[0].body, &open); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal((*got)[1].body, &done); err != nil {
		t.Fatal(err)
	}
	if open.Text != ":rotating_light: Curio: run failed — BuildSimilarity" {
		t.Errorf("open text %q", open.Text)
	}
	if done.Text != ":white_check_mark: Curio: resolved — run failed — BuildSimilarity (after 42m)" {
		t.Errorf("resolved text %q", done.Text)
	}
	if len(open.Blocks) != 2 || open.Blocks[0].Text == nil ||
		!strings.Contains(open.Blocks[0].Text.Text, "failed &lt;at&gt; 09:00 &amp; more") ||
		!strings.Contains(open.Blocks[0].Text.Text, "<http://ui.local/namespaces/default/workflows/sim-1/r1/history|Open>") ||
		!strings.Contains(open.Blocks[1].Elements[0].Text, "`run_failed:BuildSimilarity`") {
		t.Errorf("blocks: %s", (*got)[0].body)
	}
	h := (*got)[0].header
	if h.Get(alerts.HeaderDelivery) != "12-open" || (*got)[1].header.Get(alerts.HeaderDelivery) != "12-resolved" ||
		h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	if h.Get(alerts.HeaderSignature) != "" {
		t.Errorf("slack notices are not signed: %v", h)
	}
}

func TestWebhookSendGenericSignedAndVerify(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent)
	secret := []byte("secret-0123456789")
	w := alerts.Webhook{Kind: alerts.WebhookGeneric, URL: srv.URL}
	if err := alerts.Send(context.Background(), nil, w, secret, delivery(alerts.StateResolved)); err != nil {
		t.Fatal(err)
	}
	if err := alerts.Send(context.Background(), nil, w, nil, delivery(alerts.StateOpen)); err != nil {
		t.Fatal(err)
	}
	r := (*got)[0]
	ts, sig := r.header.Get(alerts.HeaderTimestamp), r.header.Get(alerts.HeaderSignature)
	if !strings.HasPrefix(sig, "sha256=") || !alerts.Verify(secret, ts, r.body, sig) {
		t.Fatalf("signature %q at %q does not verify", sig, ts)
	}
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("timestamp %q: want the Unix time in seconds", ts)
	}
	for name, ok := range map[string]bool{
		"other secret":    alerts.Verify([]byte("another-secret-012"), ts, r.body, sig),
		"other body":      alerts.Verify(secret, ts, append([]byte(" "), r.body...), sig),
		"other timestamp": alerts.Verify(secret, ts+"1", r.body, sig),
		"no secret":       alerts.Verify(nil, ts, r.body, sig),
		"no signature":    alerts.Verify(secret, ts, r.body, ""),
	} {
		if ok {
			t.Errorf("%s verifies", name)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"delivery": "12-resolved", "incident_id": 12.0, "kind": "run_failed", "key": "run_failed:BuildSimilarity",
		"state": "resolved", "summary": "run failed — BuildSimilarity", "detail": "workflow sim-1 (run r1) failed <at> 09:00 & more",
		"url": "http://ui.local/namespaces/default/workflows/sim-1/r1/history", "opened_at": "2026-03-01T09:00:00Z",
		"resolved_at": "2026-03-01T09:42:00Z"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("fields %v", m)
	}
	open := (*got)[1]
	if open.header.Get(alerts.HeaderSignature) != "" || open.header.Get(alerts.HeaderDelivery) != "12-open" {
		t.Errorf("unsigned open notice headers: %v", open.header)
	}
	if !strings.Contains(string(open.body), `"resolved_at":null`) {
		t.Errorf("open notice: %s", open.body)
	}
}

func TestWebhookSendErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		status    int
		retryable bool
	}{
		{500, true}, {503, true}, {408, true}, {429, true}, {400, false}, {403, false}, {404, false}, {410, false},
	} {
		srv, _ := receiver(t, tc.status)
		w := alerts.Webhook{Kind: alerts.WebhookSlack, URL: srv.URL + "/services/XXXXSECRETXXXX"}
		err := alerts.Send(ctx, nil, w, nil, delivery(alerts.StateOpen))
		var se *alerts.SendError
		if !errors.As(err, &se) || se.Status != tc.status || se.Retryable != tc.retryable || alerts.Retryable(err) != tc.retryable {
			t.Errorf("%d: %#v", tc.status, err)
			continue
		}
		if len(se.Body) != 200 || !strings.HasPrefix(se.Body, http.StatusText(tc.status)) {
			t.Errorf("%d: body %q: want the first 200 bytes", tc.status, se.Body)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%d: error shows the URL: %v", tc.status, err)
		}
	}

	// Retry-After is kept.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	var se *alerts.SendError
	if err := alerts.Send(ctx, nil, alerts.Webhook{Kind: "generic", URL: srv.URL}, nil, delivery("open")); !errors.As(err, &se) || se.RetryAfter != 30*time.Second {
		t.Errorf("429 with Retry-After: %v", err)
	}

	// No receiver: retryable, and the transport error does not carry the URL.
	srv.Close()
	err := alerts.Send(ctx, nil, alerts.Webhook{Kind: "slack", URL: srv.URL + "/services/XXXXSECRETXXXX"}, nil, delivery("open"))
	if !errors.As(err, &se) || !se.Retryable || se.Status != 0 || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("unreachable: %v", err)
	}

	// A cancelled context is retryable too (the activity's next attempt).
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := alerts.Send(cctx, nil, alerts.Webhook{Kind: "slack", URL: "http://127.0.0.1:1/XXXXSECRETXXXX"}, nil, delivery("open")); !alerts.Retryable(err) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("cancelled: %v", err)
	}
}
