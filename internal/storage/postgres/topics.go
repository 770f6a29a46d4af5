package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/topics"
)

// TopicStore owns the topic model tables (topic_runs, topic_shards, topic_shard_counts,
// topics, item_topics): the state of BuildTopics fits and their fitted models (package
// activities/topicmodel). It is safe for concurrent use.
//
// It also records BuildTopics' bookkeeping in batch_shard_runs and model_versions /
// model_current, which the jobs still running as methods of activities.Activities write
// as well (activities/batch.go), until those tables get one owner of their own.
type TopicStore struct {
	pool *pgxpool.Pool
	*BatchRunStore
}

// Topics returns the store of the topic model tables.
func (s *Store) Topics() *TopicStore { return &TopicStore{pool: s.pool, BatchRunStore: s.BatchRuns()} }

// TopicHeldoutShard is the shard number of a run's held-out documents, which are never
// swept and have no counts.
const TopicHeldoutShard = -1

// TopicRun is a fit's settings and corpus summary (a topic_runs row).
type TopicRun struct {
	RunID   string
	K       int
	Alpha   float64
	Beta    float64
	Vocab   []string
	Docs    int
	Heldout int
	Tokens  int64
	Shards  int
}

// TopicShard is one shard of a run: its documents (word ids, with each item's id and type)
// and their topic assignments at Iteration.
type TopicShard struct {
	Shard     int
	ItemIDs   []string
	ItemTypes []string
	Docs      [][]int32
	Z         topics.Assignments
	Iteration int
}

