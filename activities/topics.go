package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/topics"
)

// Published topic models (read by the API's /api/topics endpoints); the models
// themselves are defined once, in package published.
const (
	ModelTopics     = published.TopicsName
	ModelItemTopics = published.ItemTopicsName
	ModelTopicItems = published.TopicItemsName
)

// heldoutShard is the topic_shards row holding the held-out documents.
const heldoutShard = -1

// TopicsParams configure a topic model fit.
type TopicsParams struct {
	RunID      string  `json:"run_id"`
	K          int     `json:"k"`
	Alpha      float64 `json:"alpha,omitempty"`
	Beta       float64 `json:"beta,omitempty"`
	Shards     int     `json:"shards"`
	Heldout    float64 `json:"heldout"` // fraction of documents held out for perplexity
	MinDocFreq int     `json:"min_doc_freq,omitempty"`
	MaxVocab   int     `json:"max_vocab,omitempty"`
	Seed       uint64  `json:"seed"`
	// Iteration and Sweeps are set per sweep round.
	Iteration int `json:"iteration,omitempty"`
	Sweeps    int `json:"sweeps,omitempty"`
	// TopWords and MaxItemTopics shape the stored model (FinishTopics).
	TopWords      int `json:"top_words,omitempty"`
	MaxItemTopics int `json:"max_item_topics,omitempty"`
}

func (p TopicsParams) lda() topics.Params {
	return topics.Params{K: p.K, Alpha: p.Alpha, Beta: p.Beta}.WithDefaults()
}

// TopicsPlan describes a prepared fit.
type TopicsPlan struct {
	RunID   string `json:"run_id"`
	Docs    int    `json:"docs"`
	Heldout int    `json:"heldout"`
	Vocab   int    `json:"vocab"`
	Tokens  int64  `json:"tokens"`
	Shards  int    `json:"shards"`
}

// topicText is the text a catalog item contributes to the topic model.
type topicText struct {
	id, typ, text string
}

func (a *Activities) topicTexts(ctx context.Context) ([]topicText, error) {
	var out []topicText
	all := postgres.Shard{Index: 0, Of: 1}
	err := a.PG.ShardMovies(ctx, all, func(m domain.Movie) error {
		out = append(out, topicText{m.ID, string(domain.TypeMovie), m.Title + ". " + m.Plot})
		return nil
	})
	if err == nil {
		err = a.PG.ShardArtworks(ctx, all, func(w domain.Artwork) error {
			out = append(out, topicText{w.ID, string(domain.TypeArtwork), w.Title + ". " + w.Description})
			return nil
		})
	}
	return out, err
}

// isHeldout puts a stable fraction of items aside for perplexity.
func isHeldout(id string, frac float64) bool {
	if frac <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return float64(h.Sum64()%10_000) < frac*10_000
}

