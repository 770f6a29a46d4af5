// Package workflows holds Curio's Temporal workflows: deterministic orchestration only.
// All I/O happens in activities; every input struct's zero value is a sensible default,
// so a user can start any workflow from the Temporal UI with `{}`.
package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// CatalogPipelineName is the workflow type name users start from the Temporal UI.
const CatalogPipelineName = "CatalogPipeline"

// ProgressQuery is the query type that returns a pipeline's Progress.
const ProgressQuery = "progress"

// CatalogPipelineInput configures a CatalogPipeline run. `{}` imports the demo catalog,
// rebuilds the search index with an automatic shard count and publishes it.
type CatalogPipelineInput struct {
	// SkipDemo leaves the warehouse as it is (e.g. after `curio import`) and only indexes
	// and publishes what is there.
	SkipDemo bool `json:"skip_demo,omitempty"`
	// Demo sizes the generated part of the demo catalog.
	Demo catalogjob.ImportDemoInput `json:"demo,omitempty"`
	// Datasets are public dataset files imported before indexing: http(s):// URLs (any worker
	// downloads them) or paths on the workers' machines.
	Datasets []catalogjob.DatasetInput `json:"datasets,omitempty"`
	// Shards of the search index; 0 picks from the corpus size.
	Shards int `json:"shards,omitempty"`
	// MaxParallel bounds shard activities in flight; 0 means 16.
	MaxParallel int `json:"max_parallel,omitempty"`
}

// CatalogPipelineResult summarizes a run.
type CatalogPipelineResult struct {
	Version string                    `json:"version"`
	Docs    int64                     `json:"docs"`
	Shards  int                       `json:"shards"`
	Import  *catalogjob.ImportResult  `json:"import,omitempty"`
	Imports []catalogjob.ImportResult `json:"imports,omitempty"`
	// ShardsByWorker counts shards per worker identity, to show the fan-out.
	ShardsByWorker map[string]int `json:"shards_by_worker"`
}

// Progress is what the "progress" query returns while a pipeline runs.
type Progress struct {
	Stage      string `json:"stage"` // import, plan, index, publish, done
	ShardsDone int    `json:"shards_done"`
	Shards     int    `json:"shards"`
}

// CatalogPipeline imports the demo catalog into the warehouse, builds the search index in
// shards fanned out over every worker on the task queue, and publishes the catalog and
// index version to MySQL, which the API then serves.
func CatalogPipeline(ctx workflow.Context, in CatalogPipelineInput) (CatalogPipelineResult, error) {
	if in.Shards < 0 || in.MaxParallel < 0 {
		return CatalogPipelineResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("shards (%d) and max_parallel (%d) must not be negative", in.Shards, in.MaxParallel), activities.ErrTypeBadInput, nil)
	}
	if in.MaxParallel == 0 {
		in.MaxParallel = 16
	}
	info := workflow.GetInfo(ctx)
	progress := Progress{Stage: "import"}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return progress, nil }); err != nil {
		return CatalogPipelineResult{}, fmt.Errorf("register progress query: %w", err)
	}
	var a *catalogjob.Activities
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	long := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput, activities.ErrTypeIncomplete},
		},
	})
	record := func(status string, details any) {
		raw, _ := json.Marshal(details)
		// Run metadata is best effort: a failure to record must not fail the pipeline.
		_ = workflow.ExecuteActivity(short, a.RecordRun, catalogjob.RunStatus{Workflow: CatalogPipelineName, Status: status, Details: raw}).Get(ctx, nil)
	}
	record("running", in)

	res, err := runCatalog(ctx, in, info, short, long, &progress)
	if err != nil {
		record("failed", map[string]string{"error": err.Error()})
		return res, err
	}
	progress.Stage = "done"
	record("completed", res)
	return res, nil
}

