package topics

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
)

// Params are the model's hyperparameters.
type Params struct {
	K     int     // topics
	Alpha float64 // document-topic prior (default 50/K if 0)
	Beta  float64 // topic-word prior (default 0.01 if 0)
}

// WithDefaults returns p with zero Alpha and Beta replaced by their defaults
// (50/K and 0.01).
func (p Params) WithDefaults() Params {
	if p.Alpha == 0 && p.K > 0 {
		p.Alpha = 50 / float64(p.K)
	}
	if p.Beta == 0 {
		p.Beta = 0.01
	}
	return p
}

// Validate reports whether p (after WithDefaults) can be used: 1 <= K <=
// MaxTopics and positive priors.
func (p Params) Validate() error {
	p = p.WithDefaults()
	if p.K < 1 || p.K > MaxTopics {
		return fmt.Errorf("topics: K=%d out of range [1, %d]", p.K, MaxTopics)
	}
	if !(p.Alpha > 0) || !(p.Beta > 0) {
		return fmt.Errorf("topics: priors must be positive: alpha=%g beta=%g", p.Alpha, p.Beta)
	}
	return nil
}

// forCounts returns p with K taken from c and defaults applied.
func (p Params) forCounts(c *Counts) Params {
	p.K = c.K
	return p.WithDefaults()
}

// SeedFor derives the seed that Fit uses for shard `shard` in round `round`:
// round 0 is InitShard, round r >= 1 is the r-th SweepShard. A distributed
// driver that uses the same seeds, one sweep per round and the same
// contiguous sharding reproduces Fit exactly.
func SeedFor(seed uint64, round, shard int) uint64 {
	h := mix64(seed ^ 0x6a09e667f3bcc908)
	h = mix64(h + uint64(round)*0x9e3779b97f4a7c15)
	return mix64(h ^ uint64(shard)*0xbf58476d1ce4e5b9)
}

// mix64 is the SplitMix64 finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// newPCG returns the package's generator for seed.
func newPCG(seed uint64) *rand.PCG { return rand.NewPCG(seed, mix64(seed)) }

// unit returns a uniform float64 in [0, 1) from src, without the interface
// call of rand.Rand (this is the sampler's inner loop).
func unit(src *rand.PCG) float64 { return float64(src.Uint64()>>11) * 0x1p-53 }

// ValidateDocs checks that every word id of docs is in [0, v).
func ValidateDocs(docs [][]int32, v int) error {
	for d, doc := range docs {
		for i, w := range doc {
			if w < 0 || int(w) >= v {
				return fmt.Errorf("topics: doc %d token %d: word id %d out of range [0, %d)", d, i, w, v)
			}
		}
	}
	return nil
}

// ValidateShard checks a shard's inputs before SweepShard or ShardCounts: k
// in [1, MaxTopics], word ids in [0, v), z parallel to docs (same number of
// documents, same length per document) and every topic in [0, k). Workers
// that load docs and z from storage should call it; InitShard's output always
// passes.
func ValidateShard(docs [][]int32, z Assignments, k, v int) error {
	if k < 1 || k > MaxTopics {
		return fmt.Errorf("topics: K=%d out of range [1, %d]", k, MaxTopics)
	}
	if len(z) != len(docs) {
		return fmt.Errorf("topics: %d assignment rows for %d docs", len(z), len(docs))
	}
	if err := ValidateDocs(docs, v); err != nil {
		return err
	}
	for d, zd := range z {
		if len(zd) != len(docs[d]) {
			return fmt.Errorf("topics: doc %d: %d assignments for %d tokens", d, len(zd), len(docs[d]))
		}
		for i, t := range zd {
			if int(t) >= k {
				return fmt.Errorf("topics: doc %d token %d: topic %d out of range [0, %d)", d, i, t, k)
			}
		}
	}
	return nil
}

// mustShard panics with a clear message if the shard inputs are invalid.
func mustShard(fn string, docs [][]int32, z Assignments, k, v int) {
	if err := ValidateShard(docs, z, k, v); err != nil {
		panic(fmt.Sprintf("topics: %s: invalid shard (check inputs with ValidateShard): %v", fn, err))
	}
}

