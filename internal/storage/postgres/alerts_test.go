package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/storage/postgres"
)

func incident(job string) alerts.Incident {
	return alerts.Incident{Key: alerts.RunFailedKey(job), Kind: alerts.KindRunFailed, Summary: "run failed — " + job, Detail: "wf " + job}
}

// noticeKey identifies a claimed notice in assertions: incident key, state, webhook.
func noticeKey(d alerts.Delivery) string { return d.Key + " " + d.State + " " + d.Webhook }

func noticeKeys(ds []alerts.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = noticeKey(d)
	}
	return out
}

func TestAlertStoreIncidentLifecycle(t *testing.T) {
	ctx := context.Background()
	st := open(t).Alerts()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	hooks := []string{"slack-a", "generic-b"}
	claim := func(now time.Time) []alerts.Delivery {
		t.Helper()
		ds, err := st.Claim(ctx, postgres.AlertClaim{Webhooks: hooks, Lease: 15 * time.Minute, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	sync := func(now time.Time, open ...alerts.Incident) postgres.AlertSyncResult {
		t.Helper()
		res, err := st.Sync(ctx, alerts.KindRunFailed, open, hooks, now)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	var first int64
	t.Run("opens once", func(t *testing.T) {
		if res := sync(t0, incident("A"), incident("A")); res.Opened != 1 || res.Resolved != 0 {
			t.Fatalf("first sync: %+v", res)
		}
		if res := sync(t0.Add(time.Minute), incident("A")); res.Opened != 0 || res.Resolved != 0 {
			t.Fatalf("second sync: %+v", res)
		}
		open, err := st.OpenIncidents(ctx)
		if err != nil || len(open) != 1 || open[0].Key != "run_failed:A" || !open[0].OpenedAt.Equal(t0) || len(open[0].Notices) != 2 {
			t.Fatalf("open incidents: %+v %v", open, err)
		}
		first = open[0].ID
		ds := claim(t0.Add(time.Minute))
		if got := fmt.Sprint(noticeKeys(ds)); got != "[run_failed:A open slack-a run_failed:A open generic-b]" {
			t.Fatalf("claimed %s", got)
		}
		if d := ds[0]; d.IncidentID != first || d.Summary != "run failed — A" || d.Detail != "wf A" || d.Claim == "" || !d.OpenedAt.Equal(t0) || d.ResolvedAt != nil {
			t.Errorf("delivery %+v", d)
		}
		for _, d := range ds {
			if err := st.Delivered(ctx, d.ID, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if ds := claim(t0.Add(time.Hour)); len(ds) != 0 {
			t.Errorf("delivered notices claimed again: %v", noticeKeys(ds))
		}
	})

	t.Run("resolves once, with a resolved notice per webhook", func(t *testing.T) {
		if res := sync(t0.Add(10*time.Minute), incident("B")); res.Opened != 1 || res.Resolved != 1 {
			t.Fatalf("sync: %+v", res)
		}
		if res := sync(t0.Add(11*time.Minute), incident("B")); res.Opened != 0 || res.Resolved != 0 {
			t.Fatalf("again: %+v", res)
		}
		ds := claim(t0.Add(11 * time.Minute))
		want := "[run_failed:A resolved slack-a run_failed:A resolved generic-b run_failed:B open slack-a run_failed:B open generic-b]"
		if got := fmt.Sprint(noticeKeys(ds)); got != want {
			t.Fatalf("claimed %s, want %s", got, want)
		}
		if ds[0].ResolvedAt == nil || !ds[0].ResolvedAt.Equal(t0.Add(10*time.Minute)) || ds[0].IncidentID != first {
			t.Errorf("resolved notice %+v", ds[0])
		}
		for _, d := range ds {
			if err := st.Delivered(ctx, d.ID, t0.Add(11*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("reopening is a new incident", func(t *testing.T) {
		if res := sync(t0.Add(20*time.Minute), incident("A"), incident("B")); res.Opened != 1 {
			t.Fatalf("sync: %+v", res)
		}
		ds := claim(t0.Add(20 * time.Minute))
		if len(ds) != 2 || ds[0].Key != "run_failed:A" || ds[0].IncidentID == first || ds[0].State != alerts.StateOpen {
			t.Fatalf("claimed %v", ds)
		}
		recent, err := st.RecentIncidents(ctx, 10)
		if err != nil || len(recent) != 3 || recent[0].Key != "run_failed:A" || recent[0].ResolvedAt != nil ||
			recent[2].ID != first || recent[2].ResolvedAt == nil || len(recent[2].Notices) != 4 || recent[2].Notices[0].DeliveredAt == nil {
			t.Fatalf("recent: %+v %v", recent, err)
		}
	})

	t.Run("sync refuses incidents of another kind", func(t *testing.T) {
		if _, err := st.Sync(ctx, alerts.KindCheckFailed, []alerts.Incident{incident("A")}, hooks, t0); err == nil {
			t.Error("want an error")
		}
	})
}

func TestAlertStoreClaimLeaseAndOrder(t *testing.T) {
	ctx := context.Background()
	st := open(t).Alerts()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	hooks := []string{"h1"}
	opts := func(now time.Time) postgres.AlertClaim {
		return postgres.AlertClaim{Webhooks: hooks, Lease: 15 * time.Minute, MaxAge: 24 * time.Hour, Now: now}
	}
	if _, err := st.Sync(ctx, alerts.KindRunFailed, []alerts.Incident{incident("A")}, hooks, t0); err != nil {
		t.Fatal(err)
	}
	ds, err := st.Claim(ctx, opts(t0))
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	d := ds[0]

	t.Run("a claim holds for the lease", func(t *testing.T) {
		if again, _ := st.Claim(ctx, opts(t0.Add(14*time.Minute))); len(again) != 0 {
			t.Errorf("claimed within the lease: %v", noticeKeys(again))
		}
		if ok, err := st.Begin(ctx, d.ID, d.Claim, t0.Add(14*time.Minute)); !ok || err != nil {
			t.Fatalf("begin: %v %v", ok, err)
		}
		// Begin renewed the claim: still held 15 minutes after the claim.
		if again, _ := st.Claim(ctx, opts(t0.Add(15*time.Minute))); len(again) != 0 {
			t.Errorf("claimed within the renewed lease: %v", noticeKeys(again))
		}
		if err := st.Failed(ctx, d.ID, d.Claim, "webhook slack=https://x/…: HTTP 500", t0.Add(20*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Claim(ctx, opts(t0.Add(30*time.Minute))); len(again) != 0 {
			t.Errorf("claimed within the lease renewed by Failed: %v", noticeKeys(again))
		}
	})

	t.Run("resolved waits for open", func(t *testing.T) {
		if _, err := st.Sync(ctx, alerts.KindRunFailed, nil, hooks, t0.Add(31*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Claim(ctx, opts(t0.Add(32*time.Minute))); len(again) != 0 {
			t.Errorf("resolved notice claimed before the open one was sent: %v", noticeKeys(again))
		}
	})

	var stolen alerts.Delivery
	t.Run("after the lease another caller claims it; the old claim no longer sends", func(t *testing.T) {
		again, err := st.Claim(ctx, opts(t0.Add(36*time.Minute)))
		if err != nil || len(again) != 1 || again[0].ID != d.ID || again[0].Claim == d.Claim || again[0].Attempts != 1 {
			t.Fatalf("claim after the lease: %+v %v", again, err)
		}
		stolen = again[0]
		if ok, err := st.Begin(ctx, d.ID, d.Claim, t0.Add(37*time.Minute)); ok || err != nil {
			t.Errorf("the old claim may still send: %v %v", ok, err)
		}
		if ok, err := st.Begin(ctx, stolen.ID, stolen.Claim, t0.Add(37*time.Minute)); !ok || err != nil {
			t.Errorf("the new claim may not send: %v %v", ok, err)
		}
	})

	t.Run("once delivered, the resolved notice follows and nothing sends twice", func(t *testing.T) {
		if err := st.Delivered(ctx, stolen.ID, t0.Add(37*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.Begin(ctx, stolen.ID, stolen.Claim, t0.Add(38*time.Minute)); ok {
			t.Error("a delivered notice may be sent again")
		}
		next, err := st.Claim(ctx, opts(t0.Add(38*time.Minute)))
		if err != nil || len(next) != 1 || next[0].State != alerts.StateResolved {
			t.Fatalf("claim: %+v %v", next, err)
		}
		if err := st.GiveUp(ctx, next[0].ID, "HTTP 404", t0.Add(38*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Claim(ctx, opts(t0.Add(2*time.Hour))); len(again) != 0 {
			t.Errorf("given-up notice claimed again: %v", noticeKeys(again))
		}
		recent, err := st.RecentIncidents(ctx, 1)
		if err != nil || len(recent) != 1 || len(recent[0].Notices) != 2 {
			t.Fatalf("recent %+v %v", recent, err)
		}
		o, r := recent[0].Notices[0], recent[0].Notices[1]
		if o.State != "open" || o.Attempts != 2 || o.DeliveredAt == nil || o.LastError != "" ||
			r.State != "resolved" || r.GaveUpAt == nil || r.LastError != "HTTP 404" || r.Attempts != 1 {
			t.Errorf("notices %+v %+v", o, r)
		}
	})

	t.Run("old notices are given up, other webhooks' are not claimed", func(t *testing.T) {
		if _, err := st.Sync(ctx, alerts.KindRunFailed, []alerts.Incident{incident("C")}, []string{"h1", "h2"}, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Claim(ctx, opts(t0.Add(28*time.Hour))); len(again) != 0 {
			t.Errorf("a notice older than MaxAge claimed: %v", noticeKeys(again))
		}
		open, _ := st.OpenIncidents(ctx)
		if len(open) != 1 || len(open[0].Notices) != 2 || open[0].Notices[0].GaveUpAt == nil || open[0].Notices[1].GaveUpAt == nil {
			t.Errorf("expired notices: %+v", open)
		}
	})
}

func TestAlertStoreNewWebhookHearsOfOpenIncidents(t *testing.T) {
	ctx := context.Background()
	st := open(t).Alerts()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// No webhooks yet: the incident is tracked, nothing to send.
	if _, err := st.Sync(ctx, alerts.KindRunFailed, []alerts.Incident{incident("A")}, nil, t0); err != nil {
		t.Fatal(err)
	}
	if ds, err := st.Claim(ctx, postgres.AlertClaim{Webhooks: []string{"h1"}, Now: t0}); err != nil || len(ds) != 0 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if _, err := st.Sync(ctx, alerts.KindRunFailed, []alerts.Incident{incident("A")}, []string{"h1"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ds, err := st.Claim(ctx, postgres.AlertClaim{Webhooks: []string{"h1"}, Now: t0.Add(time.Minute)})
	if err != nil || len(ds) != 1 || ds[0].State != alerts.StateOpen || !ds[0].OpenedAt.Equal(t0) {
		t.Fatalf("claim: %+v %v", ds, err)
	}
}

// TestAlertStoreConcurrentCallers: syncs and claims racing each other open one incident,
// create one notice per webhook and hand each notice to one claimer.
func TestAlertStoreConcurrentCallers(t *testing.T) {
	ctx := context.Background()
	st := open(t).Alerts()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	hooks := []string{"h1", "h2", "h3"}
	var open []alerts.Incident
	for i := range 20 {
		open = append(open, incident(fmt.Sprint("job", i)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			if _, err := st.Sync(ctx, alerts.KindRunFailed, open, hooks, t0); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	var mu sync.Mutex
	claimed := map[int64]int{}
	for range 8 {
		wg.Go(func() {
			ds, err := st.Claim(ctx, postgres.AlertClaim{Webhooks: hooks, Limit: 10, Lease: time.Hour, Now: t0})
			if err != nil {
				errs <- err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range ds {
				claimed[d.ID]++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	incidents, err := st.OpenIncidents(ctx)
	if err != nil || len(incidents) != 20 {
		t.Fatalf("open incidents: %d %v", len(incidents), err)
	}
	if len(claimed) != 60 {
		t.Errorf("claimed %d distinct notices, want 60", len(claimed))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("notice %d claimed %d times", id, n)
		}
	}
}

func TestAlertStoreDeadLettersSince(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, r := range []struct {
		reason string
		at     time.Time
	}{{"invalid_json", t0.Add(-time.Minute)}, {"invalid_json", t0.Add(-2 * time.Minute)}, {"future_ts", t0.Add(-3 * time.Minute)}, {"invalid_json", t0.Add(-time.Hour)}} {
		if _, err := s.Pool().Exec(ctx, `INSERT INTO dead_letters (consumer, topic, kpartition, koffset, reason, detail, received_at)
			VALUES ('c', 't', 0, $1, $2, '', $3)`, i, r.reason, r.at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Alerts().DeadLettersSince(ctx, t0.Add(-10*time.Minute))
	if err != nil || fmt.Sprint(got) != "[{invalid_json 2} {future_ts 1}]" {
		t.Errorf("dead letters: %v %v", got, err)
	}
}
