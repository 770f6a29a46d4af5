package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/adtarget"
	"github.com/curiodata/curio/internal/pagerank"
)

// EventJobStore is the warehouse side of the event batch jobs (AggregateUploads,
// ClickstreamPageRank and TargetAds, package activities/eventjobs). It reads the landed
// raw_events (written by internal/ingest's lander) and the catalog, and is the one writer
// of the jobs' tables: upload_hourly, click_edges, page_ranks and ad_targets
// (internal/ingest's Reader also reads upload_hourly for the API).
//
// It also records the jobs' bookkeeping in batch_shard_runs and model_versions /
// model_current, which the jobs still running as methods of activities.Activities write
// as well (activities/batch.go), until those move to their own packages.
type EventJobStore struct {
	pool *pgxpool.Pool
	*BatchRunStore
}

// EventJobs returns the store of the event batch jobs.
func (s *Store) EventJobs() *EventJobStore {
	return &EventJobStore{pool: s.pool, BatchRunStore: s.BatchRuns()}
}

// EventHours lists the hours in [from, to) that hold events of eventType, oldest first.
func (s *EventJobStore) EventHours(ctx context.Context, eventType string, from, to time.Time) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT date_trunc('hour', ts) FROM raw_events
		WHERE type = $1 AND ts >= $2 AND ts < $3 ORDER BY 1`, eventType, from, to)
	if err != nil {
		return nil, fmt.Errorf("event hours: %w", err)
	}
	hours, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("event hours: %w", err)
	}
	return hours, nil
}

// ReplaceUploadHour counts the uploads of the hour starting at hour per country into
// upload_hourly, replacing what an earlier run wrote for that hour, and returns the number
// of rows written.
func (s *EventJobStore) ReplaceUploadHour(ctx context.Context, hour time.Time) (int64, error) {
	n, err := s.replaceHour(ctx, hour, `DELETE FROM upload_hourly WHERE hour = $1`,
		`INSERT INTO upload_hourly (hour, country, count)
		SELECT $1, country, count(*) FROM raw_events WHERE type = 'upload' AND ts >= $1 AND ts < $2 AND country IS NOT NULL
		GROUP BY country`)
	if err != nil {
		return 0, fmt.Errorf("upload_hourly %s: %w", hour.Format(time.RFC3339), err)
	}
	return n, nil
}

// ReplaceClickEdgeHour aggregates the clicks of the hour starting at hour into
// source→target edges in click_edges, replacing what an earlier run wrote for that hour,
// and returns the number of edges written.
func (s *EventJobStore) ReplaceClickEdgeHour(ctx context.Context, hour time.Time) (int64, error) {
	n, err := s.replaceHour(ctx, hour, `DELETE FROM click_edges WHERE hour = $1`,
		`INSERT INTO click_edges (hour, source_item, target_item, clicks)
		SELECT $1, source_item, target_item, count(*) FROM raw_events
		WHERE type = 'click' AND ts >= $1 AND ts < $2 AND source_item IS NOT NULL AND target_item IS NOT NULL
		GROUP BY source_item, target_item`)
	if err != nil {
		return 0, fmt.Errorf("click_edges %s: %w", hour.Format(time.RFC3339), err)
	}
	return n, nil
}

// replaceHour rewrites an hour in one transaction: clear ($1 = hour), then aggregate
// ($1, $2 = hour, hour+1h). A re-run replaces, never adds.
func (s *EventJobStore) replaceHour(ctx context.Context, hour time.Time, clear, aggregate string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, clear, hour); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, aggregate, hour, hour.Add(time.Hour))
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// ClickEdges merges the hourly click edges of every hour: one edge per (source, target)
// weighted by its clicks, ordered by source then target.
func (s *EventJobStore) ClickEdges(ctx context.Context) ([]pagerank.Edge, error) {
	rows, err := s.pool.Query(ctx, `SELECT source_item, target_item, sum(clicks)::float8 FROM click_edges
		GROUP BY source_item, target_item ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read click edges: %w", err)
	}
	defer rows.Close()
	// One string per item, shared by all its edges, instead of two per row: at 30M edges
	// over 5M items the edges take about half the memory (the reduce holds them all).
	ids := map[string]string{}
	intern := func(b []byte) string {
		if id, ok := ids[string(b)]; ok { // no allocation for the lookup
			return id
		}
		id := string(b)
		ids[id] = id
		return id
	}
	var edges []pagerank.Edge
	var from string
	for rows.Next() {
		var e pagerank.Edge
		if err := rows.Scan(nil, nil, &e.Weight); err != nil {
			return nil, fmt.Errorf("read click edges: %w", err)
		}
		raw := rows.RawValues() // text columns: the UTF-8 bytes, in either format
		if from == "" || from != string(raw[0]) {
			from = intern(raw[0])
		}
		e.From, e.To = from, intern(raw[1])
		edges = append(edges, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read click edges: %w", err)
	}
	return edges, nil
}

// ReplacePageRanks stores the ranks of a PageRank version, best first (rank 1 is
// ranks[0]), replacing what an earlier run stored for that version.
func (s *EventJobStore) ReplacePageRanks(ctx context.Context, version string, ranks []pagerank.Rank) error {
	ids := make([]string, len(ranks))
	scores := make([]float64, len(ranks))
	positions := make([]int32, len(ranks))
	for i, r := range ranks {
		ids[i], scores[i], positions[i] = r.ID, r.Score, int32(i+1)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM page_ranks WHERE version = $1`, version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO page_ranks (version, item_id, rank, score) SELECT $1, * FROM unnest($2::text[], $3::int[], $4::float8[])`,
			version, ids, positions, scores)
		return err
	})
	if err != nil {
		return fmt.Errorf("store page ranks %s: %w", version, err)
	}
	return nil
}

