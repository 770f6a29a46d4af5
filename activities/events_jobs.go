package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/adtarget"
	"github.com/curiodata/curio/internal/pagerank"
	"github.com/curiodata/curio/internal/published"
)

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
	rows, err := a.PG.Pool().Query(ctx, `SELECT DISTINCT date_trunc('hour', ts) FROM raw_events
		WHERE type = $1 AND ts >= $2 AND ts < $3 ORDER BY 1`, in.EventType, in.From, to)
	if err != nil {
		return HoursParams{}, fmt.Errorf("event hours: %w", err)
	}
	hours, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return HoursParams{}, fmt.Errorf("event hours: %w", err)
	}
	return HoursParams{Hours: hours}, nil
}

func (a *Activities) hourOf(in BatchShardInput) (time.Time, error) {
	var p HoursParams
	if err := in.params(&p); err != nil {
		return time.Time{}, err
	}
	if in.Shard >= len(p.Hours) {
		return time.Time{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("%s: shard %d but only %d hours", in.Job, in.Shard, len(p.Hours)))
	}
	return p.Hours[in.Shard].UTC(), nil
}

// UploadsShard counts one hour's uploads per country into upload_hourly, replacing what
// an earlier run wrote for that hour.
func (a *Activities) UploadsShard(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	return a.replaceHour(ctx, in, `DELETE FROM upload_hourly WHERE hour = $1`,
		`INSERT INTO upload_hourly (hour, country, count)
		SELECT $1, country, count(*) FROM raw_events WHERE type = 'upload' AND ts >= $1 AND ts < $2 AND country IS NOT NULL
		GROUP BY country`)
}

// ClickEdgesShard aggregates one hour's clicks into source→target edges (the map step of
// ClickstreamPageRank), replacing what an earlier run wrote for that hour.
func (a *Activities) ClickEdgesShard(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	return a.replaceHour(ctx, in, `DELETE FROM click_edges WHERE hour = $1`,
		`INSERT INTO click_edges (hour, source_item, target_item, clicks)
		SELECT $1, source_item, target_item, count(*) FROM raw_events
		WHERE type = 'click' AND ts >= $1 AND ts < $2 AND source_item IS NOT NULL AND target_item IS NOT NULL
		GROUP BY source_item, target_item`)
}

// replaceHour rewrites the shard's hour in one transaction: clear ($1 = hour), then
// aggregate ($1, $2 = hour, hour+1h). A re-run replaces, never adds.
func (a *Activities) replaceHour(ctx context.Context, in BatchShardInput, clear, aggregate string) (BatchShardResult, error) {
	started := time.Now()
	if err := in.validate(); err != nil {
		return BatchShardResult{}, err
	}
	hr, err := a.hourOf(in)
	if err != nil {
		return BatchShardResult{}, err
	}
	var n int64
	err = pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, clear, hr); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, aggregate, hr, hr.Add(time.Hour))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("%s hour %s: %w", in.Job, hr.Format(time.RFC3339), err)
	}
	return a.finishShard(ctx, in, int(n), started)
}

// RankedItem is one published PageRank entry.
type RankedItem = published.RankedItem

// PageRankResult reports the reduce step.
type PageRankResult struct {
	ModelPublishResult
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
	Edges      int  `json:"edges"`
}