// StartTopicRun stores a new run with its shards at iteration 0 and, for every shard but
// TopicHeldoutShard, its counts of iteration 0 (counts[i] belongs to shards[i]), in one
// transaction. A previous run of the same id is deleted first, with everything it holds.
func (t *TopicStore) StartTopicRun(ctx context.Context, run TopicRun, shards []TopicShard, counts []*topics.Counts) error {
	if len(counts) != len(shards) {
		return fmt.Errorf("start topic run %s: %d shards but %d counts", run.RunID, len(shards), len(counts))
	}
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM topic_runs WHERE run_id = $1`, run.RunID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO topic_runs (run_id, k, alpha, beta, vocab, docs, heldout, tokens, shards)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, run.RunID, run.K, run.Alpha, run.Beta, run.Vocab, run.Docs, run.Heldout, run.Tokens, run.Shards); err != nil {
			return err
		}
		for i, sh := range shards {
			docs, err := encodeTopicDocs(sh.Docs)
			if err != nil {
				return err
			}
			z, err := sh.Z.MarshalBinary()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO topic_shards (run_id, shard, item_ids, item_types, docs, z, iteration)
				VALUES ($1,$2,$3,$4,$5,$6,0)`, run.RunID, sh.Shard, nonNil(sh.ItemIDs), nonNil(sh.ItemTypes), docs, z); err != nil {
				return err
			}
			if sh.Shard == TopicHeldoutShard {
				continue
			}
			c, err := counts[i].MarshalBinary()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO topic_shard_counts (run_id, shard, iteration, counts) VALUES ($1,$2,0,$3)`,
				run.RunID, sh.Shard, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("start topic run %s: %w", run.RunID, err)
	}
	return nil
}

// nonNil makes a nil list an empty array (the columns are NOT NULL).
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// encodeTopicDocs stores documents' word ids as JSON (compact enough next to the counts,
// and readable when debugging).
func encodeTopicDocs(docs [][]int32) ([]byte, error) {
	if docs == nil {
		docs = [][]int32{}
	}
	return json.Marshal(docs)
}

func decodeTopicDocs(b []byte) ([][]int32, error) {
	var docs [][]int32
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, fmt.Errorf("decode topic documents: %w", err)
	}
	return docs, nil
}

// TopicShardCounts is one shard's topic-word counts after an iteration.
type TopicShardCounts struct {
	Shard  int
	Counts *topics.Counts
}

// ShardCounts returns the counts every shard of run stored for iteration, by shard. Shards
// that have not reached the iteration are missing.
func (t *TopicStore) ShardCounts(ctx context.Context, run string, iteration int) ([]TopicShardCounts, error) {
	rows, err := t.pool.Query(ctx, `SELECT shard, counts FROM topic_shard_counts WHERE run_id = $1 AND iteration = $2 ORDER BY shard`, run, iteration)
	if err != nil {
		return nil, fmt.Errorf("topic counts of %s at iteration %d: %w", run, iteration, err)
	}
	defer rows.Close()
	var out []TopicShardCounts
	for rows.Next() {
		var sc TopicShardCounts
		var b []byte
		if err := rows.Scan(&sc.Shard, &b); err != nil {
			return nil, fmt.Errorf("topic counts of %s at iteration %d: %w", run, iteration, err)
		}
		sc.Counts = &topics.Counts{}
		if err := sc.Counts.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("topic counts of shard %s/%d at iteration %d: %w", run, sc.Shard, iteration, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("topic counts of %s at iteration %d: %w", run, iteration, err)
	}
	return out, nil
}

// CountShardCounts returns how many (shard, iteration) count rows run keeps.
func (t *TopicStore) CountShardCounts(ctx context.Context, run string) (int, error) {
	var n int
	if err := t.pool.QueryRow(ctx, `SELECT count(*) FROM topic_shard_counts WHERE run_id = $1`, run).Scan(&n); err != nil {
		return 0, fmt.Errorf("topic counts of %s: %w", run, err)
	}
	return n, nil
}

// Shard reads a shard of run: its documents, assignments and iteration.
func (t *TopicStore) Shard(ctx context.Context, run string, shard int) (TopicShard, error) {
	s := TopicShard{Shard: shard}
	var docs, z []byte
	err := t.pool.QueryRow(ctx, `SELECT item_ids, item_types, docs, z, iteration FROM topic_shards WHERE run_id = $1 AND shard = $2`,
		run, shard).Scan(&s.ItemIDs, &s.ItemTypes, &docs, &z, &s.Iteration)
	if err != nil {
		return s, fmt.Errorf("topic shard %s/%d: %w", run, shard, notFound(err))
	}
	if s.Docs, err = decodeTopicDocs(docs); err != nil {
		return s, fmt.Errorf("topic shard %s/%d: %w", run, shard, err)
	}
	if err := s.Z.UnmarshalBinary(z); err != nil {
		return s, fmt.Errorf("topic shard %s/%d assignments: %w", run, shard, err)
	}
	return s, nil
}

// ShardAssignments reads only a shard's assignments and iteration (its documents never
// change within a run, so a worker may keep them).
func (t *TopicStore) ShardAssignments(ctx context.Context, run string, shard int) (topics.Assignments, int, error) {
	var b []byte
	var iteration int
	err := t.pool.QueryRow(ctx, `SELECT z, iteration FROM topic_shards WHERE run_id = $1 AND shard = $2`, run, shard).Scan(&b, &iteration)
	if err != nil {
		return nil, 0, fmt.Errorf("topic shard %s/%d: %w", run, shard, notFound(err))
	}
	var z topics.Assignments
	if err := z.UnmarshalBinary(b); err != nil {
		return nil, 0, fmt.Errorf("topic shard %s/%d assignments: %w", run, shard, err)
	}
	return z, iteration, nil
}

// SaveSweep stores a shard's assignments and counts after iteration, only if the shard is
// still at iteration-1: two attempts racing (a worker thought dead that was not) cannot
// both apply. It then drops the shard's counts older than iteration-1, which no sweep reads
// any more (rounds are barriers). It reports whether it stored anything (false: another
// attempt already stored this iteration).
func (t *TopicStore) SaveSweep(ctx context.Context, run string, shard, iteration int, z topics.Assignments, counts *topics.Counts) (bool, error) {
	zb, err := z.MarshalBinary()
	if err != nil {
		return false, fmt.Errorf("store topic shard %s/%d: %w", run, shard, err)
	}
	cb, err := counts.MarshalBinary()
	if err != nil {
		return false, fmt.Errorf("store topic shard %s/%d: %w", run, shard, err)
	}
	stored := false
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE topic_shards SET z = $3, iteration = $4 WHERE run_id = $1 AND shard = $2 AND iteration = $4 - 1`,
			run, shard, zb, iteration)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO topic_shard_counts (run_id, shard, iteration, counts) VALUES ($1,$2,$3,$4)`,
			run, shard, iteration, cb); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM topic_shard_counts WHERE run_id = $1 AND shard = $2 AND iteration < $3 - 1`, run, shard, iteration); err != nil {
			return err
		}
		stored = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store topic shard %s/%d: %w", run, shard, err)
	}
	return stored, nil
}

