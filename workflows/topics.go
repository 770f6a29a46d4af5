package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/topicmodel"
	"github.com/curiodata/curio/internal/assets"
)

// BuildTopicsName is the topic model workflow.
const BuildTopicsName = "BuildTopics"

// BuildTopicsInput configures BuildTopics; `{}` is the default run. Without `shards` the
// plan is by corpus size (one activity, or up to 3 shards of at least
// topicmodel.MinShardRoundSeconds of sampling per round each); explicit `shards` always
// shards the fit that many ways.
type BuildTopicsInput struct {
	BatchOptions
	K          int `json:"k,omitempty"`          // topics; default 20
	Iterations int `json:"iterations,omitempty"` // rounds over the workers; default 50
	// Sweeps are Gibbs sweeps per shard per round; default 1. More saves orchestration but
	// samples against staler counts: on a 9k-document synthetic corpus, 6 shards, 2 sweeps ×
	// 25 rounds gave held-out perplexity 990 and 5 × 10 gave 1,393, against 944 for 1 × 50.
	Sweeps     int     `json:"sweeps,omitempty"`
	Alpha      float64 `json:"alpha,omitempty"`   // default 50/K
	Beta       float64 `json:"beta,omitempty"`    // default 0.01
	Heldout    float64 `json:"heldout,omitempty"` // fraction held out for perplexity; default 0.1
	MinDocFreq int     `json:"min_doc_freq,omitempty"`
	MaxVocab   int     `json:"max_vocab,omitempty"`
	TopWords   int     `json:"top_words,omitempty"` // stored per topic; default 15
	Seed       uint64  `json:"seed,omitempty"`
	// RoundsPerRun bounds the history: after this many rounds the workflow continues as
	// new (sooner when Temporal suggests it); default 100.
	RoundsPerRun int `json:"rounds_per_run,omitempty"`

	// State carries a run in progress across continue-as-new; users leave it out.
	State *TopicsState `json:"state,omitempty"`
}

// TopicsState is what BuildTopics carries into the run it continues as.
type TopicsState struct {
	RunID          string                `json:"run_id"` // the model version; names the shards in PostgreSQL
	Started        time.Time             `json:"started"`
	Plan           topicmodel.TopicsPlan `json:"plan"`
	Done           int                   `json:"done"` // rounds completed
	ShardsByWorker map[string]int        `json:"shards_by_worker,omitempty"`
	Retried        int                   `json:"retried,omitempty"`
}

// defaultTopicsRoundsPerRun keeps a run's history near 1,500 events at 3 shards (each
// round adds three events per shard and a workflow task), far below Temporal's 51,200.
const defaultTopicsRoundsPerRun = 100

// topicsContinueAsNew marks the change that made BuildTopics continue as new: runs
// started before it replay without it (see README "Changing workflows safely").
const topicsContinueAsNew = "topics-continue-as-new"

// topicsPlanBySize marks the change that made BuildTopics plan by corpus size (one
// TopicsFit activity for small corpora, shards only beyond): runs started before it keep
// sharding as they were asked.
const topicsPlanBySize = "topics-plan-by-size"

// TopicsProgress is what the `progress` query of BuildTopics answers.
type TopicsProgress struct {
	Phase      string `json:"phase"` // preparing, sampling, finishing, publishing, done
	Iteration  int    `json:"iteration"`
	Iterations int    `json:"iterations"`
	// The plan, once PrepareTopics made it: mode single or sharded, the shards, the
	// estimated sampling seconds of one round over the whole corpus, and why. In mode
	// single the iteration moves when TopicsFit ends; its heartbeat details
	// (TopicsFitProgress) report each iteration.
	Mode         string  `json:"mode,omitempty"`
	Shards       int     `json:"shards,omitempty"`
	RoundSeconds float64 `json:"round_seconds,omitempty"`
	Reason       string  `json:"reason,omitempty"`
}