func runCatalog(ctx workflow.Context, in CatalogPipelineInput, info *workflow.Info, short, long workflow.Context, progress *Progress) (CatalogPipelineResult, error) {
	var a *catalogjob.Activities
	res := CatalogPipelineResult{ShardsByWorker: map[string]int{}}
	if !in.SkipDemo {
		var imp catalogjob.ImportResult
		if err := workflow.ExecuteActivity(long, a.ImportDemoCatalog, in.Demo).Get(ctx, &imp); err != nil {
			return res, fmt.Errorf("import demo catalog: %w", err)
		}
		res.Import = &imp
	}
	for _, ds := range in.Datasets {
		var imp catalogjob.ImportResult
		if err := workflow.ExecuteActivity(long, a.ImportDataset, ds).Get(ctx, &imp); err != nil {
			return res, fmt.Errorf("import %s: %w", ds.Format, err)
		}
		res.Imports = append(res.Imports, imp)
	}

	progress.Stage = "check"
	started := workflow.Now(ctx)
	var checks []assets.CheckResult
	if err := workflow.ExecuteActivity(short, a.CheckCatalog, catalogjob.CheckInput{}).Get(ctx, &checks); err != nil {
		return res, fmt.Errorf("check catalog: %w", err)
	}
	if why := pipeline.BlockingFailures(checks); why != "" {
		return res, checkFailed(ctx, assets.CatalogItems, "", started, checks, why)
	}

	progress.Stage = "plan"
	runID := info.WorkflowExecution.RunID
	version := workflow.Now(ctx).UTC().Format("20060102T150405Z") + "-" + runID[:min(8, len(runID))]
	var plan catalogjob.IndexPlan
	err := workflow.ExecuteActivity(short, a.PlanIndex, catalogjob.PlanIndexInput{
		Version: version, Shards: in.Shards, WorkflowID: info.WorkflowExecution.ID, RunID: runID,
	}).Get(ctx, &plan)
	if err != nil {
		return res, fmt.Errorf("plan index: %w", err)
	}
	res.Version, res.Shards = plan.Version, plan.Shards
	if err := recordAsset(ctx, activities.MaterializeInput{Asset: assets.CatalogItems, Rows: plan.Movies + plan.Artworks,
		DataVersion: plan.Version, StartedAt: started, Checks: checks}); err != nil {
		return res, err
	}

	progress.Stage, progress.Shards = "index", plan.Shards
	indexStarted := workflow.Now(ctx)
	shards, err := fanOut(ctx, long, plan, in.MaxParallel, progress)
	if err != nil {
		return res, err
	}
	for _, s := range shards {
		res.ShardsByWorker[s.Worker]++
	}
	var indexChecks []assets.CheckResult
	if err := workflow.ExecuteActivity(short, a.CheckIndex, catalogjob.CheckInput{Version: plan.Version}).Get(ctx, &indexChecks); err != nil {
		return res, fmt.Errorf("check index: %w", err)
	}
	if why := pipeline.BlockingFailures(indexChecks); why != "" {
		return res, checkFailed(ctx, assets.SearchIndex, "", indexStarted, indexChecks, why)
	}

	progress.Stage = "publish"
	var pub catalogjob.PublishResult
	if err := workflow.ExecuteActivity(long, a.PublishCatalog, catalogjob.PublishInput{Version: plan.Version}).Get(ctx, &pub); err != nil {
		return res, fmt.Errorf("publish %s: %w", plan.Version, err)
	}
	for _, asset := range []string{assets.SearchIndex, assets.ServingCatalog} {
		if err := recordAsset(ctx, activities.MaterializeInput{Asset: asset, Rows: pub.Docs, DataVersion: pub.Version,
			StartedAt: indexStarted, Checks: indexChecks}); err != nil {
			return res, err
		}
		indexChecks = nil // the checks belong to search.index
	}
	res.Docs = pub.Docs
	return res, nil
}

// fanOut runs one BuildIndexShard per shard with at most maxParallel in flight, and
// returns every shard's result. Any shard that fails after its retries fails the build.
func fanOut(ctx, actx workflow.Context, plan catalogjob.IndexPlan, maxParallel int, progress *Progress) ([]catalogjob.ShardResult, error) {
	var a *catalogjob.Activities
	results := make([]catalogjob.ShardResult, plan.Shards)
	err := boundedFanOut(ctx, plan.Shards, maxParallel,
		func(shard int) workflow.Future {
			return workflow.ExecuteActivity(actx, a.BuildIndexShard, catalogjob.ShardInput{Version: plan.Version, Shard: shard, Shards: plan.Shards})
		},
		func(shard int, f workflow.Future) error {
			if err := f.Get(ctx, &results[shard]); err != nil {
				return fmt.Errorf("shard %d: %w", shard, err)
			}
			progress.ShardsDone++
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("build index %s: %w", plan.Version, err)
	}
	return results, nil
}

// boundedFanOut starts n futures with at most maxParallel in flight, handing each to done
// as it completes. After the first failure no new future starts; in-flight ones finish.
func boundedFanOut(ctx workflow.Context, n, maxParallel int, start func(i int) workflow.Future, done func(i int, f workflow.Future) error) error {
	sel := workflow.NewSelector(ctx)
	var errs []error
	next, inFlight := 0, 0
	for next < n || inFlight > 0 {
		for next < n && inFlight < maxParallel && len(errs) == 0 {
			i := next
			sel.AddFuture(start(i), func(f workflow.Future) {
				inFlight--
				if err := done(i, f); err != nil {
					errs = append(errs, err)
				}
			})
			next++
			inFlight++
		}
		if inFlight == 0 {
			break
		}
		sel.Select(ctx)
	}
	return errors.Join(errs...)
}
