package workflows_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/pipeline"
	curioworker "github.com/curiodata/curio/worker"
	"github.com/curiodata/curio/workflows"
)

// nameRegistry records the workflow and activity names a worker registers.
type nameRegistry struct {
	sdkworker.Registry // nil: only the methods below are called
	workflows          map[string]bool
	activities         int
}

func (r *nameRegistry) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	r.workflows[o.Name] = true
}
func (r *nameRegistry) RegisterActivity(any) { r.activities++ }
func (r *nameRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions) {
	r.activities++
}

// TestDefinitionsAgree loads the built-in definitions (pipeline.New checks names,
// upstreams, cycles, mappings, backfillability and schedule inputs) and checks what is
// derived from them: every asset's job and every scheduled job is registered on a worker,
// every partitioned asset routes a partition to a registered job, and the schedules apply.
func TestDefinitionsAgree(t *testing.T) {
	defs, err := workflows.Definitions()
	if err != nil {
		t.Fatal(err)
	}
	reg := &nameRegistry{workflows: map[string]bool{}}
	curioworker.Register(reg, &activities.Activities{}, defs)
	for _, name := range []string{workflows.CatalogPipelineName, workflows.ScrapeCatalogName, workflows.IngestEventsName,
		workflows.LandEventsName, workflows.BuildSimilarityName, workflows.AggregateUploadsName, workflows.ClickstreamPageRankName,
		workflows.TargetAdsName, workflows.RunShardsName, workflows.NoopBatchName, workflows.BackfillName, workflows.BuildTopicsName,
		workflows.TermsRollupName} {
		if !reg.workflows[name] {
			t.Errorf("workflow %s is not registered", name)
		}
	}
	if reg.activities == 0 {
		t.Error("no activities registered")
	}
	for _, a := range defs.Assets() {
		if !reg.workflows[a.Job] {
			t.Errorf("asset %s: its job %s is not registered", a.Name, a.Job)
		}
		if !a.Partitioning.Partitioned() {
			continue
		}
		key := a.Partitioning.Key(mustTime(t, "2026-11-23T10"))
		job, in, err := defs.PartitionRun(a.Name, key)
		if err != nil || !reg.workflows[job] {
			t.Errorf("asset %s partition %s: runs %s (%v)", a.Name, key, job, err)
			continue
		}
		raw, _ := json.Marshal(in)
		if _, err := defs.DecodeInput(job, raw); err != nil {
			t.Errorf("asset %s: its partition input does not decode: %v", a.Name, err)
		}
	}
	cfg, err := schedules.FromDefinitions(defs)
	if err != nil || len(cfg.Schedules) != 8 {
		t.Fatalf("schedules %d, %v", len(cfg.Schedules), err)
	}
	for _, s := range cfg.Schedules {
		if !reg.workflows[s.Workflow] || !slices.Contains(defs.JobNames(), s.Workflow) {
			t.Errorf("schedule %s starts %s, which users cannot start", s.ID, s.Workflow)
		}
	}
	if got := defs.Downstream(assets.CatalogItems); !slices.Contains(got, assets.ServingCatalog) || !slices.Contains(got, assets.SimilarItems) ||
		slices.Contains(got, assets.UploadsHourly) {
		t.Errorf("downstream of catalog.items = %v", got)
	}
	if slices.Contains(defs.JobNames(), workflows.RunShardsName) {
		t.Error("RunShards is internal and must not be listed for users")
	}
}

// TestUserJobsJoinTheGraph: a user's job with an asset downstream of a built-in one is
// part of the same graph, and a job that names a missing upstream is refused.
func TestUserJobsJoinTheGraph(t *testing.T) {
	user := pipeline.Job{Name: "TopTerms", Input: func() any { return &struct{}{} },
		Workflow: func(workflow.Context) error { return nil },
		Assets:   []pipeline.Asset{{Name: "analytics.top_terms", Upstreams: []pipeline.Upstream{pipeline.On(assets.RawEvents)}}}}
	defs, err := workflows.Definitions(user)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(defs.Downstream(assets.RawEvents), "analytics.top_terms") {
		t.Errorf("user asset not downstream of %s: %v", assets.RawEvents, defs.Downstream(assets.RawEvents))
	}
	user.Assets[0].Upstreams = []pipeline.Upstream{pipeline.On("no.such.asset")}
	if _, err := workflows.Definitions(user); err == nil {
		t.Error("missing upstream accepted")
	}
}

func mustTime(t *testing.T, key string) time.Time {
	t.Helper()
	tm, err := pipeline.HourlyPartitions.ParseTime(key)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
