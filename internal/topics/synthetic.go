package topics

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// SyntheticCorpus is a corpus generated from known topics.
type SyntheticCorpus struct {
	Docs  [][]int32
	V     int
	Truth [][]float64 // K topic-word distributions used to generate
	Vocab []string    // synthetic words like "w0042"
}

// Synthetic generates docs from k known topics over v words. Topic t puts 95%
// of its mass on its own block of about v/k words (words t*v/k up to
// (t+1)*v/k), spread by a Dirichlet(1) draw, and the remaining 5% uniformly
// over all words. Each document's theta is drawn from a sparse symmetric
// Dirichlet(alpha) (alpha <= 0 means 0.1) and it has docLen tokens. The
// result is a deterministic function of the arguments. Synthetic panics
// unless 1 <= k <= MaxTopics and v >= k.
func Synthetic(k, v, docs, docLen int, alpha float64, seed uint64) SyntheticCorpus {
	if k < 1 || k > MaxTopics || v < k {
		panic(fmt.Sprintf("topics: Synthetic: need 1 <= k <= %d and v >= k, got k=%d v=%d", MaxTopics, k, v))
	}
	if alpha <= 0 {
		alpha = 0.1
	}
	docs, docLen = max(docs, 0), max(docLen, 0)
	r := rand.New(newPCG(seed))
	const floor = 0.05
	truth := make([][]float64, k)
	cums := make([][]float64, k)
	for t := range truth {
		lo, hi := t*v/k, (t+1)*v/k
		g := make([]float64, hi-lo)
		gsum := 0.0
		for i := range g {
			g[i] = r.ExpFloat64() // Gamma(1)
			gsum += g[i]
		}
		phi := make([]float64, v)
		for w := range phi {
			phi[w] = floor / float64(v)
		}
		for i, x := range g {
			phi[lo+i] += (1 - floor) * x / gsum
		}
		truth[t] = phi
		cums[t] = cumulative(phi)
	}

	out := SyntheticCorpus{Docs: make([][]int32, docs), V: v, Truth: truth, Vocab: make([]string, v)}
	width := max(4, len(strconv.Itoa(v-1)))
	for w := range out.Vocab {
		out.Vocab[w] = fmt.Sprintf("w%0*d", width, w)
	}
	theta := make([]float64, k)
	for d := range out.Docs {
		sum := 0.0
		for t := range theta {
			theta[t] = gammaVariate(r, alpha)
			sum += theta[t]
		}
		if !(sum > 0) { // every draw underflowed: put all mass on one topic
			clear(theta)
			theta[r.IntN(k)] = 1
			sum = 1
		}
		for t := range theta {
			theta[t] /= sum
		}
		ct := cumulative(theta)
		doc := make([]int32, docLen)
		for i := range doc {
			t := draw(ct, r.Float64())
			doc[i] = int32(draw(cums[t], r.Float64()))
		}
		out.Docs[d] = doc
	}
	return out
}

// cumulative returns the running sums of p.
func cumulative(p []float64) []float64 {
	c := make([]float64, len(p))
	s := 0.0
	for i, x := range p {
		s += x
		c[i] = s
	}
	return c
}

// draw returns the index that u in [0, 1) selects from cumulative weights c.
func draw(c []float64, u float64) int {
	i, _ := slices.BinarySearch(c, u*c[len(c)-1])
	for i < len(c)-1 && c[i] <= u*c[len(c)-1] {
		i++
	}
	return min(i, len(c)-1)
}

// gammaVariate draws from Gamma(a, 1) (Marsaglia and Tsang 2000, with the
// U^(1/a) boost for a < 1).
func gammaVariate(r *rand.Rand, a float64) float64 {
	if a < 1 {
		return gammaVariate(r, a+1) * math.Pow(r.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// MatchTopics pairs each true topic with a distinct fitted topic, greedily
// by cosine similarity between the true distribution and the fitted phi
// ((n_kw+beta)/(n_k+V*beta)), highest pair first, and returns the similarity
// per true topic (0 for true topics left without a fitted topic).
func MatchTopics(truth [][]float64, fitted *Counts, p Params) []float64 {
	out := make([]float64, len(truth))
	if fitted == nil || fitted.checkShape() != nil {
		return out
	}
	p = p.forCounts(fitted)
	phi := make([][]float64, fitted.K)
	for k := range phi {
		den := float64(fitted.TopicTotal[k]) + float64(fitted.V)*p.Beta
		row := make([]float64, fitted.V)
		for w, n := range fitted.row(k) {
			row[w] = (float64(n) + p.Beta) / den
		}
		phi[k] = row
	}
	type pair struct {
		i, j int
		sim  float64
	}
	pairs := make([]pair, 0, len(truth)*len(phi))
	for i, t := range truth {
		for j, f := range phi {
			pairs = append(pairs, pair{i, j, cosine(t, f)})
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp.Compare(b.sim, a.sim) })
	usedT := make([]bool, len(truth))
	usedF := make([]bool, len(phi))
	for _, pr := range pairs {
		if usedT[pr.i] || usedF[pr.j] {
			continue
		}
		usedT[pr.i], usedF[pr.j] = true, true
		out[pr.i] = pr.sim
	}
	return out
}

// cosine is the cosine similarity of a and b over their common length (0 if
// either is zero there).
func cosine(a, b []float64) float64 {
	n := min(len(a), len(b))
	var dot, na, nb float64
	for i := range n {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
