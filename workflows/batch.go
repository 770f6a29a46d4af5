package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/eventjobs"
	"github.com/curiodata/curio/activities/similarity"
	"github.com/curiodata/curio/internal/assets"
)

// Batch job workflow names.
const (
	BuildSimilarityName     = "BuildSimilarity"
	AggregateUploadsName    = "AggregateUploads"
	ClickstreamPageRankName = "ClickstreamPageRank"
	TargetAdsName           = "TargetAds"
	RunShardsName           = "RunShards"
)

// Shard activities of the event jobs (eventjobs.Activities' methods), which runBatch
// runs by name: RunShardsInput.Activity is recorded in histories as a string.
const (
	uploadsShardActivity    = "UploadsShard"
	clickEdgesShardActivity = "ClickEdgesShard"
	adsShardActivity        = "AdsShard"
)

// similarityShardActivity is BuildSimilarity's shard activity (a method of
// similarity.Activities), which runBatch runs by name like the event jobs' above.
const similarityShardActivity = "SimilarityShard"

// ShardsPerChild bounds the shards one workflow runs itself: past it, shards are run by
// RunShards child workflows so no history grows beyond a few thousand events.
const ShardsPerChild = 500

// BatchOptions are common to every batch job. Zero values are defaults.
type BatchOptions struct {
	Shards      int `json:"shards,omitempty"`       // 0 picks the job's default
	MaxParallel int `json:"max_parallel,omitempty"` // shard activities in flight; default 8
	// HeartbeatTimeoutSeconds is how long a silent shard (a dead worker) waits before it is
	// retried on another worker; default 20.
	HeartbeatTimeoutSeconds int `json:"heartbeat_timeout_seconds,omitempty"`
}

// BatchResult summarizes a batch job.
type BatchResult struct {
	Version        string                         `json:"version"`
	Shards         int                            `json:"shards"`
	Items          int                            `json:"items"`
	ShardsByWorker map[string]int                 `json:"shards_by_worker"`
	Retried        int                            `json:"retried_shards"` // shards that needed more than one attempt
	Publish        *activities.ModelPublishResult `json:"publish,omitempty"`
}

// RunShardsInput is a range of shards of one job, run by a RunShards child workflow.
type RunShardsInput struct {
	Activity    string          `json:"activity"`
	Job         string          `json:"job"`
	Version     string          `json:"version"`
	From        int             `json:"from"`
	To          int             `json:"to"`
	Shards      int             `json:"shards"`
	MaxParallel int             `json:"max_parallel"`
	Heartbeat   time.Duration   `json:"heartbeat"`
	Params      json.RawMessage `json:"params,omitempty"`
}

func (o BatchOptions) withDefaults(defShards int) BatchOptions {
	if o.Shards <= 0 {
		o.Shards = defShards
	}
	if o.MaxParallel <= 0 {
		o.MaxParallel = 8
	}
	if o.HeartbeatTimeoutSeconds <= 0 {
		o.HeartbeatTimeoutSeconds = 20
	}
	return o
}

func batchVersion(ctx workflow.Context) string {
	runID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	return workflow.Now(ctx).UTC().Format("20060102T150405Z") + "-" + runID[:min(8, len(runID))]
}

