package workflows

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/assets"
)

// topicsEnv mocks the topic activities: every sweep of round r must finish before any
// sweep of round r+1 starts (each sweep reads every shard's counts of the previous round).
func topicsEnv(t *testing.T, q activities.TopicsQuality) (*[]activities.MaterializeInput, *bool, func() []int, func(BuildTopicsInput) error) {
	env := newEnv(t)
	recs := passingChecks(env)
	var a *activities.Activities
	var mu sync.Mutex
	swept := map[int]int{} // round -> shards swept
	published := false
	env.OnActivity(a.PrepareTopics, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p activities.TopicsParams) (activities.TopicsPlan, error) {
			return activities.TopicsPlan{RunID: p.RunID, Docs: 90, Heldout: 10, Vocab: 50, Shards: p.Shards}, nil
		})
	env.OnActivity(a.TopicsSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			mu.Lock()
			defer mu.Unlock()
			var p activities.TopicsParams
			if err := jsonUnmarshal(in.Params, &p); err != nil {
				t.Fatal(err)
			}
			if p.Iteration > 1 && swept[p.Iteration-1] != p.Shards {
				t.Errorf("sweep of round %d while round %d has %d of %d shards done", p.Iteration, p.Iteration-1, swept[p.Iteration-1], p.Shards)
			}
			if !strings.HasPrefix(in.Version, p.RunID+"/it") {
				t.Errorf("shard version %q does not name the run and round", in.Version)
			}
			swept[p.Iteration]++
			return activities.BatchShardResult{Shard: in.Shard, Items: 30, Worker: "w1", Attempt: 1}, nil
		})
	env.OnActivity(a.FinishTopics, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p activities.TopicsParams) (activities.TopicsQuality, error) {
			if p.Iteration != len(swept) || swept[p.Iteration] != p.Shards {
				t.Errorf("finish at iteration %d after rounds %v", p.Iteration, swept)
			}
			return q, nil
		})
	env.OnActivity(a.PublishTopics, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ModelPublishInput) (activities.ModelPublishResult, error) {
			published = true
			return activities.ModelPublishResult{Model: "topics", Version: in.Version, Rows: 5}, nil
		}).Maybe()
	run := func(in BuildTopicsInput) error {
		env.ExecuteWorkflow(BuildTopics, in)
		return env.GetWorkflowError()
	}
	return recs, &published, func() []int {
		var rounds []int
		for r := 1; swept[r] > 0; r++ {
			rounds = append(rounds, swept[r])
		}
		return rounds
	}, run
}

func TestBuildTopicsRoundsThenPublishes(t *testing.T) {
	recs, published, rounds, topicsRun := topicsEnv(t, activities.TopicsQuality{Topics: 4, Items: 100, Perplexity: 30, UniformPPL: 50})
	if err := topicsRun(BuildTopicsInput{BatchOptions: BatchOptions{Shards: 3}, K: 4, Iterations: 5}); err != nil {
		t.Fatal(err)
	}
	if got := rounds(); len(got) != 5 || got[0] != 3 || got[4] != 3 {
		t.Errorf("sweeps per round %v, want 5 rounds of 3", got)
	}
	if !*published {
		t.Error("model not published")
	}
	last := (*recs)[len(*recs)-1]
	if last.Asset != assets.TopicModel || last.Failed || last.Rows != 100 || len(last.Checks) != 1 || !last.Checks[0].Passed {
		t.Errorf("materialization %+v", last)
	}
}

func TestBuildTopicsCheckBlocksPublish(t *testing.T) {
	// Worse than a uniform model: something is broken, so nothing is published.
	recs, published, _, topicsRun := topicsEnv(t, activities.TopicsQuality{Topics: 4, Items: 100, Perplexity: 80, UniformPPL: 50})
	err := topicsRun(BuildTopicsInput{BatchOptions: BatchOptions{Shards: 2}, K: 4, Iterations: 2})
	if err == nil || !strings.Contains(err.Error(), "heldout_perplexity") && !strings.Contains(err.Error(), "perplexity") {
		t.Fatalf("want a failed check, got %v", err)
	}
	if *published {
		t.Error("published a model that failed its check")
	}
	if last := (*recs)[len(*recs)-1]; last.Asset != assets.TopicModel || !last.Failed {
		t.Errorf("materialization %+v, want failed", last)
	}
}

func TestBuildTopicsRejectsBadInput(t *testing.T) {
	_, _, _, topicsRun := topicsEnv(t, activities.TopicsQuality{})
	if err := topicsRun(BuildTopicsInput{K: 5000}); err == nil || !strings.Contains(err.Error(), "k must be at most 1000") {
		t.Fatalf("want a clear error, got %v", err)
	}
}

func TestTermsRollupRecordsEachHourAndStopsOnMismatch(t *testing.T) {
	env := newEnv(t)
	recs := passingChecks(env)
	var a *activities.Activities
	from := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	env.OnActivity(a.RollupTerms, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.TermsRollupInput) (activities.TermsRollupResult, error) {
			bad := in.Hour.Equal(from.Add(2 * time.Hour))
			r := activities.TermsRollupResult{Hour: in.Hour, Terms: 3, Tokens: 10, Consistent: !bad}
			if bad {
				r.Mismatched = 1
			}
			return r, nil
		})
	env.ExecuteWorkflow(TermsRollup, TermsRollupInput{From: from, To: from.Add(4 * time.Hour)})
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "hour_equals_sum_of_minutes") && !strings.Contains(err.Error(), "differ") {
		t.Fatalf("want the mismatched hour to fail the run, got %v", err)
	}
	var got []string
	for _, r := range *recs {
		got = append(got, r.Partition+map[bool]string{true: " failed", false: ""}[r.Failed])
	}
	want := []string{"2026-11-23T08", "2026-11-23T09", "2026-11-23T10 failed"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("partitions recorded %v, want %v", got, want)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
