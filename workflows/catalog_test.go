package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/activities/ingestjob"
	"github.com/curiodata/curio/internal/assets"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.RegisterActivity(&catalogjob.Activities{})
	env.RegisterActivity(&ingestjob.Activities{})
	return env
}

// passingChecks makes the catalog and index checks pass and lineage records succeed,
// collecting the records.
func passingChecks(env *testsuite.TestWorkflowEnvironment) *[]activities.MaterializeInput {
	var a *catalogjob.Activities
	var platform *activities.Activities
	var recs []activities.MaterializeInput
	env.OnActivity(a.CheckCatalog, mock.Anything, mock.Anything).Return([]assets.CheckResult{{Name: "no_empty_titles", Passed: true, Blocking: true}}, nil).Maybe()
	env.OnActivity(a.CheckIndex, mock.Anything, mock.Anything).Return([]assets.CheckResult{{Name: "row_count_within_bounds", Passed: true, Blocking: true}}, nil).Maybe()
	env.OnActivity(platform.RecordMaterialization, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MaterializeInput) error { recs = append(recs, in); return nil }).Maybe()
	return &recs
}

func TestCatalogPipelineFansOutAndPublishes(t *testing.T) {
	env := newEnv(t)
	recs := passingChecks(env)
	var a *catalogjob.Activities
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.ImportDemoCatalog, mock.Anything, mock.Anything).Return(catalogjob.ImportResult{Dataset: "demo", OK: 10}, nil).Once()
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in catalogjob.PlanIndexInput) (catalogjob.IndexPlan, error) {
			if in.Version == "" || in.WorkflowID == "" {
				t.Errorf("plan input missing version or workflow id: %+v", in)
			}
			return catalogjob.IndexPlan{Version: in.Version, Shards: 7}, nil
		}).Once()
	seen := map[int]bool{}
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in catalogjob.ShardInput) (catalogjob.ShardResult, error) {
			if seen[in.Shard] || in.Shards != 7 {
				t.Errorf("shard %d/%d started twice or with wrong count", in.Shard, in.Shards)
			}
			seen[in.Shard] = true
			return catalogjob.ShardResult{Shard: in.Shard, Docs: 100, Worker: []string{"w1", "w2", "w3"}[in.Shard%3]}, nil
		}).Times(7)
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in catalogjob.PublishInput) (catalogjob.PublishResult, error) {
			if len(seen) != 7 {
				t.Errorf("published before all shards were built: %d of 7", len(seen))
			}
			return catalogjob.PublishResult{Version: in.Version, Docs: 700, Shards: 7}, nil
		}).Once()

	env.ExecuteWorkflow(CatalogPipeline, CatalogPipelineInput{MaxParallel: 2})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res CatalogPipelineResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Docs != 700 || res.Shards != 7 || res.Import == nil || res.Import.OK != 10 {
		t.Errorf("result = %+v", res)
	}
	if res.ShardsByWorker["w1"] != 3 || res.ShardsByWorker["w2"] != 2 || res.ShardsByWorker["w3"] != 2 {
		t.Errorf("shards by worker = %v", res.ShardsByWorker)
	}
	var p Progress
	q, err := env.QueryWorkflow(ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Get(&p); err != nil || p.Stage != "done" || p.ShardsDone != 7 {
		t.Errorf("progress = %+v, %v", p, err)
	}
	// Lineage: the three assets, upstream first, all materialized with this version.
	var names []string
	for _, r := range *recs {
		names = append(names, r.Asset)
		if r.Failed || r.DataVersion != res.Version {
			t.Errorf("record %+v", r)
		}
	}
	if strings.Join(names, ",") != "catalog.items,search.index,serving.catalog" {
		t.Errorf("materialized %v", names)
	}
	env.AssertExpectations(t)
}

