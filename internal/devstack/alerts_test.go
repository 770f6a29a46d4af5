package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// flakyReceiver is a generic webhook that answers 500 to the first two attempts at each
// notice, then 200, and keeps every accepted notice.
type flakyReceiver struct {
	t        *testing.T
	secret   []byte
	mu       sync.Mutex
	attempts map[string]int
	accepted []alerts.GenericMessage
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !alerts.Verify(f.secret, r.Header.Get(alerts.HeaderTimestamp), body, r.Header.Get(alerts.HeaderSignature)) {
		f.t.Errorf("notice with a bad signature: %s", body)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.Header.Get(alerts.HeaderDelivery)
	f.attempts[key]++
	if f.attempts[key] <= 2 {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	var m alerts.GenericMessage
	if err := json.Unmarshal(body, &m); err != nil {
		f.t.Errorf("notice %s: %v", body, err)
	}
	f.accepted = append(f.accepted, m)
}

func (f *flakyReceiver) snapshot() ([]alerts.GenericMessage, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	attempts := map[string]int{}
	for k, v := range f.attempts {
		attempts[k] = v
	}
	return append([]alerts.GenericMessage(nil), f.accepted...), attempts
}

type maybeFail struct {
	Fail bool `json:"fail"`
}

// TestAlertDeliveredOncePerIncident: a failed run opens an incident whose notice reaches a
// receiver that answers 500 twice first, exactly once; a later successful run resolves it,
// and the resolved notice also arrives exactly once.
func TestAlertDeliveredOncePerIncident(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	secret := []byte("test-secret-0123456789")
	recv := &flakyReceiver{t: t, secret: secret, attempts: map[string]int{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	hooks, err := alerts.ParseWebhooks("generic=" + srv.URL + "/hook")
	if err != nil {
		t.Fatal(err)
	}
	cfg.AlertWebhooks, cfg.AlertHMACSecret = hooks, string(secret)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	job := pipeline.Job{Name: "SometimesFails", Description: "fails when asked to", Input: func() any { return &maybeFail{} },
		Workflow: func(_ workflow.Context, in maybeFail) error {
			if in.Fail {
				return temporal.NewNonRetryableApplicationError("asked to fail", "Asked", nil)
			}
			return nil
		}}
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true, Jobs: []pipeline.Job{job}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	if _, err := stack.StartAutomation(ctx, workflows.AutomationInput{Interval: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	run := func(id string, fail bool) {
		t.Helper()
		r, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, job.Name, maybeFail{Fail: fail})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Get(ctx, nil); (err != nil) != fail {
			t.Fatalf("%s: %v", id, err)
		}
	}
	states := func(want string) int {
		got, _ := recv.snapshot()
		n := 0
		for _, m := range got {
			if m.State == want {
				n++
			}
		}
		return n
	}

	run("sometimes-1", true)
	waitFor(t, time.Minute, "the open notice", func() bool { return states(alerts.StateOpen) == 1 })
	run("sometimes-2", false)
	waitFor(t, time.Minute, "the resolved notice", func() bool { return states(alerts.StateResolved) == 1 })
	time.Sleep(3 * time.Second) // more ticks: nothing more may arrive

	got, attempts := recv.snapshot()
	if len(got) != 2 {
		t.Fatalf("accepted notices %+v, want one open and one resolved", got)
	}
	for _, m := range got {
		if m.Kind != alerts.KindRunFailed || m.Key != alerts.RunFailedKey(job.Name) || m.IncidentID != got[0].IncidentID {
			t.Errorf("notice %+v", m)
		}
		if n := attempts[m.Delivery]; n != 3 {
			t.Errorf("notice %s took %d attempts, want 3 (two 500s, then 200)", m.Delivery, n)
		}
	}
	if got[1].State != alerts.StateResolved || got[1].ResolvedAt == nil {
		t.Errorf("second notice %+v, want the resolved one", got[1])
	}
}
