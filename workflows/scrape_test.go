package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/curiodata/curio/activities/catalogjob"
)

func TestScrapeCatalogCrawlsFrontierAndPublishes(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	env.RegisterWorkflowWithOptions(CatalogPipeline, workflowOpts(CatalogPipelineName))
	var a *catalogjob.Activities
	var batches [][]string
	env.OnActivity(a.ScrapePages, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in catalogjob.ScrapeInput) (catalogjob.ScrapeOutput, error) {
			batches = append(batches, in.URLs)
			out := catalogjob.ScrapeOutput{Fetched: len(in.URLs)}
			for _, u := range in.URLs {
				if strings.Contains(u, "/find/") {
					// A search page: discovers 5 titles, one of them twice.
					for _, id := range []string{"tt1", "tt2", "tt3", "tt4", "tt5", "tt1"} {
						out.Next = append(out.Next, "http://x/title/"+id+"/")
					}
				} else {
					out.Records++
				}
			}
			return out, nil
		})
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.PlanIndex, mock.Anything, mock.Anything).Return(catalogjob.IndexPlan{Version: "v", Shards: 1}, nil)
	env.OnActivity(a.BuildIndexShard, mock.Anything, mock.Anything).Return(catalogjob.ShardResult{Docs: 4}, nil)
	env.OnActivity(a.PublishCatalog, mock.Anything, mock.Anything).Return(catalogjob.PublishResult{Version: "v", Docs: 4}, nil)

	env.ExecuteWorkflow(ScrapeCatalog, ScrapeCatalogInput{Search: []string{"harbor"}, BaseURL: "http://x", Limit: 5, BatchSize: 2})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res ScrapeCatalogResult
	_ = env.GetWorkflowResult(&res)
	if res.Pages != 5 || res.Totals.Records != 4 || res.Publish == nil || res.Publish.Docs != 4 {
		t.Fatalf("result = %+v", res)
	}
	seen := map[string]bool{}
	for _, b := range batches {
		if len(b) > 2 {
			t.Errorf("batch larger than batch_size: %v", b)
		}
		for _, u := range b {
			if seen[u] {
				t.Errorf("%s fetched twice", u)
			}
			seen[u] = true
		}
	}
	if seen["http://x/title/tt5/"] {
		t.Error("limit of 5 pages exceeded")
	}
}

func TestScrapeCatalogDefaultsAndBadInput(t *testing.T) {
	env := newEnv(t)
	passingChecks(env)
	var a *catalogjob.Activities
	var first catalogjob.ScrapeInput
	env.OnActivity(a.ScrapePages, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in catalogjob.ScrapeInput) (catalogjob.ScrapeOutput, error) {
			if first.Source == "" {
				first = in
			}
			return catalogjob.ScrapeOutput{FetchFailed: len(in.URLs)}, nil
		})
	env.ExecuteWorkflow(ScrapeCatalog, ScrapeCatalogInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if first.Source != "imdb" || first.BaseURL != DefaultIMDbBaseURL || len(first.URLs) == 0 || first.RunKey == "" {
		t.Errorf("defaults: %+v", first)
	}

	env = newEnv(t)
	passingChecks(env)
	env.ExecuteWorkflow(ScrapeCatalog, ScrapeCatalogInput{Source: "artsy"})
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "nothing to crawl") {
		t.Errorf("artsy without seeds: %v", err)
	}
	env = newEnv(t)
	passingChecks(env)
	env.ExecuteWorkflow(ScrapeCatalog, ScrapeCatalogInput{Source: "myspace"})
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "unknown source") {
		t.Errorf("bad source: %v", err)
	}
}
