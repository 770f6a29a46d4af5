package automation

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/teststores"
	"github.com/curiodata/curio/pipeline"
)

type noInput struct{}

type hourInput struct {
	Hour string `json:"hour"`
}

func testDefs(t *testing.T) *pipeline.Definitions {
	t.Helper()
	wf := func(workflow.Context, noInput) error { return nil }
	job := func(name string, a pipeline.Asset) pipeline.Job {
		return pipeline.Job{Name: name, Input: func() any { return &noInput{} }, Workflow: wf, Assets: []pipeline.Asset{a}}
	}
	hourly := job("Hourly", pipeline.Asset{Name: "hourly", Partitioning: pipeline.HourlyPartitions,
		Automation:     []pipeline.Policy{{Kind: pipeline.Missing, Lookback: 5 * time.Hour, MaxRuns: 2}},
		PartitionInput: func(key string) (any, error) { return hourInput{Hour: key}, nil }})
	hourly.Input = func() any { return &hourInput{} }
	hourly.Workflow = func(workflow.Context, hourInput) error { return nil }
	defs, err := pipeline.New(
		job("Src", pipeline.Asset{Name: "src"}),
		job("Model", pipeline.Asset{Name: "model", Upstreams: []pipeline.Upstream{pipeline.On("src")}, Freshness: time.Hour,
			Automation: []pipeline.Policy{pipeline.EagerPolicy(time.Minute), pipeline.FreshnessPolicy()}}),
		hourly,
		job("Cron", pipeline.Asset{Name: "cronned", Automation: []pipeline.Policy{pipeline.CronPolicy("*/5 * * * *")}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

func record(t *testing.T, pg *postgres.Store, asset, partition, version string, finished time.Time) {
	t.Helper()
	ctx := context.Background()
	run := asset + partition + version
	if err := pg.RecordMaterialization(ctx, assets.Materialization{Asset: asset, Partition: partition, Status: assets.StatusMaterialized,
		WorkflowID: "wf-" + run, RunID: run, DataVersion: version, StartedAt: finished.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool().Exec(ctx, `UPDATE asset_materializations SET finished_at = $2 WHERE run_id = $1`, run, finished); err != nil {
		t.Fatal(err)
	}
}

func triggers(cs []candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.job+"["+c.partition+"] "+c.trigger)
	}
	slices.Sort(out)
	return out
}

// TestPolicies evaluates each policy against recorded materializations in a real warehouse.
func TestPolicies(t *testing.T) {
	pg, _, _ := teststores.Open(t)
	ctx := context.Background()
	defs := testDefs(t)
	e := &Evaluator{Defs: defs, Assets: pg, Store: pg.Automation()}
	now := time.Date(2026, 12, 6, 12, 2, 0, 0, time.UTC)
	eval := func(name string, at time.Time) ([]string, Summary) {
		t.Helper()
		a, _ := defs.Asset(name)
		var sum Summary
		cs, err := e.evaluateAsset(ctx, a, at, &sum)
		if err != nil {
			t.Fatal(err)
		}
		return triggers(cs), sum
	}

	// Eager: nothing before the upstream exists; debounced while it is fresh; then one
	// trigger naming the upstream's version; nothing once the model ran after it.
	if got, _ := eval("model", now); got != nil {
		t.Errorf("eager without an upstream: %q", got)
	}
	record(t, pg, "src", "", "v1", now.Add(-30*time.Second))
	if got, sum := eval("model", now); got != nil || sum.SkippedCount != 1 {
		t.Errorf("eager inside the debounce window: %q, %+v", got, sum)
	}
	if got, _ := eval("model", now.Add(time.Minute)); !slices.Equal(got, []string{"Model[] eager:src@v1#srcv1"}) {
		t.Errorf("eager after the debounce: %q", got)
	}
	record(t, pg, "model", "", "m1", now.Add(time.Minute))
	if got, _ := eval("model", now.Add(2*time.Minute)); got != nil {
		t.Errorf("eager after the model ran: %q", got)
	}
	// Freshness: the model's success is an hour and more old.
	later := now.Add(time.Minute + time.Hour + time.Second)
	if got, _ := eval("model", later); !slices.Equal(got, []string{"Model[] freshness:model@2026-12-06T12:03:00Z"}) {
		t.Errorf("freshness: %q", got)
	}

	// Missing: hours since the first event (06:00), inside the 5-hour lookback (from 07:02),
	// newest first, two at most; materialized hours are not missing.
	first := now.Add(-6 * time.Hour).Truncate(time.Hour)
	if _, err := pg.Pool().Exec(ctx, `CREATE TABLE raw_events_test PARTITION OF raw_events FOR VALUES FROM ('`+
		first.Format(time.RFC3339)+`') TO ('`+first.Add(time.Hour).Format(time.RFC3339)+`')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool().Exec(ctx, `INSERT INTO raw_events (event_id, type, user_id, ts, topic, kpartition, koffset)
		VALUES ('e1', 'view', 'u1', $1, 'events', 0, 1)`, now.Add(-6*time.Hour)); err != nil {
		t.Fatal(err)
	}
	record(t, pg, "hourly", "2026-12-06T11", "", now)
	got, sum := eval("hourly", now)
	if want := []string{"Hourly[2026-12-06T09] missing:hourly/2026-12-06T09", "Hourly[2026-12-06T10] missing:hourly/2026-12-06T10"}; !slices.Equal(got, want) {
		t.Errorf("missing: %q, want %q", got, want)
	}
	// 08:00 is past the cap; 06:00 and 07:00 start before the lookback and are left alone.
	if sum.SkippedCount != 1 || sum.Skipped[0].Partition != "2026-12-06T08" {
		t.Errorf("missing skipped %+v", sum)
	}

	// On cron: the first evaluation sets the cursor; the next tick fires once.
	if got, _ := eval("cronned", now); got != nil {
		t.Errorf("cron at its first evaluation: %q", got)
	}
	if got, _ := eval("cronned", now.Add(2*time.Minute)); got != nil {
		t.Errorf("cron before its tick: %q", got)
	}
	if got, _ := eval("cronned", now.Add(4*time.Minute)); !slices.Equal(got, []string{"Cron[] on_cron:*/5 * * * *@2026-12-06T12:05:00Z"}) {
		t.Errorf("cron at its tick: %q", got)
	}
	// Until Tick has claimed the run and moved the cursor, the tick is asked for again (the
	// claim makes that harmless); after, not.
	if got, _ := eval("cronned", now.Add(5*time.Minute)); len(got) != 1 {
		t.Errorf("cron tick before its cursor moved: %q", got)
	}
	if err := e.Store.SetCursor(ctx, "on_cron:cronned:*/5 * * * *", now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := eval("cronned", now.Add(5*time.Minute)); got != nil {
		t.Errorf("cron twice for one tick: %q", got)
	}
}

func TestGroupMergesOneJobPartition(t *testing.T) {
	gs := group([]candidate{
		{asset: "a", job: "J", trigger: "eager:x@2", source: "eager"},
		{asset: "b", job: "J", trigger: "eager:x@1", source: "eager"},
		{asset: "c", job: "K", partition: "p", trigger: "missing:c/p", source: "missing"},
	})
	if len(gs) != 2 || !slices.Equal(gs[0].assets, []string{"a", "b"}) || !slices.Equal(gs[0].triggers, []string{"eager:x@1", "eager:x@2"}) {
		t.Fatalf("groups %+v", gs)
	}
	if a, b := WorkflowID("auto", "J", "", "t1"), WorkflowID("auto", "J", "", "t2"); a == b || a != WorkflowID("auto", "J", "", "t1") {
		t.Errorf("workflow ids %s %s", a, b)
	}
}
