package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SimilarityStore owns similar_items: the top-k similar items of every catalog item,
// per version, computed by BuildSimilarity (package activities/similarity) and copied
// from here to the serving store when a version is published. It is safe for concurrent
// use.
//
// It also records BuildSimilarity's bookkeeping in batch_shard_runs and model_versions /
// model_current, which the jobs still running as methods of activities.Activities write
// as well (activities/batch.go), until those tables get one owner of their own.
type SimilarityStore struct {
	pool *pgxpool.Pool
	*BatchRunStore
}

// Similarity returns the store of similar_items.
func (s *Store) Similarity() *SimilarityStore {
	return &SimilarityStore{pool: s.pool, BatchRunStore: s.BatchRuns()}
}

// SimilarItem is one neighbor of an item in a similarity version (a similar_items row);
// Rank counts from 1, the most similar first.
type SimilarItem struct {
	ItemID     string
	Rank       int
	NeighborID string
	Score      float64
}

// ReplaceSimilarItems replaces the neighbors of the items ids in version with rows, in one
// transaction: a retried chunk replaces its rows, never adds. An id with no rows is left
// with none.
func (s *SimilarityStore) ReplaceSimilarItems(ctx context.Context, version string, ids []string, rows []SimilarItem) error {
	return s.replaceSimilarItems(ctx, nil, version, ids, rows)
}

// ReplaceSimilarItemsFenced is ReplaceSimilarItems for a shard attempt: it commits only
// while fence's token owns the shard, and fails with ErrFenced (writing nothing) otherwise.
func (s *SimilarityStore) ReplaceSimilarItemsFenced(ctx context.Context, fence ShardFence, ids []string, rows []SimilarItem) error {
	return s.replaceSimilarItems(ctx, &fence, fence.Version, ids, rows)
}

func (s *SimilarityStore) replaceSimilarItems(ctx context.Context, fence *ShardFence, version string, ids []string, rows []SimilarItem) error {
	items, nbrs := make([]string, len(rows)), make([]string, len(rows))
	ranks, scores := make([]int32, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		items[i], ranks[i], nbrs[i], scores[i] = r.ItemID, int32(r.Rank), r.NeighborID, r.Score
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if fence != nil {
			if err := checkFence(ctx, tx, *fence); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM similar_items WHERE version = $1 AND item_id = ANY($2)`, version, ids); err != nil {
			return fmt.Errorf("clear similar items: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO similar_items (version, item_id, rank, neighbor_id, score)
			SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::float8[])`, version, items, ranks, nbrs, scores); err != nil {
			return fmt.Errorf("write similar items: %w", err)
		}
		return nil
	})
}

// EachSimilarItem calls fn for every neighbor stored in version, by item id, then rank.
// An error from fn stops the scan and is returned as is.
func (s *SimilarityStore) EachSimilarItem(ctx context.Context, version string, fn func(SimilarItem) error) error {
	rows, err := s.pool.Query(ctx, `SELECT item_id, rank, neighbor_id, score FROM similar_items WHERE version = $1 ORDER BY item_id, rank`, version)
	if err != nil {
		return fmt.Errorf("read similar items %s: %w", version, err)
	}
	defer rows.Close()
	for rows.Next() {
		var it SimilarItem
		var rank int32
		if err := rows.Scan(&it.ItemID, &rank, &it.NeighborID, &it.Score); err != nil {
			return fmt.Errorf("read similar items %s: %w", version, err)
		}
		it.Rank = int(rank)
		if err := fn(it); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read similar items %s: %w", version, err)
	}
	return nil
}