// SaveFit stores a checkpoint of a run fitted in one process (its one shard, 0-based
// shard number): the shard's assignments and counts after iteration, only if the shard is
// still at iteration `from` (the iteration the fit resumed from), so a stale attempt cannot
// overwrite a newer checkpoint. Counts of earlier iterations are dropped (a one-shard fit
// needs none of them). It reports whether it stored anything.
func (t *TopicStore) SaveFit(ctx context.Context, run string, shard, from, iteration int, z topics.Assignments, counts *topics.Counts) (bool, error) {
	if iteration <= from {
		return false, fmt.Errorf("store topic fit %s/%d: iteration %d is not after %d", run, shard, iteration, from)
	}
	zb, err := z.MarshalBinary()
	if err != nil {
		return false, fmt.Errorf("store topic fit %s/%d: %w", run, shard, err)
	}
	cb, err := counts.MarshalBinary()
	if err != nil {
		return false, fmt.Errorf("store topic fit %s/%d: %w", run, shard, err)
	}
	stored := false
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE topic_shards SET z = $3, iteration = $4 WHERE run_id = $1 AND shard = $2 AND iteration = $5`,
			run, shard, zb, iteration, from)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM topic_shard_counts WHERE run_id = $1 AND shard = $2`, run, shard); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO topic_shard_counts (run_id, shard, iteration, counts) VALUES ($1,$2,$3,$4)`,
			run, shard, iteration, cb); err != nil {
			return err
		}
		stored = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store topic fit %s/%d: %w", run, shard, err)
	}
	return stored, nil
}

// RunVocab returns a run's vocabulary: the word of each word id.
func (t *TopicStore) RunVocab(ctx context.Context, run string) ([]string, error) {
	var vocab []string
	if err := t.pool.QueryRow(ctx, `SELECT vocab FROM topic_runs WHERE run_id = $1`, run).Scan(&vocab); err != nil {
		return nil, fmt.Errorf("topic run %s: %w", run, notFound(err))
	}
	return vocab, nil
}

// FittedTopic is one topic of a fitted model.
type FittedTopic struct {
	Topic  int
	Tokens int64
	Words  []topics.WordWeight
}

// ItemTopic is one topic's weight in one item.
type ItemTopic struct {
	ItemID   string
	ItemType string
	Topic    int
	Weight   float64
}

// TopicModel is a fitted model of a run and its quality. Perplexity 0 (or not finite)
// is stored as unknown.
type TopicModel struct {
	Iterations     int
	Topics         []FittedTopic
	Items          []ItemTopic
	Perplexity     float64
	CoherenceUMass float64
	CoherenceNPMI  float64
}

// SaveModel replaces the fitted model of run and marks the run fitted, in one
// transaction.
func (t *TopicStore) SaveModel(ctx context.Context, run string, m TopicModel) error {
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM topics WHERE run_id = $1`, run); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM item_topics WHERE run_id = $1`, run); err != nil {
			return err
		}
		for _, tp := range m.Topics {
			words := tp.Words
			if words == nil {
				words = []topics.WordWeight{}
			}
			b, err := json.Marshal(words)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO topics (run_id, topic, tokens, words) VALUES ($1,$2,$3,$4)`, run, tp.Topic, tp.Tokens, b); err != nil {
				return err
			}
		}
		// Rows are built as they are copied: at a million items (up to five rows each) a
		// materialized [][]any would cost gigabytes.
		row := make([]any, 5)
		src := pgx.CopyFromSlice(len(m.Items), func(i int) ([]any, error) {
			it := m.Items[i]
			row[0], row[1], row[2], row[3], row[4] = run, it.ItemID, it.ItemType, it.Topic, it.Weight
			return row, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"item_topics"}, []string{"run_id", "item_id", "item_type", "topic", "weight"}, src); err != nil {
			return err
		}
		var ppl any
		if m.Perplexity > 0 && !math.IsInf(m.Perplexity, 0) && !math.IsNaN(m.Perplexity) {
			ppl = m.Perplexity
		}
		_, err := tx.Exec(ctx, `UPDATE topic_runs SET status = 'fitted', iterations = $5, perplexity = $2, coherence_umass = $3,
			coherence_npmi = $4, finished_at = now() WHERE run_id = $1`, run, ppl, m.CoherenceUMass, m.CoherenceNPMI, m.Iterations)
		return err
	})
	if err != nil {
		return fmt.Errorf("store topic model %s: %w", run, err)
	}
	return nil
}