// PrepareTopics builds the corpus (movie plots and artwork descriptions, with titles),
// holds out a fraction of items, splits the rest into shards, draws initial topic
// assignments and stores it all under the run, with each shard's counts of iteration 0.
// Rerunning it for the same run id starts the run over.
func (a *Activities) PrepareTopics(ctx context.Context, p TopicsParams) (TopicsPlan, error) {
	if p.RunID == "" || p.K < 2 || p.K > 1000 || p.Shards < 1 {
		return TopicsPlan{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("topics: need a run id, 2 to 1000 topics and at least one shard, got %+v", p))
	}
	texts, err := a.topicTexts(ctx)
	if err != nil {
		return TopicsPlan{}, fmt.Errorf("read catalog text: %w", err)
	}
	ids, bodies := make([]string, len(texts)), make([]string, len(texts))
	for i, t := range texts {
		ids[i], bodies[i] = t.id, t.text
	}
	// Words in over a quarter of the documents (boilerplate such as "work" in every artwork
	// description) say nothing about topics.
	corpus := topics.BuildCorpus(ids, bodies, topics.VocabOptions{MinDocFreq: p.MinDocFreq, MaxVocab: p.MaxVocab, MaxDocFrac: 0.25})
	if len(corpus.Vocab) == 0 {
		return TopicsPlan{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("topics: the catalog has no text to model (%d items)", len(texts)))
	}
	type doc struct {
		id, typ string
		words   []int32
	}
	shards := make([][]doc, p.Shards)
	var held []doc
	plan := TopicsPlan{RunID: p.RunID, Vocab: len(corpus.Vocab), Shards: p.Shards}
	n := 0
	for i, words := range corpus.Docs {
		if len(words) == 0 {
			continue
		}
		d := doc{texts[i].id, texts[i].typ, words}
		if isHeldout(d.id, p.Heldout) {
			held = append(held, d)
			continue
		}
		shards[n%p.Shards] = append(shards[n%p.Shards], d)
		n++
		plan.Tokens += int64(len(words))
	}
	plan.Docs, plan.Heldout = n, len(held)
	lda := p.lda()
	err = pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM topic_runs WHERE run_id = $1`, p.RunID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO topic_runs (run_id, k, alpha, beta, vocab, docs, heldout, tokens, shards)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, p.RunID, lda.K, lda.Alpha, lda.Beta, corpus.Vocab, plan.Docs, plan.Heldout, plan.Tokens, p.Shards); err != nil {
			return err
		}
		put := func(shard int, ds []doc, z topics.Assignments, counts *topics.Counts) error {
			ids, types, words := make([]string, len(ds)), make([]string, len(ds)), make([][]int32, len(ds))
			for i, d := range ds {
				ids[i], types[i], words[i] = d.id, d.typ, d.words
			}
			docsBlob, err := encodeDocs(words)
			if err != nil {
				return err
			}
			zb, err := z.MarshalBinary()
			if err != nil {
				return err
			}
			cb, err := counts.MarshalBinary()
			if err != nil {
				return err
			}
			if _, err = tx.Exec(ctx, `INSERT INTO topic_shards (run_id, shard, item_ids, item_types, docs, z, iteration)
				VALUES ($1,$2,$3,$4,$5,$6,0)`, p.RunID, shard, ids, types, docsBlob, zb); err != nil {
				return err
			}
			if shard == heldoutShard {
				return nil
			}
			_, err = tx.Exec(ctx, `INSERT INTO topic_shard_counts (run_id, shard, iteration, counts) VALUES ($1,$2,0,$3)`, p.RunID, shard, cb)
			return err
		}
		for s, ds := range shards {
			words := make([][]int32, len(ds))
			for i, d := range ds {
				words[i] = d.words
			}
			z, counts := topics.InitShard(words, lda.K, len(corpus.Vocab), p.Seed+uint64(s)+1)
			if err := put(s, ds, z, counts); err != nil {
				return err
			}
		}
		return put(heldoutShard, held, topics.Assignments{}, topics.NewCounts(lda.K, len(corpus.Vocab)))
	})
	if err != nil {
		return plan, fmt.Errorf("store topic corpus of %s: %w", p.RunID, err)
	}
	return plan, nil
}

// encodeDocs stores documents' word ids as JSON (compact enough next to the counts, and
// readable when debugging).
func encodeDocs(docs [][]int32) ([]byte, error) { return json.Marshal(docs) }

func decodeDocs(b []byte) ([][]int32, error) {
	var docs [][]int32
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, fmt.Errorf("decode topic documents: %w", err)
	}
	return docs, nil
}

// loadGlobal sums every shard's counts of an iteration: the global topic-word counts.
// It fails (to be retried) unless all shards have reached that iteration.
func (a *Activities) loadGlobal(ctx context.Context, run string, shards, iteration int) (*topics.Counts, error) {
	rows, err := a.PG.Pool().Query(ctx, `SELECT shard, counts FROM topic_shard_counts WHERE run_id = $1 AND iteration = $2 ORDER BY shard`, run, iteration)
	if err != nil {
		return nil, fmt.Errorf("topic counts of %s at iteration %d: %w", run, iteration, err)
	}
	defer rows.Close()
	var global *topics.Counts
	n := 0
	for rows.Next() {
		var shard int
		var b []byte
		if err := rows.Scan(&shard, &b); err != nil {
			return nil, fmt.Errorf("topic counts of %s at iteration %d: %w", run, iteration, err)
		}
		c := &topics.Counts{}
		if err := c.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("topic counts of shard %s/%d at iteration %d: %w", run, shard, iteration, err)
		}
		if global == nil {
			global = topics.NewCounts(c.K, c.V)
		}
		if err := global.Add(c); err != nil {
			return nil, fmt.Errorf("topic counts of shard %s/%d: %w", run, shard, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("topic counts of %s at iteration %d: %w", run, iteration, err)
	}
	if n != shards {
		return nil, fmt.Errorf("topic run %s: %d of %d shards have counts for iteration %d", run, n, shards, iteration)
	}
	return global, nil
}

type topicShard struct {
	ids, types []string
	docs       [][]int32
	z          topics.Assignments
	iteration  int
}

// topicDocCache keeps the documents of the shards of one run in a worker, so later rounds
// read only the shard's assignments. A new run replaces the previous run's entries.
type topicDocCache struct {
	mu     sync.Mutex
	run    string
	shards map[int]topicShard // without z and iteration
}

func (c *topicDocCache) get(run string, shard int) (topicShard, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.shards[shard]
	return s, ok && c.run == run
}

func (c *topicDocCache) put(run string, shard int, s topicShard) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != run || c.shards == nil {
		c.run, c.shards = run, map[int]topicShard{}
	}
	s.z, s.iteration = nil, 0
	c.shards[shard] = s
}

func (a *Activities) loadTopicShard(ctx context.Context, run string, shard int) (topicShard, error) {
	var zb []byte
	s, cached := a.topicDocs.get(run, shard)
	if cached {
		err := a.PG.Pool().QueryRow(ctx, `SELECT z, iteration FROM topic_shards WHERE run_id = $1 AND shard = $2`, run, shard).Scan(&zb, &s.iteration)
		if err != nil {
			return s, fmt.Errorf("topic shard %s/%d: %w", run, shard, err)
		}
	} else {
		var docsBlob []byte
		err := a.PG.Pool().QueryRow(ctx, `SELECT item_ids, item_types, docs, z, iteration FROM topic_shards WHERE run_id = $1 AND shard = $2`,
			run, shard).Scan(&s.ids, &s.types, &docsBlob, &zb, &s.iteration)
		if err != nil {
			return s, fmt.Errorf("topic shard %s/%d: %w", run, shard, err)
		}
		if s.docs, err = decodeDocs(docsBlob); err != nil {
			return s, err
		}
		a.topicDocs.put(run, shard, s)
	}
	if err := s.z.UnmarshalBinary(zb); err != nil {
		return s, fmt.Errorf("topic shard %s/%d assignments: %w", run, shard, err)
	}
	return s, nil
}

// TopicsSweep runs one round of Gibbs sweeps over one shard against the global counts of
// the previous iteration (the sum of every shard's counts then), and stores the shard's
// new assignments and counts. A shard already at this iteration (a retry after the write)
// is left as it is.
func (a *Activities) TopicsSweep(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	started := time.Now()
	if err := in.validate(); err != nil {
		return BatchShardResult{}, err
	}
	var p TopicsParams
	if err := in.params(&p); err != nil {
		return BatchShardResult{}, err
	}
	if p.Iteration < 1 || p.RunID == "" {
		return BatchShardResult{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("topics sweep: bad run %q iteration %d", p.RunID, p.Iteration))
	}
	s, err := a.loadTopicShard(ctx, p.RunID, in.Shard)
	if err != nil {
		return BatchShardResult{}, err
	}
	switch {
	case s.iteration >= p.Iteration:
		return a.finishShard(ctx, in, len(s.docs), started)
	case s.iteration != p.Iteration-1:
		return BatchShardResult{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("topic shard %s/%d is at iteration %d, cannot run %d", p.RunID, in.Shard, s.iteration, p.Iteration))
	}
	global, err := a.loadGlobal(ctx, p.RunID, in.Shards, p.Iteration-1)
	if err != nil {
		return BatchShardResult{}, err
	}
	if err := topics.ValidateShard(s.docs, s.z, global.K, global.V); err != nil {
		return BatchShardResult{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("topic shard %s/%d: %w", p.RunID, in.Shard, err))
	}
	activity.RecordHeartbeat(ctx, ShardProgress{})
	counts := topics.SweepShard(s.docs, s.z, global, p.lda(), max(1, p.Sweeps), p.Seed+uint64(p.Iteration)*7919+uint64(in.Shard))
	zb, err := s.z.MarshalBinary()
	if err != nil {
		return BatchShardResult{}, err
	}
	cb, err := counts.MarshalBinary()
	if err != nil {
		return BatchShardResult{}, err
	}
	// Conditional on the iteration, so two attempts racing (a worker thought dead that was
	// not) cannot both apply. Counts older than the previous round are no longer read: every
	// sweep of this round has read them before this one could start (rounds are barriers).
	err = pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE topic_shards SET z = $3, iteration = $4 WHERE run_id = $1 AND shard = $2 AND iteration = $4 - 1`,
			p.RunID, in.Shard, zb, p.Iteration)
		if err != nil || tag.RowsAffected() == 0 {
			return err // 0 rows: another attempt already stored this round
		}
		if _, err := tx.Exec(ctx, `INSERT INTO topic_shard_counts (run_id, shard, iteration, counts) VALUES ($1,$2,$3,$4)`,
			p.RunID, in.Shard, p.Iteration, cb); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM topic_shard_counts WHERE run_id = $1 AND shard = $2 AND iteration < $3 - 1`, p.RunID, in.Shard, p.Iteration)
		return err
	})
	if err != nil {
		return BatchShardResult{}, fmt.Errorf("store topic shard %s/%d: %w", p.RunID, in.Shard, err)
	}
	return a.finishShard(ctx, in, len(s.docs), started)
}

// TopicsQuality is a fitted model's quality on the corpus.
type TopicsQuality struct {
	RunID          string  `json:"run_id"`
	Topics         int     `json:"topics"`
	Items          int64   `json:"items"` // items given a topic mix (training and held out)
	Perplexity     float64 `json:"perplexity"`
	UniformPPL     float64 `json:"uniform_perplexity"` // the vocabulary size: what knowing nothing scores
	CoherenceUMass float64 `json:"coherence_umass"`
	CoherenceNPMI  float64 `json:"coherence_npmi"`
}

// itemMix is one item's strongest topics.
type itemMix struct {
	id, typ string
	theta   []float64
}

// FinishTopics stores the fitted model of the last iteration: top words per topic, each
// item's topic mix (held-out items by inference), and the quality measures.
func (a *Activities) FinishTopics(ctx context.Context, p TopicsParams) (TopicsQuality, error) {
	q := TopicsQuality{RunID: p.RunID}
	var vocab []string
	if err := a.PG.Pool().QueryRow(ctx, `SELECT vocab FROM topic_runs WHERE run_id = $1`, p.RunID).Scan(&vocab); err != nil {
		return q, fmt.Errorf("topic run %s: %w", p.RunID, err)
	}
	global, err := a.loadGlobal(ctx, p.RunID, p.Shards, p.Iteration)
	if err != nil {
		return q, err
	}
	lda := p.lda()
	q.Topics, q.UniformPPL = lda.K, float64(len(vocab))
	var mixes []itemMix
	var train [][]int32
	for s := range p.Shards {
		sh, err := a.loadTopicShard(ctx, p.RunID, s)
		if err != nil {
			return q, err
		}
		for i := range sh.docs {
			mixes = append(mixes, itemMix{sh.ids[i], sh.types[i], topics.DocTopics(sh.z[i], lda)})
		}
		train = append(train, sh.docs...)
		activity.RecordHeartbeat(ctx, ShardProgress{Done: s + 1})
	}
	held, err := a.loadTopicShard(ctx, p.RunID, heldoutShard)
	if err != nil {
		return q, err
	}
	for i, d := range held.docs {
		mixes = append(mixes, itemMix{held.ids[i], held.types[i], topics.Infer(d, global, lda, 30, p.Seed+uint64(i))})
	}
	if len(held.docs) > 0 {
		q.Perplexity = topics.Perplexity(held.docs, global, lda, 30, p.Seed)
	}
	q.CoherenceUMass = topics.CoherenceUMass(global, train, lda, 10)
	q.CoherenceNPMI = topics.CoherenceNPMI(global, train, lda, 10)
	q.Items = int64(len(mixes))
	words := topics.TopWords(global, vocab, lda, max(5, p.TopWords))
	maxTopics := max(1, p.MaxItemTopics)
	err = pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM topics WHERE run_id = $1`, p.RunID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM item_topics WHERE run_id = $1`, p.RunID); err != nil {
			return err
		}
		for k, ws := range words {
			b, err := json.Marshal(ws)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO topics (run_id, topic, tokens, words) VALUES ($1,$2,$3,$4)`, p.RunID, k, global.TopicTotal[k], b); err != nil {
				return err
			}
		}
		rows := make([][]any, 0, len(mixes)*maxTopics)
		for _, m := range mixes {
			for _, t := range strongest(m.theta, maxTopics, 0.05) {
				rows = append(rows, []any{p.RunID, m.id, m.typ, t, m.theta[t]})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"item_topics"}, []string{"run_id", "item_id", "item_type", "topic", "weight"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		var ppl, umass, npmi any = nil, q.CoherenceUMass, q.CoherenceNPMI
		if q.Perplexity > 0 && !math.IsInf(q.Perplexity, 0) && !math.IsNaN(q.Perplexity) {
			ppl = q.Perplexity
		}
		_, err := tx.Exec(ctx, `UPDATE topic_runs SET status = 'fitted', iterations = $5, perplexity = $2, coherence_umass = $3,
			coherence_npmi = $4, finished_at = now() WHERE run_id = $1`, p.RunID, ppl, umass, npmi, p.Iteration)
		return err
	})
	if err != nil {
		return q, fmt.Errorf("store topic model %s: %w", p.RunID, err)
	}
	return q, nil
}