// BuildTopicsResult summarizes a topic model run.
type BuildTopicsResult struct {
	BatchResult
	Plan    topicmodel.TopicsPlan    `json:"plan"`
	Quality topicmodel.TopicsQuality `json:"quality"`
}

// BuildTopics fits an LDA topic model over movie plots and artwork descriptions by
// collapsed Gibbs sampling. PrepareTopics plans by size (topicmodel.PlanTopics): a corpus
// whose round of sampling is too short to be worth splitting (under two shards of
// topicmodel.MinShardRoundSeconds each) is fitted by one TopicsFit activity that runs
// every sweep itself; a larger one, or any run given explicit `shards`, is distributed
// over the workers (AD-LDA): every round, each shard sweeps its documents against the
// previous round's global topic-word counts (the sum of every shard's counts of that
// round, which each sweep adds up itself). The fitted topics and every item's topic mix
// go to PostgreSQL, are checked (held-out perplexity must beat a uniform model) and
// published to MySQL for /api/topics.
func BuildTopics(ctx workflow.Context, in BuildTopicsInput) (BuildTopicsResult, error) {
	// Few shards: every shard samples against the others' counts of the previous round, so
	// more shards mean staler counts (one per worker machine is the sweet spot).
	explicitShards := in.Shards > 0
	o := in.BatchOptions.withDefaults(3)
	if in.K <= 0 {
		in.K = 20
	}
	if in.Iterations <= 0 {
		in.Iterations = 50
	}
	if in.Sweeps <= 0 {
		in.Sweeps = 1
	}
	if in.Heldout <= 0 {
		in.Heldout = 0.1
	}
	if in.TopWords <= 0 {
		in.TopWords = 15
	}
	if in.Heldout >= 0.9 || in.K > 1000 || in.Iterations > 10_000 {
		return BuildTopicsResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("BuildTopics: k must be at most 1000, iterations at most 10000 and heldout below 0.9, got %d, %d, %g", in.K, in.Iterations, in.Heldout),
			activities.ErrTypeBadInput, nil)
	}
	if in.RoundsPerRun <= 0 {
		in.RoundsPerRun = defaultTopicsRoundsPerRun
	}
	progress := TopicsProgress{Phase: "preparing", Iterations: in.Iterations}
	if err := workflow.SetQueryHandler(ctx, "progress", func() (TopicsProgress, error) { return progress, nil }); err != nil {
		return BuildTopicsResult{}, err
	}
	canVersion := workflow.GetVersion(ctx, topicsContinueAsNew, workflow.DefaultVersion, 1)
	planVersion := workflow.GetVersion(ctx, topicsPlanBySize, workflow.DefaultVersion, 1)
	st := in.State
	if st == nil {
		st = &TopicsState{Started: workflow.Now(ctx), RunID: batchVersion(ctx)}
	}
	if st.ShardsByWorker == nil {
		st.ShardsByWorker = map[string]int{}
	}
	runID := st.RunID
	p := topicmodel.TopicsParams{RunID: runID, K: in.K, Alpha: in.Alpha, Beta: in.Beta, Shards: o.Shards, Heldout: in.Heldout,
		MinDocFreq: in.MinDocFreq, MaxVocab: in.MaxVocab, Seed: in.Seed, Sweeps: in.Sweeps, TopWords: in.TopWords, MaxItemTopics: 5}
	if p.Seed == 0 {
		p.Seed = 1
	}
	// Without explicit shards, PrepareTopics plans by size, with the default as the most.
	p.PlanBySize = planVersion >= 1 && !explicitShards
	var a *topicmodel.Activities
	res := BuildTopicsResult{BatchResult: BatchResult{Version: runID, Shards: o.Shards, ShardsByWorker: st.ShardsByWorker, Retried: st.Retried}}
	if in.State == nil {
		if err := workflow.ExecuteActivity(shortActivity(ctx), a.PrepareTopics, p).Get(ctx, &st.Plan); err != nil {
			return res, fmt.Errorf("prepare topics: %w", err)
		}
	}
	res.Plan = st.Plan
	res.Items = res.Plan.Docs + res.Plan.Heldout
	if st.Plan.Mode != "" { // planned by PrepareTopics (plans made before then have no mode)
		o.Shards, p.Shards = st.Plan.Shards, st.Plan.Shards
		res.Shards = st.Plan.Shards
	}
	progress.Phase, progress.Iteration = "sampling", st.Done
	progress.Mode, progress.Shards, progress.RoundSeconds, progress.Reason = st.Plan.Mode, o.Shards, st.Plan.RoundSeconds, st.Plan.Reason
	p.Iteration = st.Done
	if st.Plan.Mode == topicmodel.PlanSingle && st.Done < in.Iterations {
		// One activity runs every sweep in its worker, storing its state now and then; a
		// retry (on any worker) resumes from the last state stored.
		fctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 6 * time.Hour,
			HeartbeatTimeout:    time.Duration(o.HeartbeatTimeoutSeconds) * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 20,
				NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
		})
		p.Iteration = in.Iterations
		var fit topicmodel.TopicsFitResult
		if err := workflow.ExecuteActivity(fctx, a.TopicsFit, p).Get(ctx, &fit); err != nil {
			return res, fmt.Errorf("topics fit: %w", err)
		}
		st.ShardsByWorker[fit.Worker]++
		st.Done = in.Iterations
		progress.Iteration = st.Done
	}
	for rounds := 0; st.Done < in.Iterations; rounds++ {
		if canVersion >= 1 && rounds > 0 && (rounds >= in.RoundsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()) {
			next := in
			next.State = st
			return BuildTopicsResult{}, workflow.NewContinueAsNewError(ctx, BuildTopicsName, next)
		}
		it := st.Done + 1
		p.Iteration = it
		round, _, err := runBatch(ctx, BuildTopicsName, "TopicsSweep", fmt.Sprintf("%s/it%04d", runID, it), o, p)
		if err != nil {
			return res, fmt.Errorf("topics iteration %d: %w", it, err)
		}
		// Summing counts into another map gives the same sums in any order.
		//workflowcheck:ignore
		for w, n := range round.ShardsByWorker {
			st.ShardsByWorker[w] += n
		}
		st.Retried += round.Retried
		res.Retried = st.Retried
		st.Done = it
		progress.Iteration = it
	}
	started := st.Started
	progress.Phase = "finishing"
	if err := workflow.ExecuteActivity(shortActivity(ctx), a.FinishTopics, p).Get(ctx, &res.Quality); err != nil {
		return res, fmt.Errorf("finish topics: %w", err)
	}
	q := res.Quality
	check := assets.CheckResult{Name: "heldout_perplexity_below_uniform", Blocking: true,
		Passed: q.Perplexity > 0 && q.Perplexity < q.UniformPPL,
		Detail: fmt.Sprintf("held-out perplexity %.1f vs %.0f for a uniform model over the vocabulary (UMass %.2f, NPMI %.3f)",
			q.Perplexity, q.UniformPPL, q.CoherenceUMass, q.CoherenceNPMI)}
	if res.Plan.Heldout == 0 {
		check.Passed, check.Detail = true, "no held-out items (catalog too small): perplexity not measured"
	}
	checks := []assets.CheckResult{check}
	if !check.Passed {
		return res, checkFailed(ctx, assets.TopicModel, "", started, checks, check.Detail)
	}
	progress.Phase = "publishing"
	var pub activities.ModelPublishResult
	if err := workflow.ExecuteActivity(shortActivity(ctx), a.PublishTopics, activities.ModelPublishInput{Version: runID}).Get(ctx, &pub); err != nil {
		return res, fmt.Errorf("publish topics: %w", err)
	}
	res.Publish = &pub
	progress.Phase = "done"
	return res, recordAsset(ctx, activities.MaterializeInput{Asset: assets.TopicModel, Rows: q.Items, DataVersion: runID,
		StartedAt: started, Checks: checks})
}
