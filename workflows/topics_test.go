package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/termsjob"
	"github.com/curiodata/curio/activities/topicmodel"
	"github.com/curiodata/curio/internal/assets"
)

// newTopicsEnv is newEnv with the topic activities registered too.
func newTopicsEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := newEnv(t)
	env.RegisterActivity(&topicmodel.Activities{})
	return env
}

// topicsEnv mocks the topic activities over a corpus of 900 training tokens: every sweep
// of round r must finish before any sweep of round r+1 starts (each sweep reads every
// shard's counts of the previous round).
func topicsEnv(t *testing.T, q topicmodel.TopicsQuality) (*[]activities.MaterializeInput, *bool, func() []int, func(BuildTopicsInput) error) {
	_, recs, published, rounds, run := topicsEnvSized(t, q, 900, nil)
	return recs, published, rounds, run
}

// topicsEnvSized is topicsEnv over a corpus of `tokens` training tokens, planned by the
// real topicmodel.PlanTopics; fits (if not nil) collects the TopicsFit calls.
func topicsEnvSized(t *testing.T, q topicmodel.TopicsQuality, tokens int64, fits *[]topicmodel.TopicsParams) (*testsuite.TestWorkflowEnvironment, *[]activities.MaterializeInput, *bool, func() []int, func(BuildTopicsInput) error) {
	env := newTopicsEnv(t)
	recs := passingChecks(env)
	var a *topicmodel.Activities
	var mu sync.Mutex
	swept := map[int]int{} // round -> shards swept
	published := false
	env.OnActivity(a.PrepareTopics, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsPlan, error) {
			plan := topicmodel.TopicsPlan{RunID: p.RunID, Docs: 90, Heldout: 10, Vocab: 50, Tokens: tokens}
			plan.Mode, plan.Shards, plan.RoundSeconds, plan.Reason = topicmodel.PlanTopics(tokens, p.K, p.Sweeps, p.Shards, p.PlanBySize)
			return plan, nil
		})
	fitted := 0
	env.OnActivity(a.TopicsFit, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsFitResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if fits != nil {
				*fits = append(*fits, p)
			}
			fitted = p.Iteration
			return topicmodel.TopicsFitResult{Iteration: p.Iteration, Docs: 90, Worker: "w1"}, nil
		}).Maybe()
	env.OnActivity(a.TopicsSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			mu.Lock()
			defer mu.Unlock()
			var p topicmodel.TopicsParams
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
		func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsQuality, error) {
			if fitted > 0 {
				if p.Iteration != fitted || p.Shards != 1 || len(swept) != 0 {
					t.Errorf("finish at iteration %d of %d shards after a fit to %d and rounds %v", p.Iteration, p.Shards, fitted, swept)
				}
			} else if p.Iteration != len(swept) || swept[p.Iteration] != p.Shards {
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
	return env, recs, &published, func() []int {
		var rounds []int
		for r := 1; swept[r] > 0; r++ {
			rounds = append(rounds, swept[r])
		}
		return rounds
	}, run
}

func TestBuildTopicsRoundsThenPublishes(t *testing.T) {
	recs, published, rounds, topicsRun := topicsEnv(t, topicmodel.TopicsQuality{Topics: 4, Items: 100, Perplexity: 30, UniformPPL: 50})
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

// TestBuildTopicsPlansBySize: without explicit shards a small corpus is fitted by one
// TopicsFit activity and a large one gets the shards its sampling justifies; the progress
// query names the plan and its reason.
func TestBuildTopicsPlansBySize(t *testing.T) {
	good := topicmodel.TopicsQuality{Topics: 4, Items: 100, Perplexity: 30, UniformPPL: 50}
	progress := func(env *testsuite.TestWorkflowEnvironment) TopicsProgress {
		t.Helper()
		v, err := env.QueryWorkflow("progress")
		if err != nil {
			t.Fatal(err)
		}
		var pr TopicsProgress
		if err := v.Get(&pr); err != nil {
			t.Fatal(err)
		}
		return pr
	}
	t.Run("small corpus: one activity", func(t *testing.T) {
		var fits []topicmodel.TopicsParams
		env, _, published, rounds, run := topicsEnvSized(t, good, 900, &fits)
		if err := run(BuildTopicsInput{K: 4, Iterations: 7}); err != nil {
			t.Fatal(err)
		}
		if len(fits) != 1 || fits[0].Iteration != 7 || fits[0].Shards != 1 || len(rounds()) != 0 || !*published {
			t.Fatalf("fits %+v, sweep rounds %v, published %v: want one fit to iteration 7 and no sweeps", fits, rounds(), *published)
		}
		var res BuildTopicsResult
		if err := env.GetWorkflowResult(&res); err != nil || res.Plan.Mode != topicmodel.PlanSingle || res.Shards != 1 || res.ShardsByWorker["w1"] != 1 {
			t.Errorf("result %+v %v", res, err)
		}
		pr := progress(env)
		if pr.Phase != "done" || pr.Iteration != 7 || pr.Mode != topicmodel.PlanSingle || pr.Shards != 1 || !strings.Contains(pr.Reason, "one activity") {
			t.Errorf("progress %+v", pr)
		}
	})
	t.Run("large corpus: shards by size", func(t *testing.T) {
		var fits []topicmodel.TopicsParams
		// 80M tokens at K=4: 1.6 s a round, single; at K=20: 8 s, two shards.
		env, _, _, rounds, run := topicsEnvSized(t, good, 80_000_000, &fits)
		if err := run(BuildTopicsInput{K: 20, Iterations: 3}); err != nil {
			t.Fatal(err)
		}
		if got := rounds(); len(fits) != 0 || len(got) != 3 || got[0] != 2 || got[2] != 2 {
			t.Fatalf("fits %v, sweeps per round %v: want 3 rounds of 2 shards", fits, got)
		}
		pr := progress(env)
		if pr.Mode != topicmodel.PlanSharded || pr.Shards != 2 || pr.RoundSeconds < 7.9 || pr.Reason == "" {
			t.Errorf("progress %+v", pr)
		}
	})
	t.Run("explicit shards are obeyed", func(t *testing.T) {
		env, _, _, rounds, run := topicsEnvSized(t, good, 900, nil)
		if err := run(BuildTopicsInput{BatchOptions: BatchOptions{Shards: 3}, K: 4, Iterations: 2}); err != nil {
			t.Fatal(err)
		}
		if got := rounds(); len(got) != 2 || got[0] != 3 {
			t.Fatalf("sweeps per round %v, want 2 rounds of 3", got)
		}
		if pr := progress(env); pr.Mode != topicmodel.PlanSharded || pr.Shards != 3 || !strings.Contains(pr.Reason, "as requested") {
			t.Errorf("progress %+v", pr)
		}
	})
}

func TestBuildTopicsCheckBlocksPublish(t *testing.T) {
	// Worse than a uniform model: something is broken, so nothing is published.
	recs, published, _, topicsRun := topicsEnv(t, topicmodel.TopicsQuality{Topics: 4, Items: 100, Perplexity: 80, UniformPPL: 50})
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
	_, _, _, topicsRun := topicsEnv(t, topicmodel.TopicsQuality{})
	if err := topicsRun(BuildTopicsInput{K: 5000}); err == nil || !strings.Contains(err.Error(), "k must be at most 1000") {
		t.Fatalf("want a clear error, got %v", err)
	}
}

func TestTermsRollupRecordsEachHourAndStopsOnMismatch(t *testing.T) {
	env := newEnv(t)
	recs := passingChecks(env)
	env.RegisterActivity(&termsjob.Activities{})
	var a *termsjob.Activities
	from := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	env.OnActivity(a.RollupTerms, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in termsjob.TermsRollupInput) (termsjob.TermsRollupResult, error) {
			bad := in.Hour.Equal(from.Add(2 * time.Hour))
			r := termsjob.TermsRollupResult{Hour: in.Hour, Terms: 3, Tokens: 10, Consistent: !bad}
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

// TestBuildTopicsContinuesAsNewEveryRoundsPerRun runs 5 of 7 rounds at 2 rounds per run:
// the first run prepares and sweeps rounds 1-2, then continues as new carrying the run id,
// the plan and the per-worker counts; a run resumed from that state sweeps 3-4 and does
// not prepare again.
func TestBuildTopicsContinuesAsNewEveryRoundsPerRun(t *testing.T) {
	_, published, rounds, topicsRun := topicsEnv(t, topicmodel.TopicsQuality{Topics: 4, Items: 100, Perplexity: 30, UniformPPL: 50})
	in := BuildTopicsInput{BatchOptions: BatchOptions{Shards: 3}, K: 4, Iterations: 7, RoundsPerRun: 2}
	next := continuedAsNew(t, topicsRun(in))
	if got := rounds(); len(got) != 2 || got[0] != 3 || got[1] != 3 {
		t.Fatalf("sweeps per round %v before continue-as-new, want 2 rounds of 3", got)
	}
	if *published {
		t.Error("published before the last round")
	}
	st := next.State
	if st == nil || st.Done != 2 || st.RunID == "" || st.Plan.RunID != st.RunID || st.Plan.Docs != 90 ||
		st.ShardsByWorker["w1"] != 6 || st.Started.IsZero() {
		t.Fatalf("continued with state %+v", st)
	}
	if next.K != 4 || next.Iterations != 7 || next.RoundsPerRun != 2 || next.Shards != 3 {
		t.Errorf("continued with input %+v, want the same settings", next)
	}

	// The next run, on a fresh environment: rounds 3 and 4, then continue-as-new again.
	env := newTopicsEnv(t)
	passingChecks(env)
	var a *topicmodel.Activities
	var swept []int
	env.OnActivity(a.TopicsSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			var p topicmodel.TopicsParams
			if err := jsonUnmarshal(in.Params, &p); err != nil {
				t.Fatal(err)
			}
			if p.RunID != st.RunID || !strings.HasPrefix(in.Version, st.RunID+"/it") {
				t.Errorf("sweep of run %q (version %q), want the carried run %q", p.RunID, in.Version, st.RunID)
			}
			swept = append(swept, p.Iteration)
			return activities.BatchShardResult{Shard: in.Shard, Items: 30, Worker: "w2", Attempt: 1}, nil
		})
	env.OnActivity(a.PrepareTopics, mock.Anything, mock.Anything).Return(topicmodel.TopicsPlan{}, nil).Never()
	env.ExecuteWorkflow(BuildTopics, next)
	again := continuedAsNew(t, env.GetWorkflowError())
	v, err := env.QueryWorkflow("progress")
	if err != nil {
		t.Fatal(err)
	}
	var prog TopicsProgress
	if err := v.Get(&prog); err != nil {
		t.Fatal(err)
	}
	if prog.Phase != "sampling" || prog.Iteration != 4 || prog.Iterations != 7 {
		t.Errorf("progress %+v at the end of the continued run, want sampling 4 of 7", prog)
	}
	if want := []int{3, 3, 3, 4, 4, 4}; !slices.Equal(swept, want) {
		t.Errorf("swept rounds %v, want %v", swept, want)
	}
	if s := again.State; s == nil || s.Done != 4 || s.RunID != st.RunID || s.ShardsByWorker["w1"] != 6 || s.ShardsByWorker["w2"] != 6 {
		t.Errorf("continued again with state %+v", again.State)
	}
}

// TestBuildTopicsFinishesInAContinuedRun resumes at the last round: one round, then
// finish, publish and record, with the carried run id and start time.
func TestBuildTopicsFinishesInAContinuedRun(t *testing.T) {
	env := newTopicsEnv(t)
	recs := passingChecks(env)
	var a *topicmodel.Activities
	started := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	st := &TopicsState{RunID: "20261123T040000Z-abcdef12", Started: started, Done: 4,
		Plan: topicmodel.TopicsPlan{RunID: "20261123T040000Z-abcdef12", Docs: 90, Heldout: 10}, ShardsByWorker: map[string]int{"w1": 8}}
	env.OnActivity(a.TopicsSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			return activities.BatchShardResult{Shard: in.Shard, Items: 30, Worker: "w1", Attempt: 1}, nil
		}).Times(2)
	env.OnActivity(a.FinishTopics, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsQuality, error) {
			if p.Iteration != 5 || p.RunID != st.RunID {
				t.Errorf("finish with %+v", p)
			}
			return topicmodel.TopicsQuality{Topics: 4, Items: 100, Perplexity: 30, UniformPPL: 50}, nil
		})
	env.OnActivity(a.PublishTopics, mock.Anything, mock.Anything).Return(activities.ModelPublishResult{Model: "topics", Version: st.RunID}, nil)
	env.ExecuteWorkflow(BuildTopics, BuildTopicsInput{BatchOptions: BatchOptions{Shards: 2}, K: 4, Iterations: 5, RoundsPerRun: 2, State: st})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res BuildTopicsResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Version != st.RunID || res.ShardsByWorker["w1"] != 10 || res.Items != 100 || res.Publish == nil {
		t.Errorf("result %+v", res)
	}
	last := (*recs)[len(*recs)-1]
	if last.Asset != assets.TopicModel || last.DataVersion != st.RunID || !last.StartedAt.Equal(started) {
		t.Errorf("materialization %+v, want the carried version and start", last)
	}
}

// continuedAsNew asserts err continues BuildTopics as new and returns the next input.
func continuedAsNew(t *testing.T, err error) BuildTopicsInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	if can.WorkflowType.Name != BuildTopicsName {
		t.Fatalf("continued as %q", can.WorkflowType.Name)
	}
	var next BuildTopicsInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	return next
}

