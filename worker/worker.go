// Package worker registers the jobs of a deployment's definitions (package pipeline) and
// Curio's activities on a task queue.
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/pipeline"
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

// New returns a worker (not started) with every job of defs and Curio's activities
// registered, enforcing the jobs' concurrency pools.
func New(c client.Client, acts *activities.Activities, defs *pipeline.Definitions, opts Options, slices ...any) sdkworker.Worker {
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
		// Every run of a job with pools holds a slot of each while it runs (package pools).
		Interceptors: []interceptor.WorkerInterceptor{pools.NewInterceptor(defs)},
	})
	Register(w, acts, defs, slices...)
	if acts.PG != nil {
		w.RegisterActivity(&pools.Activities{Store: acts.PG.Pools(), Temporal: c, Definitions: defs, Logger: acts.Logger})
	}
	return w
}

// Register adds every job's workflow (and a user job's activities) from defs, the
// built-in jobs' shared activities (the methods of acts) and the activity structs of the
// pipelines that have their own package under activities/ (slices), to r.
func Register(r sdkworker.Registry, acts *activities.Activities, defs *pipeline.Definitions, slices ...any) {
	var res pipeline.Resources
	if acts.PG != nil {
		res.Warehouse = acts.PG.Pool()
	}
	res.Logger = acts.Logger
	defs.Register(r, res)
	r.RegisterActivityWithOptions(acts, activity.RegisterOptions{})
	for _, s := range slices {
		r.RegisterActivityWithOptions(s, activity.RegisterOptions{})
	}
}
