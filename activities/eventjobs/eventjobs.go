// Package eventjobs holds the activities of the batch jobs over landed user-activity
// events: AggregateUploads (uploads per country and hour), ClickstreamPageRank (hourly
// click edges, then PageRank) and TargetAds (users who searched a category repeatedly
// without buying). Their SQL lives in postgres.EventJobStore; the models they publish go
// to MySQL through package published.
//
// The method names are the Temporal activity names: recorded histories and the batch
// runner (workflows.RunShards, by name) refer to them, so they must not change.
package eventjobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/adtarget"
	"github.com/curiodata/curio/internal/pagerank"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// Activities are the activities of the event batch jobs. Create one per worker so that
// Identity names the worker that ran each shard.
type Activities struct {
	Store     *postgres.EventJobStore // the jobs' warehouse tables
	Publisher published.Writer        // the serving store (*mysql.Store)
	Logger    *slog.Logger            // nil means slog.Default()
	Identity  string                  // worker identity, reported in shard results
}

// publishBatch is how many model rows one write to the serving store holds.
const publishBatch = 1000

// HoursParams list the hour partitions a per-hour job covers; shard i is Hours[i].
type HoursParams struct {
	Hours []time.Time `json:"hours"`
}

// HoursInput bounds a per-hour job; zero values mean every hour with events of its type.
type HoursInput struct {
	EventType string    `json:"event_type"`
	From      time.Time `json:"from,omitempty"`
	To        time.Time `json:"to,omitempty"`
}