// TestBuildTopicsDefaultRoundsPerRun: `{}`-style input continues as new after 100 rounds.
func TestBuildTopicsDefaultRoundsPerRun(t *testing.T) {
	_, _, rounds, topicsRun := topicsEnv(t, topicmodel.TopicsQuality{Topics: 4, Items: 100, Perplexity: 30, UniformPPL: 50})
	next := continuedAsNew(t, topicsRun(BuildTopicsInput{BatchOptions: BatchOptions{Shards: 1}, K: 4, Iterations: 150}))
	if got := len(rounds()); got != defaultTopicsRoundsPerRun || next.State == nil || next.State.Done != defaultTopicsRoundsPerRun {
		t.Errorf("%d rounds, then continued with %+v; want %d", got, next.State, defaultTopicsRoundsPerRun)
	}
}

// TestBuildTopicsStartedBeforeContinueAsNewKeepsLooping: a run whose history predates the
// topics-continue-as-new change (GetVersion answers DefaultVersion) runs every round itself,
// so replaying it issues the same commands as when it was recorded.
func TestBuildTopicsStartedBeforeContinueAsNewKeepsLooping(t *testing.T) {
	env := newTopicsEnv(t)
	passingChecks(env)
	var a *topicmodel.Activities
	env.OnGetVersion(topicsContinueAsNew, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.OnActivity(a.PrepareTopics, mock.Anything, mock.Anything).Return(topicmodel.TopicsPlan{Docs: 9, Heldout: 1}, nil)
	env.OnActivity(a.TopicsSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			return activities.BatchShardResult{Shard: in.Shard, Worker: "w1", Attempt: 1}, nil
		}).Times(5)
	env.OnActivity(a.FinishTopics, mock.Anything, mock.Anything).Return(topicmodel.TopicsQuality{Perplexity: 30, UniformPPL: 50}, nil)
	env.OnActivity(a.PublishTopics, mock.Anything, mock.Anything).Return(activities.ModelPublishResult{}, nil)
	env.ExecuteWorkflow(BuildTopics, BuildTopicsInput{BatchOptions: BatchOptions{Shards: 1}, Iterations: 5, RoundsPerRun: 2})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("want the old behaviour (no continue-as-new), got %v", err)
	}
}