// TopicSummary is a fitted topic with the number of items whose strongest topic it is.
type TopicSummary struct {
	Topic int
	Words []topics.WordWeight
	Items int
}

// FittedTopics returns the topics of run's fitted model, by topic, each with the number
// of items whose strongest topic it is (every item counts once).
func (t *TopicStore) FittedTopics(ctx context.Context, run string) ([]TopicSummary, error) {
	rows, err := t.pool.Query(ctx, `WITH strongest AS (
			SELECT DISTINCT ON (item_id) topic FROM item_topics WHERE run_id = $1 ORDER BY item_id, weight DESC),
		counts AS (SELECT topic, count(*) AS n FROM strongest GROUP BY topic)
		SELECT t.topic, t.words, coalesce(c.n, 0) FROM topics t LEFT JOIN counts c USING (topic)
		WHERE t.run_id = $1 ORDER BY t.topic`, run)
	if err != nil {
		return nil, fmt.Errorf("read topics %s: %w", run, err)
	}
	defer rows.Close()
	var out []TopicSummary
	for rows.Next() {
		var s TopicSummary
		var raw []byte
		if err := rows.Scan(&s.Topic, &raw, &s.Items); err != nil {
			return nil, fmt.Errorf("read topics %s: %w", run, err)
		}
		if err := json.Unmarshal(raw, &s.Words); err != nil {
			return nil, fmt.Errorf("read topics %s: topic %d words: %w", run, s.Topic, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read topics %s: %w", run, err)
	}
	return out, nil
}

// TopicMembers calls fn with each topic's strongest items of run, at most perTopic per
// topic, by topic then weight (descending) and item id. An error of fn stops the scan and
// is returned as it is.
func (t *TopicStore) TopicMembers(ctx context.Context, run string, perTopic int, fn func(ItemTopic) error) error {
	return t.scanItemTopics(ctx, run, "topic members", `SELECT item_id, item_type, topic, weight FROM (
		SELECT item_id, item_type, topic, weight, row_number() OVER (PARTITION BY topic ORDER BY weight DESC, item_id) AS r
		FROM item_topics WHERE run_id = $1) s WHERE r <= $2 ORDER BY topic, r`, fn, run, perTopic)
}

// ItemMixes calls fn with every item topic of run, by item then weight (descending). An
// error of fn stops the scan and is returned as it is.
func (t *TopicStore) ItemMixes(ctx context.Context, run string, fn func(ItemTopic) error) error {
	return t.scanItemTopics(ctx, run, "item topics", `SELECT item_id, item_type, topic, weight FROM item_topics
		WHERE run_id = $1 ORDER BY item_id, weight DESC, topic`, fn, run)
}

func (t *TopicStore) scanItemTopics(ctx context.Context, run, what, query string, fn func(ItemTopic) error, args ...any) error {
	rows, err := t.pool.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read %s of %s: %w", what, run, err)
	}
	defer rows.Close()
	for rows.Next() {
		var it ItemTopic
		if err := rows.Scan(&it.ItemID, &it.ItemType, &it.Topic, &it.Weight); err != nil {
			return fmt.Errorf("read %s of %s: %w", what, run, err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s of %s: %w", what, run, err)
	}
	return nil
}