// userShard is the SQL predicate putting col's user in shard $shard of $shards (a stable
// hash, so every worker agrees on membership).
func userShard(col string, shards, shard int) string {
	return fmt.Sprintf("mod(abs(hashtextextended(%s, 0)), $%d::bigint) = $%d::bigint", col, shards, shard)
}

// itemCategories lists (item id, lower-case category) for the whole catalog.
const itemCategories = `SELECT id, lower(g) AS category FROM movies, unnest(genres) AS g
	UNION ALL SELECT id, lower(classification) FROM artworks WHERE classification <> ''
	UNION ALL SELECT id, lower(medium) FROM artworks WHERE medium <> ''`

// Searches returns the searches in [from, to) with a category by the users of shard sh
// (users are spread over sh.Of shards by a stable hash of their id).
func (s *EventJobStore) Searches(ctx context.Context, from, to time.Time, sh Shard) ([]adtarget.Search, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id, category, coalesce(query, ''), ts FROM raw_events
		WHERE type = 'search' AND ts >= $1 AND ts < $2 AND category IS NOT NULL AND `+userShard("user_id", 3, 4),
		from, to, sh.Of, sh.Index)
	if err != nil {
		return nil, fmt.Errorf("read searches: %w", err)
	}
	searches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (adtarget.Search, error) {
		var x adtarget.Search
		err := r.Scan(&x.UserID, &x.Category, &x.Query, &x.At)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("read searches: %w", err)
	}
	return searches, nil
}

// Purchases returns the purchases in [from, to) by the users of shard sh, one per
// category of the item bought (a purchase counts against each of them).
func (s *EventJobStore) Purchases(ctx context.Context, from, to time.Time, sh Shard) ([]adtarget.Purchase, error) {
	rows, err := s.pool.Query(ctx, `WITH cats AS (`+itemCategories+`)
		SELECT e.user_id, e.item_id, c.category, e.ts FROM raw_events e JOIN cats c ON c.id = e.item_id
		WHERE e.type = 'purchase' AND e.ts >= $1 AND e.ts < $2 AND `+userShard("e.user_id", 3, 4),
		from, to, sh.Of, sh.Index)
	if err != nil {
		return nil, fmt.Errorf("read purchases: %w", err)
	}
	purchases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (adtarget.Purchase, error) {
		var x adtarget.Purchase
		err := r.Scan(&x.UserID, &x.ItemID, &x.Category, &x.At)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("read purchases: %w", err)
	}
	return purchases, nil
}

// CategoryPopularity returns, for each of categories (lower case), its catalog items
// ordered by views and purchases in [from, to) (then id), at most per items each.
func (s *EventJobStore) CategoryPopularity(ctx context.Context, categories []string, from, to time.Time, per int) (adtarget.Popularity, error) {
	pop := adtarget.Popularity{}
	if len(categories) == 0 {
		return pop, nil
	}
	rows, err := s.pool.Query(ctx, `WITH cats AS (`+itemCategories+`),
		n AS (SELECT item_id, count(*) AS n FROM raw_events WHERE type IN ('view', 'purchase') AND ts >= $1 AND ts < $2 GROUP BY item_id),
		ranked AS (SELECT c.category, c.id, row_number() OVER (PARTITION BY c.category ORDER BY coalesce(n.n, 0) DESC, c.id) AS r
			FROM cats c LEFT JOIN n ON n.item_id = c.id WHERE c.category = ANY($3))
		SELECT category, id FROM ranked WHERE r <= $4 ORDER BY category, r`, from, to, categories, per)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("category popularity: %w", err)
	}
	return pop, nil
}

// ReplaceAdTargets stores the ad targets of the users of shard sh for version, replacing
// what an earlier run stored for that shard of that version.
func (s *EventJobStore) ReplaceAdTargets(ctx context.Context, version string, sh Shard, targets []adtarget.Target) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM ad_targets WHERE version = $1 AND `+userShard("user_id", 2, 3),
			version, sh.Of, sh.Index); err != nil {
			return err
		}
		for _, t := range targets {
			if _, err := tx.Exec(ctx, `INSERT INTO ad_targets (version, user_id, category, searches, last_search, products)
				VALUES ($1,$2,$3,$4,$5,$6)`, version, t.UserID, t.Category, t.Searches, t.LastSearch, t.Products); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store ad targets %s shard %d/%d: %w", version, sh.Index, sh.Of, err)
	}
	return nil
}

// EachAdTarget calls fn for every ad target of version, by user, then latest search first,
// then category.
func (s *EventJobStore) EachAdTarget(ctx context.Context, version string, fn func(adtarget.Target) error) error {
	rows, err := s.pool.Query(ctx, `SELECT user_id, category, searches, last_search, products FROM ad_targets
		WHERE version = $1 ORDER BY user_id, last_search DESC, category`, version)
	if err != nil {
		return fmt.Errorf("read ad targets %s: %w", version, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t adtarget.Target
		if err := rows.Scan(&t.UserID, &t.Category, &t.Searches, &t.LastSearch, &t.Products); err != nil {
			return fmt.Errorf("read ad targets %s: %w", version, err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read ad targets %s: %w", version, err)
	}
	return nil
}