// TestBuildTopicsStartedBeforePlanBySizeShards: a run whose history predates the
// topics-plan-by-size change asks PrepareTopics for the default 3 shards and sweeps them,
// as when it was recorded.
func TestBuildTopicsStartedBeforePlanBySizeShards(t *testing.T) {
	env := newTopicsEnv(t)
	passingChecks(env)
	var a *topicmodel.Activities
	env.OnGetVersion(topicsPlanBySize, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.OnActivity(a.PrepareTopics, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p topicmodel.TopicsParams) (topicmodel.TopicsPlan, error) {
			if p.PlanBySize || p.Shards != 3 {
				t.Errorf("old run prepared with %+v, want 3 shards as asked", p)
			}
			return topicmodel.TopicsPlan{Docs: 9, Heldout: 1, Shards: p.Shards}, nil
		})
	env.OnActivity(a.TopicsSweep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
			return activities.BatchShardResult{Shard: in.Shard, Worker: "w1", Attempt: 1}, nil
		}).Times(6)
	env.OnActivity(a.FinishTopics, mock.Anything, mock.Anything).Return(topicmodel.TopicsQuality{Perplexity: 30, UniformPPL: 50}, nil)
	env.OnActivity(a.PublishTopics, mock.Anything, mock.Anything).Return(activities.ModelPublishResult{}, nil)
	env.ExecuteWorkflow(BuildTopics, BuildTopicsInput{Iterations: 2})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}