// ComputePageRank is ClickstreamPageRank's reduce step: it merges the hourly edges, runs
// PageRank, stores the ranks and publishes them for the API.
func (a *Activities) ComputePageRank(ctx context.Context, in ModelPublishInput) (PageRankResult, error) {
	rows, err := a.PG.Pool().Query(ctx, `SELECT source_item, target_item, sum(clicks)::float8 FROM click_edges
		GROUP BY source_item, target_item ORDER BY 1, 2`)
	if err != nil {
		return PageRankResult{}, fmt.Errorf("read click edges: %w", err)
	}
	edges, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pagerank.Edge, error) {
		var e pagerank.Edge
		err := r.Scan(&e.From, &e.To, &e.Weight)
		return e, err
	})
	if err != nil {
		return PageRankResult{}, fmt.Errorf("read click edges: %w", err)
	}
	res := pagerank.Compute(edges, pagerank.Options{})
	ids := make([]string, len(res.Ranks))
	scores := make([]float64, len(res.Ranks))
	ranks := make([]int32, len(res.Ranks))
	batch := make([]published.Row[RankedItem], 0, len(res.Ranks))
	for i, r := range res.Ranks {
		ids[i], scores[i], ranks[i] = r.ID, r.Score, int32(i+1)
		batch = append(batch, published.Row[RankedItem]{Key: r.ID, Rank: i + 1, Value: RankedItem{ID: r.ID, Score: r.Score, Rank: i + 1}})
	}
	err = pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM page_ranks WHERE version = $1`, in.Version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO page_ranks (version, item_id, rank, score) SELECT $1, * FROM unnest($2::text[], $3::int[], $4::float8[])`,
			in.Version, ids, ranks, scores)
		return err
	})
	if err != nil {
		return PageRankResult{}, fmt.Errorf("store page ranks: %w", err)
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

// userShard is the SQL predicate putting col's user in shard $shard of $shards (a stable
// hash, so every worker agrees on membership).
func userShard(col string, shards, shard int) string {
	return fmt.Sprintf("mod(abs(hashtextextended(%s, 0)), $%d::bigint) = $%d::bigint", col, shards, shard)
}

// AdsShard finds, for the users of its shard (by a stable hash of the user id), the
// categories they searched repeatedly without buying, with the products to show them, and
// replaces the shard's rows in ad_targets.
func (a *Activities) AdsShard(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	started := time.Now()
	if err := in.validate(); err != nil {
		return BatchShardResult{}, err
	}
	var p AdsParams
	if err := in.params(&p); err != nil {
		return BatchShardResult{}, err
	}
	from := p.Now.Add(-p.Window)
	rows, err := a.PG.Pool().Query(ctx, `SELECT user_id, category, coalesce(query, ''), ts FROM raw_events
		WHERE type = 'search' AND ts >= $1 AND ts < $2 AND category IS NOT NULL AND `+userShard("user_id", 3, 4),
		from, p.Now, in.Shards, in.Shard)
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("read searches: %w", err)
	}
	searches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (adtarget.Search, error) {
		var s adtarget.Search
		err := r.Scan(&s.UserID, &s.Category, &s.Query, &s.At)
		return s, err
	})
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("read searches: %w", err)
	}
	// A purchase counts against every category of the item bought.
	rows, err = a.PG.Pool().Query(ctx, `WITH cats AS (`+itemCategories+`)
		SELECT e.user_id, e.item_id, c.category, e.ts FROM raw_events e JOIN cats c ON c.id = e.item_id
		WHERE e.type = 'purchase' AND e.ts >= $1 AND e.ts < $2 AND `+userShard("e.user_id", 3, 4),
		from, p.Now, in.Shards, in.Shard)
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("read purchases: %w", err)
	}
	purchases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (adtarget.Purchase, error) {
		var x adtarget.Purchase
		err := r.Scan(&x.UserID, &x.ItemID, &x.Category, &x.At)
		return x, err
	})
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("read purchases: %w", err)
	}
	pop, err := a.popularity(ctx, searches, from, p.Now, p.MaxProducts*4)
	if err != nil {
		return BatchShardResult{}, err
	}
	targets := adtarget.Targets(searches, purchases, pop, adtarget.Options{MinSearches: p.MinSearches, Window: p.Window, Now: p.Now, MaxProducts: p.MaxProducts})
	err = pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM ad_targets WHERE version = $1 AND `+userShard("user_id", 2, 3),
			in.Version, in.Shards, in.Shard); err != nil {
			return err
		}
		for _, t := range targets {
			if _, err := tx.Exec(ctx, `INSERT INTO ad_targets (version, user_id, category, searches, last_search, products)
				VALUES ($1,$2,$3,$4,$5,$6)`, in.Version, t.UserID, t.Category, t.Searches, t.LastSearch, t.Products); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("store ad targets: %w", err)
	}
	return a.finishShard(ctx, in, len(targets), started)
}

// itemCategories lists (item id, lower-case category) for the whole catalog.
const itemCategories = `SELECT id, lower(g) AS category FROM movies, unnest(genres) AS g
	UNION ALL SELECT id, lower(classification) FROM artworks WHERE classification <> ''
	UNION ALL SELECT id, lower(medium) FROM artworks WHERE medium <> ''`

// popularity returns, for each searched category, its items ordered by views and
// purchases in the window (then id), at most per items each.
func (a *Activities) popularity(ctx context.Context, searches []adtarget.Search, from, to time.Time, per int) (adtarget.Popularity, error) {
	var cats []string
	for _, s := range searches {
		cats = append(cats, strings.ToLower(strings.TrimSpace(s.Category)))
	}
	slices.Sort(cats)
	cats = slices.Compact(cats)
	pop := adtarget.Popularity{}
	if len(cats) == 0 {
		return pop, nil
	}
	rows, err := a.PG.Pool().Query(ctx, `WITH cats AS (`+itemCategories+`),
		n AS (SELECT item_id, count(*) AS n FROM raw_events WHERE type IN ('view', 'purchase') AND ts >= $1 AND ts < $2 GROUP BY item_id),
		ranked AS (SELECT c.category, c.id, row_number() OVER (PARTITION BY c.category ORDER BY coalesce(n.n, 0) DESC, c.id) AS r
			FROM cats c LEFT JOIN n ON n.item_id = c.id WHERE c.category = ANY($3))
		SELECT category, id FROM ranked WHERE r <= $4 ORDER BY category, r`, from, to, cats, per)
	if err != nil {
		return nil, fmt.Errorf("category popularity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, id string
		if err := rows.Scan(&c, &id); err != nil {
			return nil, fmt.Errorf("category popularity: %w", err)
		}
		pop[c] = append(pop[c], id)
	}
	return pop, rows.Err()
}

// AdTarget is one published ad target of a user.
type AdTarget = published.AdTarget

// PublishAds copies an ad-targeting version to MySQL, one row per user.
func (a *Activities) PublishAds(ctx context.Context, in ModelPublishInput) (ModelPublishResult, error) {
	return publishGrouped(ctx, a, published.Ads, in.Version,
		`SELECT user_id, category, searches, last_search, products FROM ad_targets WHERE version = $1 ORDER BY user_id, last_search DESC, category`,
		func(r pgx.Rows) (string, AdTarget, error) {
			var user string
			var t AdTarget
			err := r.Scan(&user, &t.Category, &t.Searches, &t.LastSearch, &t.Products)
			return user, t, err
		}, in.Version)
}
