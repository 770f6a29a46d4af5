package devstack

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/workflows"
)

// waitFor polls cond every 250 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
	}
}

// TestAutomationRefreshesModelsOncePerCatalogVersion is the eager policy's contract: a new
// catalog version materializes model.similar and model.topics exactly once each, also when
// the automation workflow is terminated and restarted while it acts on the change.
func TestAutomationRefreshesModelsOncePerCatalogVersion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	pool := stack.PG.Pool()

	catalog := func(id string, seed int64) string {
		t.Helper()
		run, err := stack.RunCatalogPipeline(ctx, id, workflows.CatalogPipelineInput{Demo: catalogjob.ImportDemoInput{Movies: 150, Artworks: 150, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.CatalogPipelineResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		var version string
		if err := pool.QueryRow(ctx, `SELECT data_version FROM asset_materializations WHERE asset = $1 AND status = 'materialized'
			ORDER BY finished_at DESC LIMIT 1`, assets.CatalogItems).Scan(&version); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: catalog.items version %q", id, version)
		return version
	}
	// finished counts the automation's runs for a trigger (prefix: the upstream and its
	// version; the run id follows) that Temporal reports closed.
	finished := func(trigger string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM automation_runs WHERE starts_with(trigger, $1) AND closed_at IS NOT NULL`, trigger).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	claimed := func(trigger string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM automation_runs WHERE starts_with(trigger, $1)`, trigger).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	in := workflows.AutomationInput{Interval: time.Second, NoAlerts: true}

	v1 := catalog("catalog-v1", 1)
	if _, err := stack.StartAutomation(ctx, in); err != nil {
		t.Fatal(err)
	}
	t1 := "eager:" + assets.CatalogItems + "@" + v1 + "#"
	waitFor(t, 4*time.Minute, "both models refreshed for "+v1, func() bool { return finished(t1) == 2 })

	// A new version; the automation is terminated once it has claimed the first refresh and
	// started again while the refreshes run.
	v2 := catalog("catalog-v2", 2)
	if v2 == v1 {
		t.Fatalf("the catalog did not change version (%s)", v1)
	}
	t2 := "eager:" + assets.CatalogItems + "@" + v2 + "#"
	waitFor(t, time.Minute, "a refresh claimed for "+v2, func() bool { return claimed(t2) >= 1 })
	if err := stack.Temporal.TerminateWorkflow(ctx, workflows.AutomationWorkflowID, "", "test: automation restarts mid-change"); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.StartAutomation(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 4*time.Minute, "both models refreshed for "+v2, func() bool { return finished(t2) == 2 })
	time.Sleep(3 * time.Second) // a few more ticks: nothing more may start

	for _, asset := range []string{assets.SimilarItems, assets.TopicModel} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM asset_materializations WHERE asset = $1 AND status = 'materialized'`, asset).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%s materialized %d times for two catalog versions, want 2", asset, n)
		}
	}
	lister := &runs.Lister{Client: stack.Temporal}
	for _, job := range []string{workflows.BuildSimilarityName, workflows.BuildTopicsName} {
		rs, err := lister.Recent(ctx, runs.Filter{Job: job})
		if err != nil {
			t.Fatal(err)
		}
		var triggers []string
		for _, r := range rs {
			if r.Status != "Completed" {
				t.Errorf("%s run %s: %s", job, r.WorkflowID, r.Status)
			}
			triggers = append(triggers, r.Trigger)
		}
		slices.Sort(triggers)
		if len(triggers) != 2 || !strings.HasPrefix(triggers[0], t1) || !strings.HasPrefix(triggers[1], t2) {
			t.Errorf("%s runs' triggers = %q, want one run each for %s… and %s…", job, triggers, t1, t2)
		}
	}
	var status workflows.AutomationStatus
	q, err := stack.Temporal.QueryWorkflow(ctx, workflows.AutomationWorkflowID, "", workflows.AutomationQuery)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Get(&status); err != nil {
		t.Fatal(err)
	}
	if status.Ticks == 0 || status.LastTick == nil {
		t.Errorf("status query: %+v", status)
	}
	if status.LastTick != nil && len(status.LastTick.Errors) > 0 {
		t.Errorf("automation errors: %s", strings.Join(status.LastTick.Errors, "; "))
	}
}