// strongest returns up to n topic ids with weight ≥ floor, strongest first (always the
// strongest one).
func strongest(theta []float64, n int, floor float64) []int {
	ids := make([]int, len(theta))
	for i := range ids {
		ids[i] = i
	}
	slices.SortStableFunc(ids, func(a, b int) int {
		switch {
		case theta[a] > theta[b]:
			return -1
		case theta[a] < theta[b]:
			return 1
		}
		return 0
	})
	out := ids[:0:0]
	for i, id := range ids {
		if i >= n || (i > 0 && theta[id] < floor) {
			break
		}
		out = append(out, id)
	}
	return out
}

// PublishTopics copies a fitted model to MySQL (topics, each item's mix, each topic's
// items) and switches the API to it.
func (a *Activities) PublishTopics(ctx context.Context, in ModelPublishInput) (ModelPublishResult, error) {
	// Each item's strongest topic once, then counted per topic (not recomputed per topic).
	rows, err := a.PG.Pool().Query(ctx, `WITH strongest AS (
			SELECT DISTINCT ON (item_id) topic FROM item_topics WHERE run_id = $1 ORDER BY item_id, weight DESC),
		counts AS (SELECT topic, count(*) AS n FROM strongest GROUP BY topic)
		SELECT t.topic, t.words, coalesce(c.n, 0) FROM topics t LEFT JOIN counts c USING (topic)
		WHERE t.run_id = $1 ORDER BY t.topic`, in.Version)
	if err != nil {
		return ModelPublishResult{}, fmt.Errorf("read topics %s: %w", in.Version, err)
	}
	var batch []published.Row[published.Topic]
	for rows.Next() {
		var t published.Topic
		var raw []byte
		if err := rows.Scan(&t.ID, &raw, &t.Items); err != nil {
			rows.Close()
			return ModelPublishResult{}, fmt.Errorf("read topics %s: %w", in.Version, err)
		}
		if err := json.Unmarshal(raw, &t.Words); err != nil {
			rows.Close()
			return ModelPublishResult{}, fmt.Errorf("read topics %s: %w", in.Version, err)
		}
		batch = append(batch, published.Row[published.Topic]{Key: published.TopicKey(t.ID), Rank: t.ID, Value: t})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ModelPublishResult{}, fmt.Errorf("read topics %s: %w", in.Version, err)
	}
	if len(batch) == 0 {
		return ModelPublishResult{}, nonRetryable(ErrTypeBadInput, errors.New("topic run "+in.Version+" has no fitted topics"))
	}
	// Each topic's items, strongest first, at most 500 per topic.
	if _, err := publishGrouped(ctx, a, published.TopicItems, in.Version,
		`SELECT topic, item_id, weight FROM (SELECT topic, item_id, weight, row_number() OVER (PARTITION BY topic ORDER BY weight DESC, item_id) AS r
		 FROM item_topics WHERE run_id = $1) s WHERE r <= 500 ORDER BY topic, r`,
		func(r pgx.Rows) (string, published.TopicMember, error) {
			var topic int
			var m published.TopicMember
			err := r.Scan(&topic, &m.ID, &m.Weight)
			return published.TopicKey(topic), m, err
		}, in.Version); err != nil {
		return ModelPublishResult{}, err
	}
	if _, err := publishGrouped(ctx, a, published.ItemTopics, in.Version,
		`SELECT item_id, topic, weight FROM item_topics WHERE run_id = $1 ORDER BY item_id, weight DESC`,
		func(r pgx.Rows) (string, published.TopicShare, error) {
			var key string
			var m published.TopicShare
			err := r.Scan(&key, &m.Topic, &m.Weight)
			return key, m, err
		}, in.Version); err != nil {
		return ModelPublishResult{}, err
	}
	return switchModel(ctx, a, published.Topics, in.Version, batch)
}
