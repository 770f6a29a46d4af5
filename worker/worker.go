// Package worker registers Curio's workflows and activities on a task queue.
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/workflows"
)

// Options configure one worker.
type Options struct {
	TaskQueue string
	Identity  string // distinct per worker machine/process; shown in the Temporal UI
	// MaxActivities bounds concurrent activities on this worker; 0 means 4.
	MaxActivities int
	// StopTimeout is how long Stop waits for in-flight activities to finish.
	StopTimeout time.Duration
}

// New returns a worker (not started) with every Curio workflow and activity registered.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	if opts.MaxActivities <= 0 {
		opts.MaxActivities = 4
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 20 * time.Second
	}
	w := sdkworker.New(c, opts.TaskQueue, sdkworker.Options{
		Identity:                           opts.Identity,
		MaxConcurrentActivityExecutionSize: opts.MaxActivities,
		WorkerStopTimeout:                  opts.StopTimeout,
	})
	Register(w, acts)
	return w
}

// Register adds Curio's workflows and activities to r.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.CatalogPipeline, workflow.RegisterOptions{Name: workflows.CatalogPipelineName})
	r.RegisterWorkflowWithOptions(workflows.ScrapeCatalog, workflow.RegisterOptions{Name: workflows.ScrapeCatalogName})
	r.RegisterWorkflowWithOptions(workflows.IngestEvents, workflow.RegisterOptions{Name: workflows.IngestEventsName})
	r.RegisterWorkflowWithOptions(workflows.LandEvents, workflow.RegisterOptions{Name: workflows.LandEventsName})
	for name, wf := range map[string]any{
		workflows.BuildSimilarityName: workflows.BuildSimilarity, workflows.AggregateUploadsName: workflows.AggregateUploads,
		workflows.ClickstreamPageRankName: workflows.ClickstreamPageRank, workflows.TargetAdsName: workflows.TargetAds,
		workflows.RunShardsName: workflows.RunShards, workflows.NoopBatchName: workflows.NoopBatch,
		workflows.BackfillName: workflows.Backfill, workflows.BuildTopicsName: workflows.BuildTopics,
		workflows.TermsRollupName: workflows.TermsRollup,
	} {
		r.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: name})
	}
	r.RegisterActivityWithOptions(acts, activity.RegisterOptions{})
}