// RunShards runs shards [From, To) of a job with bounded parallelism. Large jobs split
// themselves into RunShards children of at most ShardsPerChild shards.
func RunShards(ctx workflow.Context, in RunShardsInput) ([]activities.BatchShardResult, error) {
	if in.To-in.From > ShardsPerChild {
		var children []workflow.Future
		for from := in.From; from < in.To; from += ShardsPerChild {
			c := in
			c.From, c.To = from, min(from+ShardsPerChild, in.To)
			children = append(children, workflow.ExecuteChildWorkflow(ctx, RunShardsName, c))
		}
		var all []activities.BatchShardResult
		for _, f := range children {
			var part []activities.BatchShardResult
			if err := f.Get(ctx, &part); err != nil {
				return nil, err
			}
			all = append(all, part...)
		}
		return all, nil
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    in.Heartbeat,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 20,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	results := make([]activities.BatchShardResult, in.To-in.From)
	err := boundedFanOut(ctx, in.To-in.From, in.MaxParallel,
		func(i int) workflow.Future {
			return workflow.ExecuteActivity(actx, in.Activity, activities.BatchShardInput{
				Job: in.Job, Version: in.Version, Shard: in.From + i, Shards: in.Shards, Params: in.Params})
		},
		func(i int, f workflow.Future) error {
			if err := f.Get(ctx, &results[i]); err != nil {
				return fmt.Errorf("shard %d: %w", in.From+i, err)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", in.Job, in.Version, err)
	}
	return results, nil
}

// runBatch fans a job's shards out over the workers and summarizes the results.
func runBatch(ctx workflow.Context, job, activity, version string, o BatchOptions, params any) (BatchResult, []activities.BatchShardResult, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return BatchResult{}, nil, fmt.Errorf("%s params: %w", job, err)
	}
	res := BatchResult{Version: version, Shards: o.Shards, ShardsByWorker: map[string]int{}}
	if o.Shards == 0 {
		return res, nil, nil
	}
	in := RunShardsInput{Activity: activity, Job: job, Version: version, From: 0, To: o.Shards, Shards: o.Shards,
		MaxParallel: o.MaxParallel, Heartbeat: time.Duration(o.HeartbeatTimeoutSeconds) * time.Second, Params: raw}
	shards, err := RunShards(ctx, in)
	if err != nil {
		return res, nil, err
	}
	for _, s := range shards {
		res.Items += s.Items
		res.ShardsByWorker[s.Worker]++
		if s.Attempt > 1 {
			res.Retried++
		}
	}
	return res, shards, nil
}

// publishModel runs a job's publish activity and records the model asset.
func publishModel(ctx workflow.Context, res *BatchResult, asset string, started time.Time, publish any) error {
	var pub activities.ModelPublishResult
	if err := workflow.ExecuteActivity(shortActivity(ctx), publish, activities.ModelPublishInput{Version: res.Version}).Get(ctx, &pub); err != nil {
		return fmt.Errorf("publish %s: %w", asset, err)
	}
	res.Publish = &pub
	return recordAsset(ctx, activities.MaterializeInput{Asset: asset, Rows: pub.Rows, DataVersion: pub.Version, StartedAt: started})
}

func shortActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10, NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
}

// BuildSimilarityInput configures BuildSimilarity; `{}` is the default run.
type BuildSimilarityInput struct {
	BatchOptions
	K int `json:"k,omitempty"` // neighbors per item; default 10
	// MaxPostings bounds the postings one item's search scans, the most telling terms
	// first; default DefaultSimilarityMaxPostings; -1 scans them all (exact top-k, whose
	// cost grows with the square of the catalog when its words are shared by many items).
	MaxPostings int `json:"max_postings,omitempty"`
	// Rescore is how many candidates per item are scored exactly under MaxPostings;
	// default DefaultSimilarityRescore.
	Rescore int `json:"rescore,omitempty"`
}

// BuildSimilarity's default search budget per item: at most DefaultSimilarityMaxPostings
// postings scanned, DefaultSimilarityRescore candidates scored exactly. bench/README.md
// ("Item similarity") measures it against scikit-learn's exact neighbours: recall@10
// ≥ 0.99 at 100k and 1M items, and faster than scikit-learn's brute force per item.
const (
	DefaultSimilarityMaxPostings = 50000
	DefaultSimilarityRescore     = 2000
)

// similarityBudgetAndShards marks the change of the default budget from 30,000 postings and
// 1,000 rescored candidates (recall@10 ≈ 0.90 at 1M items) to the defaults above, and of
// the default shard count from 6 to SimilarityShards of the catalog's size: a run started
// before it keeps the plan it started with, so one version never mixes two.
const similarityBudgetAndShards = "similarity-budget-and-shards"

// SimilarityItemsPerShard and MaxSimilarityShards plan BuildSimilarity's default shards.
// A shard costs ~0.1 s of orchestration and 1–6 ms of search per item (bench/README.md),
// so 20,000 items keep the overhead under 1% while leaving enough shards at scale for
// every worker to take its share: activity slots are pulled, so six shards over three
// workers of four slots could all land on two of them.
const (
	SimilarityItemsPerShard = 20000
	MaxSimilarityShards     = 48
)

// SimilarityShards is BuildSimilarity's default shard count for a catalog of items.
func SimilarityShards(items int) int {
	return min(max((items+SimilarityItemsPerShard-1)/SimilarityItemsPerShard, 1), MaxSimilarityShards)
}

// similarityPrepared marks the change that made BuildSimilarity build its model once
// (PrepareSimilarity) for every shard to read: runs started before it replay without it.
const similarityPrepared = "similarity-prepared-model"

// BuildSimilarity computes top-k similar items (TF-IDF cosine over title, text, tags and
// people) for the whole catalog, sharded by item over the workers, then publishes the
// version to MySQL for GET /api/{movies|artworks}/:id/similar.
func BuildSimilarity(ctx workflow.Context, in BuildSimilarityInput) (BatchResult, error) {
	o := in.BatchOptions.withDefaults(6)
	if in.K <= 0 {
		in.K = 10
	}
	var a *similarity.Activities
	started := workflow.Now(ctx)
	version := batchVersion(ctx)
	params := similarity.SimilarityParams{K: in.K, Chunk: 200}
	if workflow.GetVersion(ctx, similarityPrepared, workflow.DefaultVersion, 1) >= 1 {
		defPostings, defRescore := 30000, 0 // 0: the activity's then default, 1,000
		bySize := workflow.GetVersion(ctx, similarityBudgetAndShards, workflow.DefaultVersion, 1) >= 1
		if bySize {
			defPostings, defRescore = DefaultSimilarityMaxPostings, DefaultSimilarityRescore
		}
		switch {
		case in.MaxPostings == 0:
			params.MaxPostings = defPostings
		case in.MaxPostings > 0:
			params.MaxPostings = in.MaxPostings
		}
		params.Rescore = in.Rescore
		if params.Rescore <= 0 {
			params.Rescore = defRescore
		}
		// Build the model once; the shards read it.
		pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 2 * time.Hour,
			HeartbeatTimeout:    time.Duration(o.HeartbeatTimeoutSeconds) * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
				NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
		})
		var prep similarity.PrepareResult
		if err := workflow.ExecuteActivity(pctx, a.PrepareSimilarity, similarity.PrepareInput{Version: version}).Get(ctx, &prep); err != nil {
			return BatchResult{Version: version}, fmt.Errorf("prepare similarity: %w", err)
		}
		params.Prepared = true
		if bySize && in.Shards <= 0 {
			o.Shards = SimilarityShards(prep.Items)
			workflow.GetLogger(ctx).Info("similarity plan", "items", prep.Items, "shards", o.Shards)
		}
	}
	res, _, err := runBatch(ctx, BuildSimilarityName, similarityShardActivity, version, o, params)
	if err != nil {
		return res, err
	}
	return res, publishModel(ctx, &res, assets.SimilarItems, started, a.PublishSimilarity)
}

