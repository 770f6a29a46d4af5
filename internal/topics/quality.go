package topics

import (
	"cmp"
	"math"
)

// cooccurrence counts in how many documents the top words of the topics
// occur, alone and in pairs.
type cooccurrence struct {
	tops     [][]int32 // per topic, top word ids, best first
	slot     map[int32]int
	postings [][]int32 // per slot: ascending ids of the docs containing the word
}

func newCooccurrence(global *Counts, docs [][]int32, n int) *cooccurrence {
	c := &cooccurrence{tops: topIDs(global, n, cmp.Compare[int32]), slot: make(map[int32]int)}
	for _, top := range c.tops {
		for _, w := range top {
			if _, ok := c.slot[w]; !ok {
				c.slot[w] = len(c.slot)
			}
		}
	}
	c.postings = make([][]int32, len(c.slot))
	for d, doc := range docs {
		for _, w := range doc {
			s, ok := c.slot[w]
			if !ok {
				continue
			}
			if p := c.postings[s]; len(p) == 0 || p[len(p)-1] != int32(d) {
				c.postings[s] = append(p, int32(d))
			}
		}
	}
	return c
}

// df is the number of documents containing w.
func (c *cooccurrence) df(w int32) int { return len(c.postings[c.slot[w]]) }

// co is the number of documents containing both a and b.
func (c *cooccurrence) co(a, b int32) int {
	pa, pb := c.postings[c.slot[a]], c.postings[c.slot[b]]
	n, i, j := 0, 0, 0
	for i < len(pa) && j < len(pb) {
		switch {
		case pa[i] < pb[j]:
			i++
		case pa[i] > pb[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// CoherenceUMass is the UMass coherence (Mimno et al. 2011): the mean over
// topics of sum_{i<j} log((D(w_i,w_j)+1)/D(w_j)) over each topic's top n words
// (w_j ranked above w_i; ties in rank by word id), where D counts the given
// docs containing the word(s). Pairs whose w_j occurs in no document are
// skipped. Higher (closer to 0) is better. p is accepted for symmetry with the
// other measures; the ranking by count is the same as by phi.
func CoherenceUMass(global *Counts, docs [][]int32, p Params, n int) float64 {
	if global == nil || global.checkShape() != nil || global.K == 0 {
		return 0
	}
	c := newCooccurrence(global, docs, n)
	total := 0.0
	for _, top := range c.tops {
		for i := 1; i < len(top); i++ {
			for j := range i {
				dj := c.df(top[j])
				if dj == 0 {
					continue
				}
				total += math.Log(float64(c.co(top[i], top[j])+1) / float64(dj))
			}
		}
	}
	return total / float64(len(c.tops))
}

// CoherenceNPMI is the mean normalized pointwise mutual information over the
// pairs of each topic's top n words, averaged per topic and then over topics,
// with probabilities estimated from document co-occurrence over docs:
// NPMI = log(P(a,b)/(P(a)P(b))) / -log P(a,b). Pairs that never co-occur
// count as -1 (and pairs occurring in every document as 1). It lies in
// [-1, 1]; higher is better.
func CoherenceNPMI(global *Counts, docs [][]int32, p Params, n int) float64 {
	if global == nil || global.checkShape() != nil || global.K == 0 {
		return 0
	}
	c := newCooccurrence(global, docs, n)
	N := float64(len(docs))
	total := 0.0
	for _, top := range c.tops {
		sum, pairs := 0.0, 0
		for i := 1; i < len(top); i++ {
			for j := range i {
				pairs++
				co := c.co(top[i], top[j])
				if co == 0 {
					sum--
					continue
				}
				pab := float64(co) / N
				if pab >= 1 {
					sum++
					continue
				}
				pa, pb := float64(c.df(top[i]))/N, float64(c.df(top[j]))/N
				sum += math.Log(pab/(pa*pb)) / -math.Log(pab)
			}
		}
		if pairs > 0 {
			total += sum / float64(pairs)
		}
	}
	return total / float64(len(c.tops))
}

// Perplexity measures the model on held-out docs by document completion: for
// each doc it infers theta from the even-position tokens (Infer, iters
// sweeps, seeded per document from seed) and scores the odd-position tokens
// with p(w) = sum_k theta_k phi_kw, returning exp(-sum log p(w) / N) over all
// N scored tokens. Lower is better; a uniform model scores V. Word ids outside
// [0, V) are ignored. It returns NaN if no token is scored or global is
// malformed. Documents are processed in parallel; the result does not depend
// on the number of CPUs.
func Perplexity(heldout [][]int32, global *Counts, p Params, iters int, seed uint64) float64 {
	if global == nil || global.checkShape() != nil || global.K < 1 {
		return math.NaN()
	}
	p = p.forCounts(global)
	return completionPerplexity(heldout, newInferrer(global, p), iters, seed)
}

// PerplexityOf is Perplexity for a model given by its topic-word distributions rather
// than counts: phi is K×V, topic-major (phi[k*v+w] = p(w|k), each row summing to 1), and
// alpha the symmetric document-topic prior used to infer theta. It scores another
// implementation's model (e.g. gensim's get_topics()) with the same estimator.
func PerplexityOf(heldout [][]int32, phi []float64, k, v int, alpha float64, iters int, seed uint64) float64 {
	if k < 1 || v < 1 || len(phi) != k*v || !(alpha > 0) {
		return math.NaN()
	}
	return completionPerplexity(heldout, &inferrer{dense: phi, k: k, v: v, alpha: alpha}, iters, seed)
}

// completionPerplexity is the document-completion estimator of Perplexity.
func completionPerplexity(heldout [][]int32, f *inferrer, iters int, seed uint64) float64 {
	logs := make([]float64, len(heldout))
	counts := make([]int, len(heldout))
	parallelRange(len(heldout), func(lo, hi int) {
		var even, odd []int32
		var phi []float64
		for d := lo; d < hi; d++ {
			even, odd = even[:0], odd[:0]
			for i, w := range heldout[d] {
				if w < 0 || int(w) >= f.v {
					continue
				}
				if i%2 == 0 {
					even = append(even, w)
				} else {
					odd = append(odd, w)
				}
			}
			if len(odd) == 0 {
				continue
			}
			theta := f.infer(even, iters, newPCG(SeedFor(seed, 0, d)))
			for _, w := range odd {
				phi = f.phi(phi[:0], w)
				pw := 0.0
				for k, t := range theta {
					pw += t * phi[k]
				}
				logs[d] += math.Log(pw)
			}
			counts[d] = len(odd)
		}
	})
	sum, n := 0.0, 0
	for d := range logs {
		sum += logs[d]
		n += counts[d]
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(-sum / float64(n))
}