func TestCatalogPipelineSkipDemoImportsDatasets(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	var a *catalogjob.Activities
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.ImportDataset, mock.Anything, catalogjob.DatasetInput{Format: "imdb-tsv", Paths: []string{"b.tsv"}}).
		Return(catalogjob.ImportResult{Dataset: "imdb-tsv", OK: 3}, nil).Once()
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(catalogjob.IndexPlan{Version: "v", Shards: 1}, nil)
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(catalogjob.ShardResult{Docs: 3, Worker: "w"}, nil).Once()
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(catalogjob.PublishResult{Version: "v", Docs: 3, Shards: 1}, nil)
	env.ExecuteWorkflow(CatalogPipeline, CatalogPipelineInput{SkipDemo: true,
		Datasets: []catalogjob.DatasetInput{{Format: "imdb-tsv", Paths: []string{"b.tsv"}}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res CatalogPipelineResult
	_ = env.GetWorkflowResult(&res)
	if res.Import != nil || len(res.Imports) != 1 || res.Docs != 3 {
		t.Errorf("result = %+v", res)
	}
	env.AssertExpectations(t)
}

func TestCatalogPipelineShardFailureStopsPublish(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	var a *catalogjob.Activities
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.ImportDemoCatalog, mock.Anything, mock.Anything).Return(catalogjob.ImportResult{}, nil)
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(catalogjob.IndexPlan{Version: "v", Shards: 3}, nil)
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in catalogjob.ShardInput) (catalogjob.ShardResult, error) {
			if in.Shard == 1 {
				return catalogjob.ShardResult{}, temporal.NewNonRetryableApplicationError("disk full", "Test", errors.New("disk full"))
			}
			return catalogjob.ShardResult{Shard: in.Shard}, nil
		})
	published := false
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ catalogjob.PublishInput) (catalogjob.PublishResult, error) {
			published = true
			return catalogjob.PublishResult{}, nil
		}).Maybe()
	env.ExecuteWorkflow(CatalogPipeline, CatalogPipelineInput{})
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("want failure")
	}
	if published {
		t.Error("a failed shard must block the publish")
	}
}

func TestCatalogPipelineRejectsNegativeInput(t *testing.T) {
	env := newEnv(t)
	env.ExecuteWorkflow(CatalogPipeline, CatalogPipelineInput{Shards: -1})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("want non-retryable application error, got %v", err)
	}
}

func workflowOpts(name string) workflow.RegisterOptions { return workflow.RegisterOptions{Name: name} }

// TestFailedCheckBlocksOnlyDownstream: a failing catalog check stops everything after it;
// a failing index check keeps catalog.items materialized and blocks only what follows.
func TestFailedCheckBlocksOnlyDownstream(t *testing.T) {
	var a *catalogjob.Activities
	var platform *activities.Activities
	setup := func(catalogOK, indexOK bool) (*testsuite.TestWorkflowEnvironment, *[]activities.MaterializeInput, *bool) {
		env := newEnv(t)
		var recs []activities.MaterializeInput
		published := false
		env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
		env.OnActivity(a.ImportDemoCatalog, mock.Anything, mock.Anything).Return(catalogjob.ImportResult{}, nil)
		env.OnActivity(a.CheckCatalog, mock.Anything, mock.Anything).Return([]assets.CheckResult{{Name: "no_empty_titles", Passed: catalogOK, Blocking: true, Detail: "3 items without a title"}}, nil)
		env.OnActivity(a.CheckIndex, mock.Anything, mock.Anything).Return([]assets.CheckResult{{Name: "row_count_within_bounds", Passed: indexOK, Blocking: true, Detail: "10 documents; the served version has 5000"}}, nil).Maybe()
		env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(catalogjob.IndexPlan{Version: "v", Shards: 1}, nil).Maybe()
		env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(catalogjob.ShardResult{}, nil).Maybe()
		env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(
			func(context.Context, catalogjob.PublishInput) (catalogjob.PublishResult, error) {
				published = true
				return catalogjob.PublishResult{}, nil
			}).Maybe()
		env.OnActivity(platform.RecordMaterialization, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.MaterializeInput) error { recs = append(recs, in); return nil })
		env.ExecuteWorkflow(CatalogPipeline, CatalogPipelineInput{})
		return env, &recs, &published
	}

	env, recs, published := setup(false, true)
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "no_empty_titles") || !strings.Contains(err.Error(), "search.index") {
		t.Fatalf("want a check failure naming the check and the blocked assets, got %v", err)
	}
	if *published || len(*recs) != 1 || (*recs)[0].Asset != assets.CatalogItems || !(*recs)[0].Failed {
		t.Errorf("catalog check: published=%v records=%+v", *published, *recs)
	}

	env, recs, published = setup(true, false)
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "serving.catalog") {
		t.Fatalf("index check: %v", err)
	}
	if *published || len(*recs) != 2 || (*recs)[0].Asset != assets.CatalogItems || (*recs)[0].Failed ||
		(*recs)[1].Asset != assets.SearchIndex || !(*recs)[1].Failed {
		t.Errorf("index check: published=%v records=%+v", *published, *recs)
	}
}