// HourlyInput configures the per-hour jobs; `{}` covers every hour with events.
type HourlyInput struct {
	BatchOptions
	From time.Time `json:"from,omitempty"`
	To   time.Time `json:"to,omitempty"`
}

func hourlyBatch(ctx workflow.Context, job, activity, eventType string, in HourlyInput) (BatchResult, []activities.BatchShardResult, []time.Time, error) {
	var a *eventjobs.Activities
	var hours eventjobs.HoursParams
	if err := workflow.ExecuteActivity(shortActivity(ctx), a.EventHours, eventjobs.HoursInput{EventType: eventType, From: in.From, To: in.To}).Get(ctx, &hours); err != nil {
		return BatchResult{}, nil, nil, fmt.Errorf("plan %s: %w", job, err)
	}
	o := in.BatchOptions.withDefaults(len(hours.Hours))
	o.Shards = len(hours.Hours) // one shard per hour partition
	res, shards, err := runBatch(ctx, job, activity, batchVersion(ctx), o, hours)
	return res, shards, hours.Hours, err
}

// AggregateUploads counts uploads per country and hour (one shard per hour partition of
// raw_events), for the uploads world map by day. Each hour is an asset partition.
func AggregateUploads(ctx workflow.Context, in HourlyInput) (BatchResult, error) {
	started := workflow.Now(ctx)
	res, shards, hours, err := hourlyBatch(ctx, AggregateUploadsName, uploadsShardActivity, "upload", in)
	if err != nil {
		return res, err
	}
	for _, s := range shards {
		if err := recordAsset(ctx, activities.MaterializeInput{Asset: assets.UploadsHourly, Partition: assets.PartitionKey(hours[s.Shard]),
			Rows: int64(s.Items), DataVersion: res.Version, StartedAt: started}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ClickstreamPageRank aggregates click edges per hour partition over the workers (map),
// then computes PageRank over the merged graph and publishes the top pages (reduce).
func ClickstreamPageRank(ctx workflow.Context, in HourlyInput) (BatchResult, error) {
	started := workflow.Now(ctx)
	res, _, _, err := hourlyBatch(ctx, ClickstreamPageRankName, clickEdgesShardActivity, "click", in)
	if err != nil {
		return res, err
	}
	var a *eventjobs.Activities
	var pr eventjobs.PageRankResult
	if err := workflow.ExecuteActivity(shortActivity(ctx), a.ComputePageRank, activities.ModelPublishInput{Version: res.Version}).Get(ctx, &pr); err != nil {
		return res, fmt.Errorf("pagerank: %w", err)
	}
	res.Publish = &pr.ModelPublishResult
	return res, recordAsset(ctx, activities.MaterializeInput{Asset: assets.PageRank, Rows: pr.Rows, DataVersion: res.Version, StartedAt: started})
}

// TargetAdsInput configures TargetAds; `{}` looks at the last 7 days, 3+ searches.
type TargetAdsInput struct {
	BatchOptions
	WindowHours int `json:"window_hours,omitempty"` // default 168
	MinSearches int `json:"min_searches,omitempty"` // default 3
	MaxProducts int `json:"max_products,omitempty"` // default 5
}

// TargetAds finds users who searched a category repeatedly without buying, with the
// products to show them, sharded by user over the workers, and publishes them for
// GET /api/ads/:user.
func TargetAds(ctx workflow.Context, in TargetAdsInput) (BatchResult, error) {
	o := in.BatchOptions.withDefaults(4)
	if in.WindowHours <= 0 {
		in.WindowHours = 168
	}
	if in.MinSearches <= 0 {
		in.MinSearches = 3
	}
	if in.MaxProducts <= 0 {
		in.MaxProducts = 5
	}
	p := eventjobs.AdsParams{Now: workflow.Now(ctx).UTC(), Window: time.Duration(in.WindowHours) * time.Hour,
		MinSearches: in.MinSearches, MaxProducts: in.MaxProducts}
	started := workflow.Now(ctx)
	res, _, err := runBatch(ctx, TargetAdsName, adsShardActivity, batchVersion(ctx), o, p)
	if err != nil {
		return res, err
	}
	var a *eventjobs.Activities
	return res, publishModel(ctx, &res, assets.AdTargets, started, a.PublishAds)
}

// NoopBatchName is the diagnostic job measuring orchestration overhead.
const NoopBatchName = "NoopBatch"

// NoopBatch fans out shards that do nothing but record themselves: its time per shard is
// the orchestration overhead a real job pays on top of its work.
func NoopBatch(ctx workflow.Context, in BatchOptions) (BatchResult, error) {
	res, _, err := runBatch(ctx, NoopBatchName, "NoopShard", batchVersion(ctx), in.withDefaults(100), struct{}{})
	return res, err
}