// InitShard assigns every token of docs a topic uniformly at random (seeded)
// and returns the assignments with the shard's counts. Word ids must be in
// [0, v) and k in [1, MaxTopics]; InitShard panics otherwise (check with
// ValidateDocs).
func InitShard(docs [][]int32, k, v int, seed uint64) (Assignments, *Counts) {
	if k < 1 || k > MaxTopics {
		panic(fmt.Sprintf("topics: InitShard: K=%d out of range [1, %d]", k, MaxTopics))
	}
	if err := ValidateDocs(docs, v); err != nil {
		panic(fmt.Sprintf("topics: InitShard: %v", err))
	}
	r := rand.New(newPCG(seed))
	z := make(Assignments, len(docs))
	c := NewCounts(k, v)
	for d, doc := range docs {
		zd := make([]uint16, len(doc))
		for i, w := range doc {
			t := r.IntN(k)
			zd[i] = uint16(t)
			c.TopicWord[t*v+int(w)]++
			c.TopicTotal[t]++
		}
		z[d] = zd
	}
	return z, c
}

// ShardCounts recomputes a shard's counts from its docs and z. It panics on
// inputs that ValidateShard rejects.
func ShardCounts(docs [][]int32, z Assignments, k, v int) *Counts {
	mustShard("ShardCounts", docs, z, k, v)
	return shardCounts(docs, z, k, v)
}

// shardCounts is ShardCounts without validation.
func shardCounts(docs [][]int32, z Assignments, k, v int) *Counts {
	c := NewCounts(k, v)
	for d, doc := range docs {
		for i, w := range doc {
			t := int(z[d][i])
			c.TopicWord[t*v+int(w)]++
			c.TopicTotal[t]++
		}
	}
	return c
}

// SweepShard runs `sweeps` collapsed Gibbs sweeps over docs, updating z in
// place, and returns the shard's new own counts (computed from z).
//
// It samples against a private copy of global, updating the copy as it goes
// (standard AD-LDA); global must already include this shard's counts for the
// current z (as after InitShard and a merge, or a previous round and a
// merge), and is not modified. K and V are taken from global (p.K is
// ignored; Alpha and Beta default as in WithDefaults). Per-document topic
// counts are recomputed from z. The result is deterministic for a given
// seed; the generator is math/rand/v2's PCG.
//
// Inputs must come from InitShard and earlier SweepShard calls (or pass
// ValidateShard and Counts.Validate); SweepShard panics with a descriptive
// message otherwise, so workers loading them from storage should validate
// first.
func SweepShard(docs [][]int32, z Assignments, global *Counts, p Params, sweeps int, seed uint64) *Counts {
	if err := global.Validate(); err != nil {
		panic(fmt.Sprintf("topics: SweepShard: invalid global counts: %v", err))
	}
	p = p.forCounts(global)
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("topics: SweepShard: %v", err))
	}
	K, V := global.K, global.V
	mustShard("SweepShard", docs, z, K, V)
	if sweeps > 0 {
		s := newSweeper(global, p)
		src := newPCG(seed)
		for range sweeps {
			for d, doc := range docs {
				s.sweepDoc(doc, z[d], src)
			}
		}
	}
	return shardCounts(docs, z, K, V)
}

// sweeper holds the private, word-major copy of the counts that one shard
// samples against, and its scratch buffers.
type sweeper struct {
	alpha, beta float64
	vbeta       float64
	wordTopic   []int32   // V*K, word-major: wordTopic[w*K+k]
	topicTotal  []int64   // K
	inv         []float64 // K: 1/(topicTotal[k]+V*beta)
	docTopic    []float64 // K: n_dk + alpha for the current document
	weight      []float64 // K: docTopic[k]*inv[k]
	cum         []float64 // K: cumulative sampling weights
}

func newSweeper(global *Counts, p Params) *sweeper {
	K, V := global.K, global.V
	s := &sweeper{
		alpha:      p.Alpha,
		beta:       p.Beta,
		vbeta:      float64(V) * p.Beta,
		wordTopic:  make([]int32, V*K),
		topicTotal: slices.Clone(global.TopicTotal),
		inv:        make([]float64, K),
		docTopic:   make([]float64, K),
		weight:     make([]float64, K),
		cum:        make([]float64, K),
	}
	for k := range K {
		for w, n := range global.row(k) {
			s.wordTopic[w*K+k] = n
		}
	}
	for k, n := range s.topicTotal {
		s.inv[k] = 1 / (float64(n) + s.vbeta)
	}
	return s
}

