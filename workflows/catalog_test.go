package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	return env
}

func TestCatalogPipelineFansOutAndPublishes(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.ImportDemoCatalog, mock.Anything, mock.Anything).Return(activities.ImportResult{Dataset: "demo", OK: 10}, nil).Once()
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PlanIndexInput) (activities.IndexPlan, error) {
			if in.Version == "" || in.WorkflowID == "" {
				t.Errorf("plan input missing version or workflow id: %+v", in)
			}
			return activities.IndexPlan{Version: in.Version, Shards: 7}, nil
		}).Once()
	seen := map[int]bool{}
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ShardInput) (activities.ShardResult, error) {
			if seen[in.Shard] || in.Shards != 7 {
				t.Errorf("shard %d/%d started twice or with wrong count", in.Shard, in.Shards)
			}
			seen[in.Shard] = true
			return activities.ShardResult{Shard: in.Shard, Docs: 100, Worker: []string{"w1", "w2", "w3"}[in.Shard%3]}, nil
		}).Times(7)
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PublishInput) (activities.PublishResult, error) {
			if len(seen) != 7 {
				t.Errorf("published before all shards were built: %d of 7", len(seen))
			}
			return activities.PublishResult{Version: in.Version, Docs: 700, Shards: 7}, nil
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
	env.AssertExpectations(t)
}

func TestCatalogPipelineSkipDemoImportsDatasets(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.ImportDataset, mock.Anything, activities.DatasetInput{Format: "imdb-tsv", Paths: []string{"b.tsv"}}).
		Return(activities.ImportResult{Dataset: "imdb-tsv", OK: 3}, nil).Once()
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(activities.IndexPlan{Version: "v", Shards: 1}, nil)
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(activities.ShardResult{Docs: 3, Worker: "w"}, nil).Once()
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(activities.PublishResult{Version: "v", Docs: 3, Shards: 1}, nil)
	env.ExecuteWorkflow(CatalogPipeline, CatalogPipelineInput{SkipDemo: true,
		Datasets: []activities.DatasetInput{{Format: "imdb-tsv", Paths: []string{"b.tsv"}}}})
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
	var a *activities.Activities
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.ImportDemoCatalog, mock.Anything, mock.Anything).Return(activities.ImportResult{}, nil)
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(activities.IndexPlan{Version: "v", Shards: 3}, nil)
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ShardInput) (activities.ShardResult, error) {
			if in.Shard == 1 {
				return activities.ShardResult{}, temporal.NewNonRetryableApplicationError("disk full", "Test", errors.New("disk full"))
			}
			return activities.ShardResult{Shard: in.Shard}, nil
		})
	published := false
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.PublishInput) (activities.PublishResult, error) {
			published = true
			return activities.PublishResult{}, nil
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