// EventHours lists the hours in [From, To) that hold events of the given type, oldest first.
func (a *Activities) EventHours(ctx context.Context, in HoursInput) (HoursParams, error) {
	to := in.To
	if to.IsZero() {
		to = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	hours, err := a.Store.EventHours(ctx, in.EventType, in.From, to)
	if err != nil {
		return HoursParams{}, err
	}
	return HoursParams{Hours: hours}, nil
}

// hourOf is the hour partition of a per-hour job's shard.
func hourOf(in activities.BatchShardInput) (time.Time, error) {
	var p HoursParams
	if err := params(in, &p); err != nil {
		return time.Time{}, err
	}
	if in.Shard >= len(p.Hours) {
		return time.Time{}, badInput(fmt.Errorf("%s: shard %d but only %d hours", in.Job, in.Shard, len(p.Hours)))
	}
	return p.Hours[in.Shard].UTC(), nil
}

// UploadsShard counts one hour's uploads per country into upload_hourly, replacing what
// an earlier run wrote for that hour.
func (a *Activities) UploadsShard(ctx context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
	return a.replaceHour(ctx, in, a.Store.ReplaceUploadHour)
}

// ClickEdgesShard aggregates one hour's clicks into source→target edges (the map step of
// ClickstreamPageRank), replacing what an earlier run wrote for that hour.
func (a *Activities) ClickEdgesShard(ctx context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
	return a.replaceHour(ctx, in, a.Store.ReplaceClickEdgeHour)
}

// replaceHour rewrites the shard's hour with replace (one transaction: a re-run
// replaces, never adds) and records the shard.
func (a *Activities) replaceHour(ctx context.Context, in activities.BatchShardInput, replace func(context.Context, time.Time) (int64, error)) (activities.BatchShardResult, error) {
	started := time.Now()
	if err := validate(in); err != nil {
		return activities.BatchShardResult{}, err
	}
	hr, err := hourOf(in)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	n, err := replace(ctx, hr)
	if err != nil {
		return activities.BatchShardResult{}, fmt.Errorf("%s hour %s: %w", in.Job, hr.Format(time.RFC3339), err)
	}
	return a.finishShard(ctx, in, int(n), started)
}

// RankedItem is one published PageRank entry.
type RankedItem = published.RankedItem

// PageRankResult reports the reduce step.
type PageRankResult struct {
	activities.ModelPublishResult
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
	Edges      int  `json:"edges"`
}

// ComputePageRank is ClickstreamPageRank's reduce step: it merges the hourly edges, runs
// PageRank, stores the ranks and publishes them for the API.
func (a *Activities) ComputePageRank(ctx context.Context, in activities.ModelPublishInput) (PageRankResult, error) {
	// Reading, computing and writing a large version takes minutes: stay alive meanwhile.
	defer activities.KeepAlive(ctx, func() any { return in.Version })()
	edges, err := a.Store.ClickEdges(ctx)
	if err != nil {
		return PageRankResult{}, err
	}
	res := pagerank.Compute(edges, pagerank.Options{})
	if err := a.Store.ReplacePageRanks(ctx, in.Version, res.Ranks); err != nil {
		return PageRankResult{}, err
	}
	batch := make([]published.Row[RankedItem], 0, len(res.Ranks))
	for i, r := range res.Ranks {
		batch = append(batch, published.Row[RankedItem]{Key: r.ID, Rank: i + 1, Value: RankedItem{ID: r.ID, Score: r.Score, Rank: i + 1}})
	}
	pub, err := switchModel(ctx, a, published.PageRank, in.Version, batch)
	return PageRankResult{ModelPublishResult: pub, Iterations: res.Iterations, Converged: res.Converged, Edges: len(edges)}, err
}

// AdsParams are TargetAds' plan: one fixed window end so every shard sees the same data.
type AdsParams struct {
	Now         time.Time     `json:"now"`
	Window      time.Duration `json:"window"`
	MinSearches int           `json:"min_searches"`
	MaxProducts int           `json:"max_products"`
}

// AdsShard finds, for the users of its shard (by a stable hash of the user id), the
// categories they searched repeatedly without buying, with the products to show them, and
// replaces the shard's rows in ad_targets.
func (a *Activities) AdsShard(ctx context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
	started := time.Now()
	if err := validate(in); err != nil {
		return activities.BatchShardResult{}, err
	}
	var p AdsParams
	if err := params(in, &p); err != nil {
		return activities.BatchShardResult{}, err
	}
	from := p.Now.Add(-p.Window)
	sh := postgres.Shard{Index: in.Shard, Of: in.Shards}
	searches, err := a.Store.Searches(ctx, from, p.Now, sh)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	purchases, err := a.Store.Purchases(ctx, from, p.Now, sh)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	pop, err := a.Store.CategoryPopularity(ctx, searchedCategories(searches), from, p.Now, p.MaxProducts*4)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	targets := adtarget.Targets(searches, purchases, pop, adtarget.Options{MinSearches: p.MinSearches, Window: p.Window, Now: p.Now, MaxProducts: p.MaxProducts})
	if err := a.Store.ReplaceAdTargets(ctx, in.Version, sh, targets); err != nil {
		return activities.BatchShardResult{}, err
	}
	return a.finishShard(ctx, in, len(targets), started)
}

// searchedCategories are the distinct categories of searches, trimmed and in lower case,
// sorted.
func searchedCategories(searches []adtarget.Search) []string {
	var cats []string
	for _, s := range searches {
		cats = append(cats, strings.ToLower(strings.TrimSpace(s.Category)))
	}
	slices.Sort(cats)
	return slices.Compact(cats)
}

// AdTarget is one published ad target of a user.
type AdTarget = published.AdTarget

// PublishAds copies an ad-targeting version to MySQL, one row per user (their targets,
// latest search first), and switches the API to it.
func (a *Activities) PublishAds(ctx context.Context, in activities.ModelPublishInput) (activities.ModelPublishResult, error) {
	// Reading, computing and writing a large version takes minutes: stay alive meanwhile.
	defer activities.KeepAlive(ctx, func() any { return in.Version })()
	m := published.Ads
	var batch []published.Row[[]AdTarget]
	err := a.Store.EachAdTarget(ctx, in.Version, func(t adtarget.Target) error {
		if n := len(batch); n > 0 && batch[n-1].Key == t.UserID {
			batch[n-1].Value = append(batch[n-1].Value, AdTarget{Category: t.Category, Searches: t.Searches, LastSearch: t.LastSearch, Products: t.Products})
			return nil
		}
		// A new user: the rows before it are complete.
		if len(batch) >= publishBatch {
			if err := m.Put(ctx, a.Publisher, in.Version, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		batch = append(batch, published.Row[[]AdTarget]{Key: t.UserID,
			Value: []AdTarget{{Category: t.Category, Searches: t.Searches, LastSearch: t.LastSearch, Products: t.Products}}})
		return nil
	})
	if err != nil {
		return activities.ModelPublishResult{}, fmt.Errorf("publish %s %s: %w", m.Name(), in.Version, err)
	}
	return switchModel(ctx, a, m, in.Version, batch)
}