// sweepDoc resamples every token of one document. The weight of topic k for
// word w is (n_dk+alpha)*(n_kw+beta)/(n_k+V*beta); the factors that do not
// depend on w are kept in s.weight and updated only for the two topics a
// token leaves and joins.
func (s *sweeper) sweepDoc(doc []int32, zd []uint16, src *rand.PCG) {
	K := len(s.docTopic)
	nd, inv, tot := s.docTopic, s.inv[:K], s.topicTotal[:K]
	wt, cum := s.weight[:K], s.cum[:K]
	for k := range nd {
		nd[k] = s.alpha
	}
	for _, t := range zd {
		nd[t]++
	}
	for k := range nd {
		wt[k] = nd[k] * inv[k]
	}
	beta, vbeta := s.beta, s.vbeta
	for i, w := range doc {
		base := int(w) * K
		row := s.wordTopic[base : base+K : base+K]
		old := zd[i]
		// Remove the token. The guards only matter for inconsistent
		// inputs (global not including this shard): they keep every
		// weight positive instead of corrupting the sampler.
		nd[old]--
		if row[old] > 0 {
			row[old]--
		}
		if tot[old] > 0 {
			tot[old]--
		}
		inv[old] = 1 / (float64(tot[old]) + vbeta)
		wt[old] = nd[old] * inv[old]

		wt := wt[:len(row)]
		cum := cum[:len(row)]
		sum := 0.0
		for k, n := range row {
			sum += wt[k] * (float64(n) + beta)
			cum[k] = sum
		}
		// The new topic is the first whose cumulative weight exceeds u.
		u := unit(src) * sum
		t := 0
		for t < len(cum)-1 && cum[t] <= u {
			t++
		}

		zd[i] = uint16(t)
		nd[t]++
		row[t]++
		tot[t]++
		inv[t] = 1 / (float64(tot[t]) + vbeta)
		wt[t] = nd[t] * inv[t]
	}
}

// Fit runs the whole model in one process over shards; it is a convenience
// and the reference for the distributed protocol. It splits docs into
// `shards` contiguous shards (at most one per document, at least one),
// InitShard each with SeedFor(seed, 0, s), sums the counts, then runs `iters`
// rounds in which every shard s does one SweepShard with SeedFor(seed, r, s)
// (the shards of a round run concurrently) followed by re-summing. It returns
// the global counts and the assignments per shard (concatenated, they are in
// docs order). Fit panics if p is invalid or a word id is outside [0, v).
func Fit(docs [][]int32, v int, p Params, iters, shards int, seed uint64) (*Counts, []Assignments) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("topics: Fit: %v", err))
	}
	if err := ValidateDocs(docs, v); err != nil {
		panic(fmt.Sprintf("topics: Fit: %v", err))
	}
	shards = max(1, min(shards, len(docs)))
	parts := make([][][]int32, shards)
	for s := range parts {
		parts[s] = docs[s*len(docs)/shards : (s+1)*len(docs)/shards]
	}
	zs := make([]Assignments, shards)
	counts := make([]*Counts, shards)
	for s := range parts {
		zs[s], counts[s] = InitShard(parts[s], p.K, v, SeedFor(seed, 0, s))
	}
	global := mustSum(counts)
	for r := 1; r <= iters; r++ {
		var wg sync.WaitGroup
		for s := range parts {
			wg.Go(func() {
				counts[s] = SweepShard(parts[s], zs[s], global, p, 1, SeedFor(seed, r, s))
			})
		}
		wg.Wait()
		global = mustSum(counts)
	}
	return global, zs
}

// mustSum sums counts that are known to share one shape.
func mustSum(parts []*Counts) *Counts {
	c, err := Sum(parts...)
	if err != nil {
		panic(err) // unreachable: all parts are made with the same K and V
	}
	return c
}

// DocTopics is a document's topic mix theta (length p.K, sums to 1) from its
// assignments: theta_k = (n_dk + alpha) / (len + K*alpha). Topics outside
// [0, p.K) are ignored; it returns nil if p.K < 1.
func DocTopics(z []uint16, p Params) []float64 {
	p = p.WithDefaults()
	if p.K < 1 {
		return nil
	}
	theta := make([]float64, p.K)
	n := 0
	for _, t := range z {
		if int(t) < p.K {
			theta[t]++
			n++
		}
	}
	den := float64(n) + float64(p.K)*p.Alpha
	for k := range theta {
		theta[k] = (theta[k] + p.Alpha) / den
	}
	return theta
}

// WordWeight is one word of a topic with its probability phi.
type WordWeight struct {
	Word   string  `json:"word"`
	Weight float64 `json:"weight"`
}

