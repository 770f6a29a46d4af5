// Package topicmodel holds the activities of BuildTopics: an LDA topic model over movie
// plots and artwork descriptions, fitted by collapsed Gibbs sampling distributed over the
// workers (the algorithm is package internal/topics). Their SQL lives in
// postgres.TopicStore, the one owner of the topic tables; the fitted model goes to MySQL
// through package published.
//
// The method names are the Temporal activity names: recorded histories and the batch
// runner (workflows.BuildTopics runs TopicsSweep by name) refer to them, so they must not
// change.
package topicmodel

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/topics"
)

// Catalog reads the cleaned catalog, shard by shard (*postgres.Store).
type Catalog interface {
	ShardMovies(ctx context.Context, sh postgres.Shard, fn func(domain.Movie) error) error
	ShardArtworks(ctx context.Context, sh postgres.Shard, fn func(domain.Artwork) error) error
}

// Activities are the activities of BuildTopics. Create one per worker so that Identity
// names the worker that ran each shard and the worker keeps the documents of the shards
// it swept.
type Activities struct {
	Store     *postgres.TopicStore // the topic tables
	Catalog   Catalog              // the text modelled (*postgres.Store)
	Publisher published.Writer     // the serving store (*mysql.Store)
	Logger    *slog.Logger         // nil means slog.Default()
	Identity  string               // worker identity, reported in shard results

	docs docCache // documents of topic shards this worker swept: they never change within a run
}

// Published topic models (read by the API's /api/topics endpoints); the models
// themselves are defined once, in package published.
const (
	ModelTopics     = published.TopicsName
	ModelItemTopics = published.ItemTopicsName
	ModelTopicItems = published.TopicItemsName
)

// publishBatch is how many model rows one write to the serving store holds.
const publishBatch = 1000

// membersPerTopic bounds the items published per topic (TopicItems).
const membersPerTopic = 500

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
	// PlanBySize lets PrepareTopics choose the plan from the corpus size (PlanTopics):
	// Shards is then the most shards it may use, not the number it must use.
	PlanBySize bool `json:"plan_by_size,omitempty"`
	// Iteration and Sweeps are set per sweep round (TopicsFit: Iteration is the last
	// iteration to reach).
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
	// Mode is PlanSingle (one TopicsFit activity runs every sweep) or PlanSharded (one
	// TopicsSweep activity per shard per round); empty in plans made before plans by size,
	// which were all sharded.
	Mode string `json:"mode,omitempty"`
	// RoundSeconds estimates one round's sampling of the whole corpus on one core.
	RoundSeconds float64 `json:"round_seconds,omitempty"`
	Reason       string  `json:"reason,omitempty"` // why this plan, for people
}

// Plan modes (TopicsPlan.Mode).
const (
	PlanSingle  = "single"
	PlanSharded = "sharded"
)

// SampleNsPerTokenTopic is the sampler's cost per token per topic for one Gibbs sweep on
// one core; the sampling loop is linear in K. BenchmarkSweep (synthetic, V=2,000) gives
// ~4 ns and TopicsFit on the 1M-item demo catalog (V=11,807) 4.4 ns on the 2-core bench
// machine; a busy machine is slower (11.6 ns measured at 100k items while other jobs ran),
// which only delays sharding (bench/README.md, "Plan by size"). PlanTopics turns a corpus
// size into seconds per round with it.
const SampleNsPerTokenTopic = 5.0

// MinShardRoundSeconds is the sampling a shard must have per round before the corpus is
// split: a round of sweep activities costs ~150 ms of orchestration plus loading and
// storing each shard's assignments and counts, so below a few seconds of sampling per
// shard the split costs more than it saves (bench/README.md, "Plan by size").
const MinShardRoundSeconds = 3.0

