package devstack

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/examples/topsearches"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/internal/testdb"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// TestUserPipeline runs the example user pipeline (examples/topsearches) on the embedded
// stack, as README's "Add your own pipeline" describes: the platform registers its job,
// lands search events, materializes a day with its check, shows the asset in the asset
// API, backfills two days through the generic Backfill workflow and derives its schedule.
func TestUserPipeline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := testConfig(t, t.TempDir(), testdb.Postgres(t), testdb.MySQL(t))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := Start(ctx, cfg, logger, Options{NoUI: true, Jobs: []pipeline.Job{topsearches.Job()}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	// Search events of yesterday, landed by the platform's lander.
	if _, err := stack.StartIngest(ctx, workflows.IngestEventsInput{Roles: []string{"lander"}}); err != nil {
		t.Fatal(err)
	}
	day := pipeline.DailyPartitions.Start(time.Now().Add(-24 * time.Hour))
	key := pipeline.DailyPartitions.Key(day)
	queries := []string{"haunted lighthouse", "Haunted house", "lighthouse keeper", "haunted ships at sea"}
	var evs []events.Event
	for i, q := range queries {
		evs = append(evs, events.Event{ID: "ex-" + key + "-" + string(rune('a'+i)), Type: events.TypeSearch, UserID: "u1",
			Time: day.Add(time.Duration(10+i) * time.Hour), Query: q, Category: "Drama"})
	}
	prod, err := ingest.NewProducer(stack.KafkaBrokers, "example")
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := ingest.Send(prod, ingest.TopicEvents, evs); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var stats struct {
			Landed int64 `json:"landed_events"`
		}
		getJSON(t, stack.APIURL+"/api/ingest/stats", http.StatusOK, &stats)
		if stats.Landed >= int64(len(evs)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not landed: %+v", stats)
		}
	}

	// Materialize yesterday through the job's workflow, started by name as a user would.
	run, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "example-top-terms", TaskQueue: cfg.TaskQueue},
		"TopSearchTerms", topsearches.Input{Day: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	rows, err := stack.PG.Pool().Query(ctx, `SELECT term, searches FROM analytics_top_search_terms WHERE day = $1`, day)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var term string
		var n int64
		if err := rows.Scan(&term, &n); err != nil {
			t.Fatal(err)
		}
		counts[term] = n
	}
	if counts["haunted"] != 3 || counts["lighthouse"] != 2 || counts["keeper"] != 1 || counts["at"] != 0 {
		t.Errorf("top terms of %s = %v", key, counts)
	}

	// The asset API knows the asset, its job, upstream and the materialized, checked day.
	var graph struct {
		Assets []struct {
			Name      string         `json:"name"`
			Workflow  string         `json:"workflow"`
			Upstreams []string       `json:"upstreams"`
			Counts    map[string]int `json:"partition_counts"`
		} `json:"assets"`
	}
	getJSON(t, stack.APIURL+"/api/assets", http.StatusOK, &graph)
	i := slices.IndexFunc(graph.Assets, func(a struct {
		Name      string         `json:"name"`
		Workflow  string         `json:"workflow"`
		Upstreams []string       `json:"upstreams"`
		Counts    map[string]int `json:"partition_counts"`
	}) bool {
		return a.Name == topsearches.Asset
	})
	if i < 0 || graph.Assets[i].Workflow != "TopSearchTerms" || !slices.Equal(graph.Assets[i].Upstreams, []string{"events.raw_events"}) ||
		graph.Assets[i].Counts["materialized"] < 1 {
		t.Fatalf("asset graph entry: %+v", graph.Assets)
	}
	var detail struct {
		Partitions []struct {
			Partition string
			Status    string
			Last      struct {
				Checks []struct {
					Name   string
					Passed bool
				}
			}
		}
	}
	getJSON(t, stack.APIURL+"/api/assets/"+topsearches.Asset, http.StatusOK, &detail)
	found := false
	for _, p := range detail.Partitions {
		if p.Partition == key {
			found = p.Status == "materialized" && len(p.Last.Checks) == 1 && p.Last.Checks[0].Name == "counts_positive" && p.Last.Checks[0].Passed
		}
	}
	if !found {
		t.Errorf("partition %s not materialized with its check: %+v", key, detail.Partitions)
	}

	// The generic Backfill workflow routes the asset's daily partitions to its job.
	from := pipeline.DailyPartitions.Key(day.Add(-24 * time.Hour))
	br, err := stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "example-backfill", TaskQueue: cfg.TaskQueue},
		workflows.BackfillName, workflows.BackfillInput{Asset: topsearches.Asset, From: from, To: pipeline.DailyPartitions.Key(day.Add(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	var progress workflows.BackfillProgress
	if err := br.Get(ctx, &progress); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress.Done, []string{from, key}) && !slices.Equal(progress.Done, []string{key, from}) {
		t.Errorf("backfill progress %+v", progress)
	}

	// Its schedule is derived like the built-in ones.
	sc, err := schedules.FromDefinitions(stack.Definitions)
	if err != nil || !slices.ContainsFunc(sc.Schedules, func(s schedules.Schedule) bool {
		return s.ID == "top-search-terms-daily" && s.Workflow == "TopSearchTerms"
	}) {
		t.Errorf("schedules %+v, %v", sc.Schedules, err)
	}
}
