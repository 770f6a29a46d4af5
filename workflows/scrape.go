package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/assets"
)

// ScrapeCatalogName is the workflow type name of the crawler.
const ScrapeCatalogName = "ScrapeCatalog"

// Default base URLs. Artsy's public API was retired in 2025: point base_url at a server
// that speaks its HAL+JSON (a local one in tests and offline demos).
const (
	DefaultIMDbBaseURL  = "https://www.imdb.com"
	DefaultArtsyBaseURL = "https://api.artsy.net"
)

// ScrapeCatalogInput configures a crawl. `{}` crawls a few well-known IMDb titles.
type ScrapeCatalogInput struct {
	Source  string   `json:"source,omitempty"`   // imdb (default) or artsy
	Seeds   []string `json:"seeds,omitempty"`    // IMDb title ids / Artsy artist ids or slugs / full URLs
	Search  []string `json:"search,omitempty"`   // search terms whose results are crawled
	Limit   int      `json:"limit,omitempty"`    // most pages to fetch; default 100
	BaseURL string   `json:"base_url,omitempty"` // default per source
	// BatchSize is URLs per activity; default 10.
	BatchSize int `json:"batch_size,omitempty"`
	// SkipPublish leaves the scraped records in the warehouse without running CatalogPipeline.
	SkipPublish bool `json:"skip_publish,omitempty"`

	// State carries the frontier across continue-as-new; users leave it out.
	State *CrawlState `json:"state,omitempty"`
}

// CrawlState is a crawl's progress, carried across continue-as-new.
type CrawlState struct {
	Frontier  []string                `json:"frontier"`
	Seen      []string                `json:"seen"`
	Scheduled int                     `json:"scheduled"`
	Totals    catalogjob.ScrapeOutput `json:"totals"`
}

// ScrapeCatalogResult summarizes a crawl.
type ScrapeCatalogResult struct {
	Pages   int                     `json:"pages"`
	Totals  catalogjob.ScrapeOutput `json:"totals"`
	Publish *CatalogPipelineResult  `json:"publish,omitempty"`
}

// batchesPerRun bounds history: after this many batches the crawl continues as new.
const batchesPerRun = 200

// ScrapeCatalog crawls a source breadth-first from seeds and search terms: batches of URLs
// go to ScrapePages activities (polite, durable fetches into raw_pages, parsed into the
// cleaned tables), discovered URLs join the frontier until Limit pages, and the result is
// published through CatalogPipeline as a child workflow.
func ScrapeCatalog(ctx workflow.Context, in ScrapeCatalogInput) (ScrapeCatalogResult, error) {
	if in.Source == "" {
		in.Source = catalogjob.SourceIMDb
	}
	if in.Source != catalogjob.SourceIMDb && in.Source != catalogjob.SourceArtsy {
		return ScrapeCatalogResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unknown source %q: want imdb or artsy", in.Source), activities.ErrTypeBadInput, nil)
	}
	if in.BaseURL == "" {
		in.BaseURL = map[string]string{catalogjob.SourceIMDb: DefaultIMDbBaseURL, catalogjob.SourceArtsy: DefaultArtsyBaseURL}[in.Source]
	}
	if in.Limit <= 0 {
		in.Limit = 100
	}
	if in.BatchSize <= 0 {
		in.BatchSize = 10
	}
	st := in.State
	if st == nil {
		if len(in.Seeds) == 0 && len(in.Search) == 0 && in.Source == catalogjob.SourceIMDb {
			in.Seeds = []string{"tt0133093", "tt0114814", "tt0110912", "tt0068646", "tt3303790"}
		}
		st = &CrawlState{Frontier: catalogjob.SeedURLs(in.Source, in.BaseURL, in.Seeds, in.Search)}
		if len(st.Frontier) == 0 {
			return ScrapeCatalogResult{}, temporal.NewNonRetryableApplicationError(
				`nothing to crawl: give "seeds" (artist ids for artsy) or "search" terms`, activities.ErrTypeBadInput, nil)
		}
	}
	seen := map[string]bool{}
	for _, u := range st.Seen {
		seen[u] = true
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (CrawlState, error) { return *st, nil }); err != nil {
		return ScrapeCatalogResult{}, fmt.Errorf("register progress query: %w", err)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	var a *catalogjob.Activities
	for batches := 0; len(st.Frontier) > 0 && st.Scheduled < in.Limit; batches++ {
		if batches == batchesPerRun {
			in.State = st
			return ScrapeCatalogResult{}, workflow.NewContinueAsNewError(ctx, ScrapeCatalog, in)
		}
		var batch []string
		for len(st.Frontier) > 0 && len(batch) < in.BatchSize && st.Scheduled+len(batch) < in.Limit {
			u := st.Frontier[0]
			st.Frontier = st.Frontier[1:]
			if seen[u] {
				continue
			}
			seen[u] = true
			st.Seen = append(st.Seen, u)
			batch = append(batch, u)
		}
		if len(batch) == 0 {
			continue
		}
		st.Scheduled += len(batch)
		var out catalogjob.ScrapeOutput
		err := workflow.ExecuteActivity(actx, a.ScrapePages, catalogjob.ScrapeInput{
			Source: in.Source, BaseURL: in.BaseURL, RunKey: workflow.GetInfo(ctx).WorkflowExecution.ID, URLs: batch,
		}).Get(ctx, &out)
		if err != nil {
			return ScrapeCatalogResult{}, fmt.Errorf("scrape batch: %w", err)
		}
		for _, u := range out.Next {
			if !seen[u] && !slices.Contains(st.Frontier, u) {
				st.Frontier = append(st.Frontier, u)
			}
		}
		out.Next = nil
		st.Totals.Add(out)
	}
	res := ScrapeCatalogResult{Pages: st.Scheduled, Totals: st.Totals}
	if err := recordAsset(ctx, activities.MaterializeInput{Asset: assets.ScrapedPages, Rows: int64(st.Totals.Fetched + st.Totals.NotModified + st.Totals.Reused),
		DataVersion: workflow.GetInfo(ctx).WorkflowExecution.ID, StartedAt: workflow.GetInfo(ctx).WorkflowStartTime}); err != nil {
		return res, err
	}
	if in.SkipPublish || st.Totals.Records == 0 {
		return res, nil
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID + "-publish",
	})
	var pub CatalogPipelineResult
	if err := workflow.ExecuteChildWorkflow(cctx, CatalogPipelineName, CatalogPipelineInput{SkipDemo: true}).Get(ctx, &pub); err != nil {
		return res, fmt.Errorf("publish scraped catalog: %w", err)
	}
	res.Publish = &pub
	return res, nil
}