// TopWords returns each topic's n most probable words, with phi =
// (n_kw+beta)/(n_k+V*beta), ties broken by word (then by id). vocab maps
// word ids to words; ids beyond it get the empty word.
func TopWords(global *Counts, vocab []string, p Params, n int) [][]WordWeight {
	if global == nil || global.checkShape() != nil {
		return nil
	}
	p = p.forCounts(global)
	word := func(id int32) string {
		if int(id) < len(vocab) {
			return vocab[id]
		}
		return ""
	}
	tops := topIDs(global, n, func(a, b int32) int {
		if c := cmp.Compare(word(a), word(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out := make([][]WordWeight, global.K)
	for k, ids := range tops {
		den := float64(global.TopicTotal[k]) + float64(global.V)*p.Beta
		ws := make([]WordWeight, len(ids))
		for i, id := range ids {
			ws[i] = WordWeight{Word: word(id), Weight: (float64(global.row(k)[id]) + p.Beta) / den}
		}
		out[k] = ws
	}
	return out
}

// topIDs returns the ids of each topic's n highest counts, highest first,
// ties ordered by tie.
func topIDs(c *Counts, n int, tie func(a, b int32) int) [][]int32 {
	n = min(n, c.V)
	out := make([][]int32, c.K)
	if n <= 0 {
		return out
	}
	for k := range c.K {
		row := c.row(k)
		// before reports whether word a ranks above word b.
		before := func(a, b int32) bool {
			if row[a] != row[b] {
				return row[a] > row[b]
			}
			return tie(a, b) < 0
		}
		top := make([]int32, 0, n)
		for w := range int32(len(row)) {
			if len(top) == n && !before(w, top[n-1]) {
				continue
			}
			if len(top) < n {
				top = append(top, w)
			} else {
				top[n-1] = w
			}
			for i := len(top) - 1; i > 0 && before(top[i], top[i-1]); i-- {
				top[i], top[i-1] = top[i-1], top[i]
			}
		}
		out[k] = top
	}
	return out
}

// Infer estimates theta for an unseen document by Gibbs sampling its topic
// assignments with phi fixed from global, for iters sweeps (seeded). The
// estimate averages theta over the second half of the sweeps (with iters <=
// 0 it is the random initial state). Word ids outside [0, global.V) are
// ignored; K is taken from global. It returns nil if global is malformed.
func Infer(doc []int32, global *Counts, p Params, iters int, seed uint64) []float64 {
	if global == nil || global.checkShape() != nil || global.K < 1 {
		return nil
	}
	p = p.forCounts(global)
	return newInferrer(global, p).infer(doc, iters, newPCG(seed))
}

// inferrer samples documents against fixed topics: those of counts g, or (g nil) the
// topic-word distributions dense (K×V, topic-major) of another model.
type inferrer struct {
	g           *Counts
	dense       []float64
	k, v        int
	alpha, beta float64
	inv         []float64 // K: 1/(n_k+V*beta)
}

func newInferrer(g *Counts, p Params) *inferrer {
	inv := make([]float64, g.K)
	for k, n := range g.TopicTotal {
		inv[k] = 1 / (float64(n) + float64(g.V)*p.Beta)
	}
	return &inferrer{g: g, k: g.K, v: g.V, alpha: p.Alpha, beta: p.Beta, inv: inv}
}

// phi appends phi_kw for k = 0..K-1 to dst.
func (f *inferrer) phi(dst []float64, w int32) []float64 {
	if f.g == nil {
		for k := range f.k {
			dst = append(dst, f.dense[k*f.v+int(w)])
		}
		return dst
	}
	for k, inv := range f.inv {
		dst = append(dst, (float64(f.g.TopicWord[k*f.g.V+int(w)])+f.beta)*inv)
	}
	return dst
}

func (f *inferrer) infer(doc []int32, iters int, src *rand.PCG) []float64 {
	K := f.k
	phi := make([]float64, 0, len(doc)*K)
	for _, w := range doc {
		if w >= 0 && int(w) < f.v {
			phi = f.phi(phi, w)
		}
	}
	n := len(phi) / K
	z := make([]int, n)
	nd := make([]float64, K) // n_dk + alpha
	for k := range nd {
		nd[k] = f.alpha
	}
	for i := range z {
		z[i] = int(src.Uint64() % uint64(K))
		nd[z[i]]++
	}
	theta := make([]float64, K)
	cum := make([]float64, K)
	den := float64(n) + float64(K)*f.alpha
	samples := 0
	for it := range iters {
		for i := range z {
			nd[z[i]]--
			ph := phi[i*K : i*K+K]
			sum := 0.0
			for k, v := range ph {
				sum += nd[k] * v
				cum[k] = sum
			}
			u := unit(src) * sum
			t := 0
			for t < K-1 && cum[t] <= u {
				t++
			}
			z[i] = t
			nd[t]++
		}
		if it >= iters/2 {
			for k, v := range nd {
				theta[k] += v / den
			}
			samples++
		}
	}
	if samples == 0 {
		for k, v := range nd {
			theta[k] = v / den
		}
		return theta
	}
	for k := range theta {
		theta[k] /= float64(samples)
	}
	return theta
}
