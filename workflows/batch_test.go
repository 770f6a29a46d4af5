package workflows

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/eventjobs"
	"github.com/curiodata/curio/activities/similarity"
)

func TestBuildSimilarityFansOutBoundedAndPublishes(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	env.RegisterActivity(&similarity.Activities{})
	var a *similarity.Activities
	var mu sync.Mutex
	inFlight, peak, seen := 0, 0, map[int]bool{}
	prepared := ""
	env.OnActivity(a.PrepareSimilarity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in similarity.PrepareInput) (similarity.PrepareResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if len(seen) > 0 {
				t.Errorf("model prepared after %d shards started", len(seen))
			}
			prepared = in.Version
			return similarity.PrepareResult{Items: 90}, nil
		})
	env.OnActivity(a.SimilarityShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			var p similarity.SimilarityParams
			if err := in.DecodeParams(&p); err != nil || !p.Prepared || p.MaxPostings != DefaultSimilarityMaxPostings || p.Rescore != DefaultSimilarityRescore || in.Version != prepared {
				t.Errorf("shard %d params %+v (%v), version %q, prepared %q", in.Shard, p, err, in.Version, prepared)
			}
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			seen[in.Shard] = true
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			if in.Shards != 9 || in.Version == "" || len(in.Params) == 0 {
				t.Errorf("shard input %+v", in)
			}
			attempt := 1
			if in.Shard == 4 {
				attempt = 2
			}
			return activities.BatchShardResult{Shard: in.Shard, Items: 10, Worker: []string{"w1", "w2", "w3"}[in.Shard%3], Attempt: attempt}, nil
		})
	env.OnActivity(a.PublishSimilarity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ModelPublishInput) (activities.ModelPublishResult, error) {
			if len(seen) != 9 {
				t.Errorf("published after %d of 9 shards", len(seen))
			}
			return activities.ModelPublishResult{Model: "similar", Version: in.Version, Rows: 90}, nil
		})
	env.ExecuteWorkflow(BuildSimilarity, BuildSimilarityInput{BatchOptions: BatchOptions{Shards: 9, MaxParallel: 2}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res BatchResult
	_ = env.GetWorkflowResult(&res)
	if res.Items != 90 || res.ShardsByWorker["w1"] != 3 || res.Retried != 1 || res.Publish == nil || res.Publish.Rows != 90 {
		t.Errorf("result %+v", res)
	}
	if peak > 2 {
		t.Errorf("%d shards in flight, max_parallel is 2", peak)
	}
}

// TestBuildSimilarityShardsBySize checks that without explicit shards BuildSimilarity
// plans them from the prepared catalog's size, and that explicit shards win.
func TestBuildSimilarityShardsBySize(t *testing.T) {
	for _, c := range []struct {
		items, shards, want int
	}{
		{items: 0, want: 1},
		{items: 9000, want: 1},
		{items: 100000, want: 5},
		{items: 1000000, want: MaxSimilarityShards},
		{items: 1000000, shards: 3, want: 3},
	} {
		env := newEnv(t)
		passingChecks(env)
		env.RegisterActivity(&similarity.Activities{})
		var a *similarity.Activities
		env.OnActivity(a.PrepareSimilarity, mock.Anything, mock.Anything).Return(similarity.PrepareResult{Items: c.items}, nil)
		var mu sync.Mutex
		ran := map[int]bool{}
		env.OnActivity(a.SimilarityShard, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
				mu.Lock()
				defer mu.Unlock()
				if in.Shards != c.want {
					t.Errorf("%d items: shard input says %d shards, want %d", c.items, in.Shards, c.want)
				}
				ran[in.Shard] = true
				return activities.BatchShardResult{Shard: in.Shard, Worker: "w"}, nil
			})
		env.OnActivity(a.PublishSimilarity, mock.Anything, mock.Anything).Return(activities.ModelPublishResult{}, nil)
		env.ExecuteWorkflow(BuildSimilarity, BuildSimilarityInput{BatchOptions: BatchOptions{Shards: c.shards}})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		var res BatchResult
		_ = env.GetWorkflowResult(&res)
		if res.Shards != c.want || len(ran) != c.want {
			t.Errorf("%d items (shards %d): result says %d shards, %d ran, want %d", c.items, c.shards, res.Shards, len(ran), c.want)
		}
	}
}

// TestLargeJobsUseChildWorkflows checks that past ShardsPerChild shards the work moves to
// RunShards children, and every shard still runs exactly once.
func TestLargeJobsUseChildWorkflows(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	env.RegisterWorkflowWithOptions(RunShards, workflow.RegisterOptions{Name: RunShardsName})
	env.RegisterActivity(&similarity.Activities{})
	var a *similarity.Activities
	var mu sync.Mutex
	count := map[int]int{}
	env.OnActivity(a.SimilarityShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			mu.Lock()
			count[in.Shard]++
			mu.Unlock()
			return activities.BatchShardResult{Shard: in.Shard, Items: 1, Worker: "w"}, nil
		})
	env.OnActivity(a.PrepareSimilarity, mock.Anything, mock.Anything).Return(similarity.PrepareResult{}, nil)
	env.OnActivity(a.PublishSimilarity, mock.Anything, mock.Anything).Return(activities.ModelPublishResult{}, nil)
	children := 0
	env.SetOnChildWorkflowStartedListener(func(*workflow.Info, workflow.Context, converter.EncodedValues) { children++ })
	env.ExecuteWorkflow(BuildSimilarity, BuildSimilarityInput{BatchOptions: BatchOptions{Shards: 1100, MaxParallel: 50}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res BatchResult
	_ = env.GetWorkflowResult(&res)
	if res.Items != 1100 || len(count) != 1100 || children != 3 {
		t.Errorf("items %d, distinct shards %d, children %d", res.Items, len(count), children)
	}
	for s, n := range count {
		if n != 1 {
			t.Errorf("shard %d ran %d times", s, n)
		}
	}
}

func TestHourlyJobsShardByHour(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	env.RegisterActivity(&eventjobs.Activities{})
	var a *eventjobs.Activities
	env.OnActivity(a.EventHours, mock.Anything, mock.Anything).Return(eventjobs.HoursParams{Hours: make([]time.Time, 5)}, nil)
	n := 0
	env.OnActivity(a.ClickEdgesShard, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			n++
			return activities.BatchShardResult{Shard: in.Shard, Items: 2, Worker: "w"}, nil
		})
	env.OnActivity(a.ComputePageRank, mock.Anything, mock.Anything).Return(eventjobs.PageRankResult{}, nil)
	env.ExecuteWorkflow(ClickstreamPageRank, HourlyInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d shards, want one per hour (5)", n)
	}
}

// TestEventShardActivitiesExist checks that the event jobs' shard activities, run by
// name, are methods of eventjobs.Activities taking and returning the shard types.
func TestEventShardActivitiesExist(t *testing.T) {
	acts := reflect.TypeOf(&eventjobs.Activities{})
	want := reflect.TypeOf(func(*eventjobs.Activities, context.Context, activities.BatchShardInput) (activities.BatchShardResult, error) {
		return activities.BatchShardResult{}, nil
	})
	for _, name := range []string{uploadsShardActivity, clickEdgesShardActivity, adsShardActivity} {
		m, ok := acts.MethodByName(name)
		if !ok || m.Type != want {
			t.Errorf("shard activity %s: method %v, want %v", name, m.Type, want)
		}
	}
}