// PlanTopics chooses how to fit a corpus of tokens (training) with k topics and sweeps
// Gibbs sweeps per round. With bySize false, shards is what the user asked for and is
// obeyed (sharded). Otherwise shards is the most to use: the fit is split only into
// shards that each sample at least MinShardRoundSeconds per round, and runs as one
// in-process activity when not even two such shards fit.
func PlanTopics(tokens int64, k, sweeps, shards int, bySize bool) (mode string, n int, roundSeconds float64, reason string) {
	roundSeconds = float64(tokens) * float64(k) * float64(max(1, sweeps)) * SampleNsPerTokenTopic / 1e9
	if !bySize {
		return PlanSharded, shards, roundSeconds, fmt.Sprintf("%d shards as requested (est. %.3g s of sampling per round in all)", shards, roundSeconds)
	}
	justified := int(roundSeconds / MinShardRoundSeconds)
	if justified < 2 || shards < 2 {
		return PlanSingle, 1, roundSeconds, fmt.Sprintf(
			"one activity runs every sweep: a round samples %d tokens in est. %.3g s, too little for two shards of at least %.0f s each",
			tokens, roundSeconds, MinShardRoundSeconds)
	}
	n = min(shards, justified)
	return PlanSharded, n, roundSeconds, fmt.Sprintf(
		"%d shards: a round samples %d tokens in est. %.3g s, %.3g s per shard (at least %.0f s each; at most %d shards)",
		n, tokens, roundSeconds, roundSeconds/float64(n), MinShardRoundSeconds, shards)
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

// badInput is a failure retrying cannot fix (activities.ErrTypeBadInput).
func badInput(err error) error { return activities.BadInput(err) }

// params checks the shard and decodes the plan shared by a batch job's shards.
func params(in activities.BatchShardInput, v any) error {
	if err := in.Validate(); err != nil {
		return err
	}
	return in.DecodeParams(v)
}

// topicText is the text a catalog item contributes to the topic model.
type topicText struct {
	id, typ, text string
}

func (a *Activities) topicTexts(ctx context.Context) ([]topicText, error) {
	var out []topicText
	all := postgres.Shard{Index: 0, Of: 1}
	err := a.Catalog.ShardMovies(ctx, all, func(m domain.Movie) error {
		out = append(out, topicText{m.ID, string(domain.TypeMovie), m.Title + ". " + m.Plot})
		return nil
	})
	if err == nil {
		err = a.Catalog.ShardArtworks(ctx, all, func(w domain.Artwork) error {
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

// phase is a long activity's current phase, heartbeated by activities.KeepAlive.
type phase struct{ v atomic.Value }

func (p *phase) set(s string) { p.v.Store(s) }

func (p *phase) details() any {
	s, _ := p.v.Load().(string)
	return TopicsPhase{Phase: s}
}

// TopicsPhase is what PrepareTopics, FinishTopics and PublishTopics heartbeat: they start
// over when retried, so the phase is for people only.
type TopicsPhase struct {
	Phase string `json:"phase"`
}

// PrepareTopics builds the corpus (movie plots and artwork descriptions, with titles),
// holds out a fraction of items, plans the fit (PlanTopics when p.PlanBySize), splits the
// rest into the plan's shards, draws initial topic assignments and stores it all under the
// run, with each shard's counts of iteration 0. Rerunning it for the same run id starts
// the run over.
func (a *Activities) PrepareTopics(ctx context.Context, p TopicsParams) (TopicsPlan, error) {
	if p.RunID == "" || p.K < 2 || p.K > 1000 || p.Shards < 1 {
		return TopicsPlan{}, badInput(fmt.Errorf("topics: need a run id, 2 to 1000 topics and at least one shard, got %+v", p))
	}
	var ph phase
	ph.set("reading catalog")
	defer activities.KeepAlive(ctx, ph.details)()
	texts, err := a.topicTexts(ctx)
	if err != nil {
		return TopicsPlan{}, fmt.Errorf("read catalog text: %w", err)
	}
	ids, bodies := make([]string, len(texts)), make([]string, len(texts))
	for i, t := range texts {
		ids[i], bodies[i] = t.id, t.text
	}
	ph.set("building corpus")
	// Words in over a quarter of the documents (boilerplate such as "work" in every artwork
	// description) say nothing about topics.
	corpus := topics.BuildCorpus(ids, bodies, topics.VocabOptions{MinDocFreq: p.MinDocFreq, MaxVocab: p.MaxVocab, MaxDocFrac: 0.25})
	if len(corpus.Vocab) == 0 {
		return TopicsPlan{}, badInput(fmt.Errorf("topics: the catalog has no text to model (%d items)", len(texts)))
	}
	vocab := corpus.Vocab
	heldout := make([]bool, len(corpus.Docs))
	plan := TopicsPlan{RunID: p.RunID, Vocab: len(vocab)}
	for i, words := range corpus.Docs {
		heldout[i] = isHeldout(texts[i].id, p.Heldout)
		if len(words) > 0 && !heldout[i] {
			plan.Tokens += int64(len(words))
		}
	}
	plan.Mode, plan.Shards, plan.RoundSeconds, plan.Reason = PlanTopics(plan.Tokens, p.K, p.Sweeps, p.Shards, p.PlanBySize)
	shards := make([]postgres.TopicShard, plan.Shards)
	for s := range shards {
		shards[s].Shard = s
	}
	held := postgres.TopicShard{Shard: postgres.TopicHeldoutShard}
	add := func(sh *postgres.TopicShard, t topicText, words []int32) {
		sh.ItemIDs, sh.ItemTypes, sh.Docs = append(sh.ItemIDs, t.id), append(sh.ItemTypes, t.typ), append(sh.Docs, words)
	}
	n := 0
	for i, words := range corpus.Docs {
		if len(words) == 0 {
			continue
		}
		if heldout[i] {
			add(&held, texts[i], words)
			continue
		}
		add(&shards[n%plan.Shards], texts[i], words)
		n++
	}
	plan.Docs, plan.Heldout = n, len(held.Docs)
	texts, corpus = nil, nil // the shards hold what is stored
	ph.set("drawing initial topics")
	lda := p.lda()
	counts := make([]*topics.Counts, 0, len(shards)+1)
	for s := range shards {
		var c *topics.Counts
		shards[s].Z, c = topics.InitShard(shards[s].Docs, lda.K, len(vocab), p.Seed+uint64(s)+1)
		counts = append(counts, c)
	}
	held.Z = topics.Assignments{}
	run := postgres.TopicRun{RunID: p.RunID, K: lda.K, Alpha: lda.Alpha, Beta: lda.Beta, Vocab: vocab,
		Docs: plan.Docs, Heldout: plan.Heldout, Tokens: plan.Tokens, Shards: plan.Shards}
	ph.set("storing corpus")
	if err := a.Store.StartTopicRun(ctx, run, append(shards, held), append(counts, nil)); err != nil {
		return plan, fmt.Errorf("store topic corpus of %s: %w", p.RunID, err)
	}
	return plan, nil
}

// loadGlobal sums every shard's counts of an iteration: the global topic-word counts.
// It fails (to be retried) unless all shards have reached that iteration.
func (a *Activities) loadGlobal(ctx context.Context, run string, shards, iteration int) (*topics.Counts, error) {
	parts, err := a.Store.ShardCounts(ctx, run, iteration)
	if err != nil {
		return nil, err
	}
	if len(parts) != shards || shards == 0 {
		return nil, fmt.Errorf("topic run %s: %d of %d shards have counts for iteration %d", run, len(parts), shards, iteration)
	}
	global := topics.NewCounts(parts[0].Counts.K, parts[0].Counts.V)
	for _, c := range parts {
		if err := global.Add(c.Counts); err != nil {
			return nil, fmt.Errorf("topic counts of shard %s/%d: %w", run, c.Shard, err)
		}
	}
	return global, nil
}

// docCache keeps the documents of the shards of one run in a worker, so later rounds
// read only the shard's assignments. A new run replaces the previous run's entries.
type docCache struct {
	mu     sync.Mutex
	run    string
	shards map[int]postgres.TopicShard // without Z and Iteration
}

func (c *docCache) get(run string, shard int) (postgres.TopicShard, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.shards[shard]
	return s, ok && c.run == run
}

func (c *docCache) put(run string, s postgres.TopicShard) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != run || c.shards == nil {
		c.run, c.shards = run, map[int]postgres.TopicShard{}
	}
	s.Z, s.Iteration = nil, 0
	c.shards[s.Shard] = s
}

// loadShard reads a shard of run, its documents from this worker's cache when it has them.
func (a *Activities) loadShard(ctx context.Context, run string, shard int) (postgres.TopicShard, error) {
	if s, ok := a.docs.get(run, shard); ok {
		var err error
		s.Z, s.Iteration, err = a.Store.ShardAssignments(ctx, run, shard)
		return s, err
	}
	s, err := a.Store.Shard(ctx, run, shard)
	if err != nil {
		return s, err
	}
	a.docs.put(run, s)
	return s, nil
}

// finishShard records who ran the shard (batch_shard_runs) and builds its result.
func (a *Activities) finishShard(ctx context.Context, in activities.BatchShardInput, items int, started time.Time) (activities.BatchShardResult, error) {
	return activities.FinishShard(ctx, a.Store.BatchRunStore, a.Identity, in, items, started)
}

// TopicsSweep runs one round of Gibbs sweeps over one shard against the global counts of
// the previous iteration (the sum of every shard's counts then), and stores the shard's
// new assignments and counts. A shard already at this iteration (a retry after the write)
// is left as it is.
func (a *Activities) TopicsSweep(ctx context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
	started := time.Now()
	var p TopicsParams
	if err := params(in, &p); err != nil {
		return activities.BatchShardResult{}, err
	}
	if p.Iteration < 1 || p.RunID == "" {
		return activities.BatchShardResult{}, badInput(fmt.Errorf("topics sweep: bad run %q iteration %d", p.RunID, p.Iteration))
	}
	defer activities.KeepAlive(ctx, func() any { return activities.ShardProgress{} })()
	s, err := a.loadShard(ctx, p.RunID, in.Shard)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	switch {
	case s.Iteration >= p.Iteration:
		return a.finishShard(ctx, in, len(s.Docs), started)
	case s.Iteration != p.Iteration-1:
		return activities.BatchShardResult{}, badInput(fmt.Errorf("topic shard %s/%d is at iteration %d, cannot run %d", p.RunID, in.Shard, s.Iteration, p.Iteration))
	}
	global, err := a.loadGlobal(ctx, p.RunID, in.Shards, p.Iteration-1)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	if err := topics.ValidateShard(s.Docs, s.Z, global.K, global.V); err != nil {
		return activities.BatchShardResult{}, badInput(fmt.Errorf("topic shard %s/%d: %w", p.RunID, in.Shard, err))
	}
	counts := topics.SweepShard(s.Docs, s.Z, global, p.lda(), max(1, p.Sweeps), p.Seed+uint64(p.Iteration)*7919+uint64(in.Shard))
	// Stored only if the shard is still at the previous iteration: otherwise another
	// attempt already stored this round, and its result stands.
	if _, err := a.Store.SaveSweep(ctx, p.RunID, in.Shard, p.Iteration, s.Z, counts); err != nil {
		return activities.BatchShardResult{}, err
	}
	return a.finishShard(ctx, in, len(s.Docs), started)
}

// fitCheckpointEvery is how often TopicsFit stores its state: a retry resumes from the
// last checkpoint, so at most this much sampling is redone.
const fitCheckpointEvery = time.Minute

// TopicsFitProgress is what TopicsFit heartbeats.
type TopicsFitProgress struct {
	Iteration int `json:"iteration"` // iterations sampled so far
	Of        int `json:"of"`        // the iteration it runs to
	Stored    int `json:"stored"`    // the iteration stored last: where a retry resumes
}

// TopicsFitResult is what TopicsFit did.
type TopicsFitResult struct {
	From      int    `json:"from"` // the stored iteration it resumed from (0: from the start)
	Iteration int    `json:"iteration"`
	Docs      int    `json:"docs"`
	Worker    string `json:"worker"`
}

// TopicsFit runs a one-shard fit (plan PlanSingle) in this worker: every iteration from
// the shard's stored one up to p.Iteration, each a sweep of shard 0 against its own counts
// with the seeds TopicsSweep would use, so it fits exactly what one shard swept round by
// round would. It stores the assignments and counts every fitCheckpointEvery and at the
// end, where FinishTopics reads them; a retry resumes from the last one stored.
func (a *Activities) TopicsFit(ctx context.Context, p TopicsParams) (TopicsFitResult, error) {
	if p.Iteration < 1 || p.RunID == "" {
		return TopicsFitResult{}, badInput(fmt.Errorf("topics fit: bad run %q iteration %d", p.RunID, p.Iteration))
	}
	var prog atomic.Pointer[TopicsFitProgress]
	prog.Store(&TopicsFitProgress{Of: p.Iteration})
	defer activities.KeepAlive(ctx, func() any { return *prog.Load() })()
	s, err := a.loadShard(ctx, p.RunID, 0)
	if err != nil {
		return TopicsFitResult{}, err
	}
	res := TopicsFitResult{From: s.Iteration, Iteration: s.Iteration, Docs: len(s.Docs), Worker: a.Identity}
	if s.Iteration >= p.Iteration {
		return res, nil
	}
	global, err := a.loadGlobal(ctx, p.RunID, 1, s.Iteration)
	if err != nil {
		return res, err
	}
	if err := topics.ValidateShard(s.Docs, s.Z, global.K, global.V); err != nil {
		return res, badInput(fmt.Errorf("topic shard %s/0: %w", p.RunID, err))
	}
	lda := p.lda()
	stored, last := s.Iteration, time.Now()
	for it := s.Iteration + 1; it <= p.Iteration; it++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		global = topics.SweepShard(s.Docs, s.Z, global, lda, max(1, p.Sweeps), p.Seed+uint64(it)*7919)
		res.Iteration = it
		if it == p.Iteration || time.Since(last) >= fitCheckpointEvery {
			ok, err := a.Store.SaveFit(ctx, p.RunID, 0, stored, it, s.Z, global)
			if err != nil {
				return res, err
			}
			if !ok {
				return res, fmt.Errorf("topic run %s: shard 0 moved past iteration %d while this attempt sampled (another attempt is running)", p.RunID, stored)
			}
			stored, last = it, time.Now()
		}
		prog.Store(&TopicsFitProgress{Iteration: it, Of: p.Iteration, Stored: stored})
	}
	return res, nil
}

// itemMix is one item's topic mix.
type itemMix struct {
	id, typ string
	theta   []float64
}

// FinishTopics stores the fitted model of the last iteration: top words per topic, each
// item's topic mix (held-out items by inference), and the quality measures.
func (a *Activities) FinishTopics(ctx context.Context, p TopicsParams) (TopicsQuality, error) {
	q := TopicsQuality{RunID: p.RunID}
	var ph phase
	ph.set("loading model")
	defer activities.KeepAlive(ctx, ph.details)()
	vocab, err := a.Store.RunVocab(ctx, p.RunID)
	if err != nil {
		return q, err
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
		sh, err := a.loadShard(ctx, p.RunID, s)
		if err != nil {
			return q, err
		}
		for i := range sh.Docs {
			mixes = append(mixes, itemMix{sh.ItemIDs[i], sh.ItemTypes[i], topics.DocTopics(sh.Z[i], lda)})
		}
		train = append(train, sh.Docs...)
	}
	ph.set("inferring held-out items")
	held, err := a.loadShard(ctx, p.RunID, postgres.TopicHeldoutShard)
	if err != nil {
		return q, err
	}
	for i, d := range held.Docs {
		mixes = append(mixes, itemMix{held.ItemIDs[i], held.ItemTypes[i], topics.Infer(d, global, lda, 30, p.Seed+uint64(i))})
	}
	ph.set("measuring quality")
	if len(held.Docs) > 0 {
		q.Perplexity = topics.Perplexity(held.Docs, global, lda, 30, p.Seed)
	}
	q.CoherenceUMass = topics.CoherenceUMass(global, train, lda, 10)
	q.CoherenceNPMI = topics.CoherenceNPMI(global, train, lda, 10)
	q.Items = int64(len(mixes))
	model := postgres.TopicModel{Iterations: p.Iteration, Perplexity: q.Perplexity, CoherenceUMass: q.CoherenceUMass, CoherenceNPMI: q.CoherenceNPMI}
	for k, ws := range topics.TopWords(global, vocab, lda, max(5, p.TopWords)) {
		model.Topics = append(model.Topics, postgres.FittedTopic{Topic: k, Tokens: global.TopicTotal[k], Words: ws})
	}
	maxTopics := max(1, p.MaxItemTopics)
	model.Items = make([]postgres.ItemTopic, 0, len(mixes)*maxTopics)
	for _, m := range mixes {
		for _, t := range strongest(m.theta, maxTopics, 0.05) {
			model.Items = append(model.Items, postgres.ItemTopic{ItemID: m.id, ItemType: m.typ, Topic: t, Weight: m.theta[t]})
		}
	}
	ph.set("storing model")
	if err := a.Store.SaveModel(ctx, p.RunID, model); err != nil {
		return q, err
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
func (a *Activities) PublishTopics(ctx context.Context, in activities.ModelPublishInput) (activities.ModelPublishResult, error) {
	var ph phase
	ph.set("reading topics")
	defer activities.KeepAlive(ctx, ph.details)()
	fitted, err := a.Store.FittedTopics(ctx, in.Version)
	if err != nil {
		return activities.ModelPublishResult{}, err
	}
	if len(fitted) == 0 {
		return activities.ModelPublishResult{}, badInput(errors.New("topic run " + in.Version + " has no fitted topics"))
	}
	batch := make([]published.Row[published.Topic], 0, len(fitted))
	for _, f := range fitted {
		t := published.Topic{ID: f.Topic, Items: f.Items, Words: make([]published.TopicWord, len(f.Words))}
		for i, w := range f.Words {
			t.Words[i] = published.TopicWord{Word: w.Word, Weight: w.Weight}
		}
		batch = append(batch, published.Row[published.Topic]{Key: published.TopicKey(t.ID), Rank: t.ID, Value: t})
	}
	// Each topic's items, strongest first, at most membersPerTopic per topic.
	ph.set("publishing topic items")
	members := grouper[published.TopicMember]{a: a, m: published.TopicItems, version: in.Version}
	if err := a.Store.TopicMembers(ctx, in.Version, membersPerTopic, func(it postgres.ItemTopic) error {
		return members.add(ctx, published.TopicKey(it.Topic), published.TopicMember{ID: it.ItemID, Weight: it.Weight})
	}); err != nil {
		return activities.ModelPublishResult{}, err
	}
	if _, err := members.finish(ctx); err != nil {
		return activities.ModelPublishResult{}, err
	}
	ph.set("publishing item topics")
	mixes := grouper[published.TopicShare]{a: a, m: published.ItemTopics, version: in.Version}
	if err := a.Store.ItemMixes(ctx, in.Version, func(it postgres.ItemTopic) error {
		return mixes.add(ctx, it.ItemID, published.TopicShare{Topic: it.Topic, Weight: it.Weight})
	}); err != nil {
		return activities.ModelPublishResult{}, err
	}
	if _, err := mixes.finish(ctx); err != nil {
		return activities.ModelPublishResult{}, err
	}
	return switchModel(ctx, a, published.Topics, in.Version, batch)
}

// grouper publishes a model whose values arrive ordered by key: consecutive values with
// the same key become one row holding the JSON list of them, written publishBatch rows
// at a time.
type grouper[V any] struct {
	a       *Activities
	m       published.Model[[]V]
	version string
	batch   []published.Row[[]V]
	cur     string
	vals    []V
}

func (g *grouper[V]) add(ctx context.Context, key string, v V) error {
	if key != g.cur {
		if err := g.emit(ctx); err != nil {
			return err
		}
		g.cur = key
	}
	g.vals = append(g.vals, v)
	return nil
}

func (g *grouper[V]) emit(ctx context.Context) error {
	if g.cur == "" {
		return nil
	}
	g.batch = append(g.batch, published.Row[[]V]{Key: g.cur, Value: g.vals})
	g.vals = nil
	if len(g.batch) >= publishBatch {
		err := g.m.Put(ctx, g.a.Publisher, g.version, g.batch)
		g.batch = g.batch[:0]
		return err
	}
	return nil
}

// finish writes the last rows and switches the model to the version.
func (g *grouper[V]) finish(ctx context.Context) (activities.ModelPublishResult, error) {
	if err := g.emit(ctx); err != nil {
		return activities.ModelPublishResult{}, err
	}
	return switchModel(ctx, g.a, g.m, g.version, g.batch)
}

// switchModel writes the last rows of a model version, switches MySQL to it and records it.
func switchModel[V any](ctx context.Context, a *Activities, m published.Model[V], version string, last []published.Row[V]) (activities.ModelPublishResult, error) {
	return activities.SwitchModel(ctx, a.Publisher, a.Store.BatchRunStore, a.Logger, m, version, last)
}
