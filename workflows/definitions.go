package workflows

import (
	"time"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// hourInput turns an hour partition key into a job's input.
func hourInput(mk func(hr time.Time) any) func(string) (any, error) {
	return func(key string) (any, error) {
		hr, err := pipeline.HourlyPartitions.ParseTime(key)
		if err != nil {
			return nil, err
		}
		return mk(hr), nil
	}
}

// modelDebounce is how long the catalog must stay unchanged before the automation
// refreshes the models built on it (similar items, topics).
const modelDebounce = 10 * time.Second

// publishPool serializes the jobs that publish to MySQL (catalog versions and models): one
// at a time, so a model build never competes with another for the serving database and
// the machine's cores.
func publishPool() []pipeline.Pool { return []pipeline.Pool{{Name: "mysql-publish", Limit: 1}} }

// Jobs declares Curio's built-in jobs: each workflow with its input, the assets it
// materializes and its default schedules. Their activities are the methods of
// activities.Activities, registered by the worker.
func Jobs() []pipeline.Job {
	const day = 24 * time.Hour
	return []pipeline.Job{
		{Name: ScrapeCatalogName, Pools: []pipeline.Pool{{Name: "scrape", Limit: 2}}, Description: "crawl IMDb title/search pages or the Artsy API, then publish what was found",
			Input: func() any { return &ScrapeCatalogInput{} }, Workflow: ScrapeCatalog,
			Assets: []pipeline.Asset{{Name: assets.ScrapedPages, Freshness: 2 * day,
				Description: "crawled IMDb/Artsy pages (raw zone), gzip bodies with fetch and parse outcome"}},
			Schedules: []pipeline.Schedule{{ID: "scrape-daily", Cron: "0 3 * * *", Jitter: 10 * time.Minute, CatchupWindow: 6 * time.Hour}}},
		{Name: CatalogPipelineName, Pools: publishPool(), Description: "load the catalog (demo data and datasets), build the search index over the workers, publish it",
			Input: func() any { return &CatalogPipelineInput{} }, Workflow: CatalogPipeline,
			Assets: []pipeline.Asset{
				{Name: assets.CatalogItems, Upstreams: []pipeline.Upstream{pipeline.On(assets.ScrapedPages)}, Freshness: 2 * day,
					Description: "cleaned movies, artworks and artists in the warehouse (raw rows kept in raw_records)",
					Checks: []pipeline.Check{{Name: "no_empty_titles", Blocking: true, Description: "every item has a title"},
						{Name: "no_duplicate_ids", Blocking: true, Description: "no id is used by two item types"}}},
				{Name: assets.SearchIndex, Upstreams: []pipeline.Upstream{pipeline.On(assets.CatalogItems)}, Freshness: 2 * day,
					Description: "BM25 index segments of one catalog version",
					Checks: []pipeline.Check{{Name: "row_count_within_bounds", Blocking: true,
						Description: "the new index holds at least half the served version's documents"}}},
				{Name: assets.ServingCatalog, Upstreams: []pipeline.Upstream{pipeline.On(assets.SearchIndex)}, Freshness: 2 * day,
					Description: "catalog version published to MySQL and served by the API"},
			}},
		{Name: IngestEventsName, Description: "supervise the Kafka consumers: the lander (raw_events) and the stream (popularity, terms)",
			Input: func() any { return &IngestEventsInput{} }, Workflow: IngestEvents},
		{Name: LandEventsName, Description: "record an hour of raw_events as materialized once the lander has caught up",
			Input: func() any { return &LandEventsInput{} }, Workflow: LandEvents,
			Assets: []pipeline.Asset{{Name: assets.RawEvents, Partitioning: pipeline.HourlyPartitions, Freshness: 2 * time.Hour,
				Description:    "user-activity events landed from Kafka, one partition per hour",
				Automation:     []pipeline.Policy{pipeline.MissingPolicy(day)},
				PartitionInput: hourInput(func(hr time.Time) any { return LandEventsInput{Hour: hr, Grace: time.Second} })}},
			Schedules: []pipeline.Schedule{{ID: "land-events-hourly", Cron: "5 * * * *", Overlap: "buffer_one", Jitter: time.Minute,
				CatchupWindow: day}}},
		{Name: AggregateUploadsName, Description: "upload counts per country and hour, sharded by hour over the workers",
			Input: func() any { return &HourlyInput{} }, Workflow: AggregateUploads,
			Assets: []pipeline.Asset{{Name: assets.UploadsHourly, Partitioning: pipeline.HourlyPartitions, Freshness: 2 * time.Hour,
				Upstreams: []pipeline.Upstream{pipeline.On(assets.RawEvents)}, Description: "upload counts per country and hour",
				Automation:     []pipeline.Policy{pipeline.MissingPolicy(day)},
				PartitionInput: hourInput(func(hr time.Time) any { return HourlyInput{From: hr, To: hr.Add(time.Hour)} })}},
			Schedules: []pipeline.Schedule{{ID: "aggregate-uploads-hourly", Cron: "10 * * * *", Jitter: 2 * time.Minute, CatchupWindow: time.Hour}}},
		{Name: ClickstreamPageRankName, Pools: publishPool(), Description: "PageRank of items over the click graph",
			Input: func() any { return &HourlyInput{} }, Workflow: ClickstreamPageRank,
			Assets: []pipeline.Asset{{Name: assets.PageRank, Upstreams: []pipeline.Upstream{pipeline.On(assets.RawEvents)},
				Freshness: 2 * time.Hour, Description: "PageRank of items over click edges"}},
			Schedules: []pipeline.Schedule{{ID: "refresh-pagerank-hourly", Cron: "15 * * * *", Jitter: 2 * time.Minute, CatchupWindow: time.Hour}}},
		{Name: TargetAdsName, Pools: publishPool(), Description: "users who search a category repeatedly without buying, with products to show them",
			Input: func() any { return &TargetAdsInput{} }, Workflow: TargetAds,
			Assets: []pipeline.Asset{{Name: assets.AdTargets, Freshness: 2 * time.Hour,
				Upstreams:   []pipeline.Upstream{pipeline.On(assets.RawEvents), pipeline.On(assets.CatalogItems)},
				Description: "users to target per category, with products"}},
			Schedules: []pipeline.Schedule{{ID: "refresh-ads-hourly", Cron: "20 * * * *", Jitter: 2 * time.Minute, CatchupWindow: time.Hour}}},
		{Name: BuildSimilarityName, Pools: publishPool(), Description: "top-k similar items (TF-IDF cosine), sharded by item over the workers",
			Input: func() any { return &BuildSimilarityInput{} }, Workflow: BuildSimilarity,
			Assets: []pipeline.Asset{{Name: assets.SimilarItems, Upstreams: []pipeline.Upstream{pipeline.On(assets.CatalogItems)},
				Freshness: 26 * time.Hour, Description: "top-k similar items per item",
				Automation: []pipeline.Policy{pipeline.EagerPolicy(modelDebounce)}}},
			Schedules: []pipeline.Schedule{{ID: "similarity-nightly", Cron: "30 2 * * *", Jitter: 15 * time.Minute, CatchupWindow: 6 * time.Hour}}},
		{Name: TermsRollupName, Description: "check each hour's term windows (1h = sum of its 1m windows) and prune old windows",
			Input: func() any { return &TermsRollupInput{} }, Workflow: TermsRollup,
			Assets: []pipeline.Asset{{Name: assets.TermsTrending, Partitioning: pipeline.HourlyPartitions, Freshness: 2 * time.Hour,
				Description: "top terms and #tags per 1-minute and 1-hour window (speed line), checked and pruned hourly",
				Automation:  []pipeline.Policy{pipeline.MissingPolicy(6 * time.Hour)},
				Checks: []pipeline.Check{{Name: "hour_equals_sum_of_minutes", Blocking: true,
					Description: "the hour's 1h window equals the sum of its sixty 1m windows"}},
				PartitionInput: hourInput(func(hr time.Time) any { return TermsRollupInput{From: hr, To: hr.Add(time.Hour)} })}},
			Schedules: []pipeline.Schedule{{ID: "terms-rollup-hourly", Cron: "25 * * * *", Jitter: 2 * time.Minute, CatchupWindow: 6 * time.Hour}}},
		{Name: BuildTopicsName, Pools: publishPool(), Description: "LDA topics (AD-LDA Gibbs sampling) over the catalog, sharded over the workers",
			Input: func() any { return &BuildTopicsInput{} }, Workflow: BuildTopics,
			Assets: []pipeline.Asset{{Name: assets.TopicModel, Upstreams: []pipeline.Upstream{pipeline.On(assets.CatalogItems)},
				Freshness: 26 * time.Hour, Description: "LDA topics over movie plots and artwork descriptions, with each item's topic mix",
				Automation: []pipeline.Policy{pipeline.EagerPolicy(modelDebounce)},
				Checks: []pipeline.Check{{Name: "heldout_perplexity_below_uniform", Blocking: true,
					Description: "held-out perplexity is below a uniform model's"}}}},
			Schedules: []pipeline.Schedule{{ID: "topics-nightly", Cron: "0 4 * * *", Jitter: 15 * time.Minute, CatchupWindow: 6 * time.Hour}}},
		{Name: NoopBatchName, Description: "a batch of no-op shards, to measure orchestration overhead",
			Input: func() any { return &BatchOptions{} }, Workflow: NoopBatch},
		{Name: AutomationName, Description: "evaluate the assets' automation policies, the jobs' sensors and the alerts, and start what they call for",
			Input: func() any { return &AutomationInput{} }, Workflow: Automation, Internal: true},
		{Name: RunShardsName, Description: "runs one batch job's shard activities (started by batch jobs)",
			Input: func() any { return &RunShardsInput{} }, Workflow: RunShards, Internal: true},
	}
}

// Definitions returns the built-in jobs with the user's, checked (pipeline.New), and the
// Backfill job that backfills any of their assets.
func Definitions(user ...pipeline.Job) (*pipeline.Definitions, error) {
	b := &Backfiller{}
	defs, err := pipeline.New(append(append(Jobs(), user...), BackfillJob(b))...)
	if err != nil {
		return nil, err
	}
	b.Defs = defs
	return defs, nil
}

// BackfillJob declares the Backfill workflow of b.
func BackfillJob(b *Backfiller) pipeline.Job {
	return pipeline.Job{Name: BackfillName, Description: "re-materialize the selected partitions of an asset as child workflows",
		Input: func() any { return &BackfillInput{} }, Workflow: b.Backfill}
}
