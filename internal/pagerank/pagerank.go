// Package pagerank ranks items by PageRank over a weighted click graph: an
// edge From → To with weight w records w clicks from item From to item To.
//
// The package is pure: it performs no I/O and keeps no package-level state.
// Results are deterministic: Compute and Merge sort their input into a
// canonical order before any floating-point summation, so the same multiset
// of edges yields bit-identical output whatever its order, and a batch shard
// re-run on another worker produces identical output.
//
// Click logs can be aggregated in a shardable map step: each shard reduces
// its edges with Merge, and the per-shard results are merged again before
// Compute. With integral weights (click counts below 2^53) the sums are
// exact, so the merged graph does not depend on how edges were sharded.
package pagerank

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Default option values, used when the corresponding Options field is zero
// or out of range.
const (
	// DefaultDamping is the default damping factor.
	DefaultDamping = 0.85
	// DefaultTol is the default convergence tolerance on the L1 change of
	// the rank vector between two iterations.
	DefaultTol = 1e-9
	// DefaultMaxIter is the default maximum number of iterations.
	DefaultMaxIter = 100
)

// Edge is a weighted directed link between two items.
type Edge struct {
	// From is the item the clicks came from.
	From string
	// To is the item the clicks went to.
	To string
	// Weight is the number of clicks.
	Weight float64
}

// Options tunes Compute. The zero value selects the defaults.
type Options struct {
	// Damping is the probability of following a link rather than jumping
	// to a uniformly random node. Values outside (0, 1) select
	// DefaultDamping.
	Damping float64
	// Tol is the convergence tolerance: iteration stops once the L1 norm
	// of the change of the rank vector is below Tol. Zero or a negative
	// value selects DefaultTol.
	Tol float64
	// MaxIter bounds the number of iterations. Zero or a negative value
	// selects DefaultMaxIter.
	MaxIter int
}

func (o Options) withDefaults() Options {
	if !(o.Damping > 0 && o.Damping < 1) {
		o.Damping = DefaultDamping
	}
	if !(o.Tol > 0) {
		o.Tol = DefaultTol
	}
	if o.MaxIter <= 0 {
		o.MaxIter = DefaultMaxIter
	}
	return o
}

// Rank is a node's PageRank score.
type Rank struct {
	// ID is the node (item) ID.
	ID string
	// Score is the node's PageRank; the scores of a Result sum to 1.
	Score float64
}

// Result is the outcome of Compute.
type Result struct {
	// Ranks holds one entry per node, sorted by score descending, then by
	// ID ascending.
	Ranks []Rank
	// Iterations is the number of power iterations performed.
	Iterations int
	// Converged reports whether the L1 change fell below the tolerance
	// within MaxIter iterations.
	Converged bool
}

// link is an incoming edge of one node: its source's number and its weight.
type link struct {
	from int32
	w    float64
}

// Compute returns the PageRank of every node of the graph given by edges.
//
// Every ID appearing as From or To of an edge is a node. Out-links are
// weighted: a node passes its rank to its successors in proportion to the
// click counts. Duplicate (From, To) edges are summed. Self-loops, and edges
// whose weight is not a positive finite number, contribute no link (their
// endpoints are still nodes). The rank of dangling nodes (nodes without
// out-links) is spread uniformly over all nodes. The scores sum to 1. An
// empty graph yields an empty, converged Result.
//
// Memory: besides edges and the Result, Compute holds about 20 bytes per
// edge at its peak (two node numbers per edge while it builds the
// incoming-link CSR of 12 bytes per link) and about 100 bytes per node.
func Compute(edges []Edge, opts Options) Result {
	opts = opts.withDefaults()

	// Number the nodes in order of first appearance, one map operation per
	// endpoint (the From of a run of edges with the same source, as the click
	// store returns them, is looked up once); src and dst hold each edge's
	// provisional numbers, dst -1 for an edge that is no link.
	num := make(map[string]int32)
	var names []string
	number := func(id string) int32 {
		k, ok := num[id]
		if !ok {
			k = int32(len(names))
			num[id] = k
			names = append(names, id)
		}
		return k
	}
	src := make([]int32, len(edges))
	dst := make([]int32, len(edges))
	var prevFrom string
	var prevNum int32 = -1
	for i, e := range edges {
		if prevNum < 0 || e.From != prevFrom {
			prevFrom, prevNum = e.From, number(e.From)
		}
		src[i], dst[i] = prevNum, number(e.To)
		if e.From == e.To || !(e.Weight > 0) || math.IsInf(e.Weight, 1) {
			dst[i] = -1
		}
	}
	num = nil
	n := len(names)
	if n == 0 {
		return Result{Converged: true}
	}

	// Renumber the nodes in ID order, the canonical order every summation
	// below follows.
	type named struct {
		id  string
		tmp int32
	}
	byID := make([]named, n)
	for i, id := range names {
		byID[i] = named{id, int32(i)}
	}
	names = nil
	slices.SortFunc(byID, func(a, b named) int { return strings.Compare(a.id, b.id) })
	final := make([]int32, n)
	ids := make([]string, n)
	for i, x := range byID {
		final[x.tmp] = int32(i)
		ids[i] = x.id
	}
	byID = nil

	// The incoming-link CSR in canonical order: a counting sort by target,
	// then each target's links sorted by (source, weight), duplicates summed
	// in ascending weight order.
	inStart := make([]int32, n+1)
	links := 0
	for i, t := range dst {
		if t >= 0 {
			t = final[t]
			dst[i], src[i] = t, final[src[i]]
			inStart[t+1]++
			links++
		}
	}
	final = nil
	for j := range n {
		inStart[j+1] += inStart[j]
	}
	inFrom := make([]int32, links)
	inProb := make([]float64, links)
	fill := slices.Clone(inStart[:n])
	for i, t := range dst {
		if t >= 0 {
			p := fill[t]
			fill[t]++
			inFrom[p], inProb[p] = src[i], edges[i].Weight
		}
	}
	fill, src, dst = nil, nil, nil
	var scratch []link
	m := int32(0)
	for j := range n {
		lo, hi := inStart[j], inStart[j+1]
		sortBucket(inFrom[lo:hi], inProb[lo:hi], &scratch)
		inStart[j] = m
		for k := lo; k < hi; k++ {
			if m > inStart[j] && inFrom[m-1] == inFrom[k] {
				inProb[m-1] += inProb[k]
				continue
			}
			inFrom[m], inProb[m] = inFrom[k], inProb[k]
			m++
		}
	}
	inStart[n] = m
	scratch = nil
	inFrom, inProb = inFrom[:m], inProb[:m]

	// Out-weights, summed in CSR order; then the transition probabilities
	// w/out[from].
	out := make([]float64, n)
	for k, from := range inFrom {
		out[from] += inProb[k]
	}
	for k, from := range inFrom {
		inProb[k] /= out[from]
	}
	var dangling []int32
	for i, w := range out {
		if w == 0 {
			dangling = append(dangling, int32(i))
		}
	}
	out = nil

	// Power iteration.
	d := opts.Damping
	nf := float64(n)
	rank := make([]float64, n)
	next := make([]float64, n)
	for i := range rank {
		rank[i] = 1 / nf
	}
	res := Result{}
	for it := 1; it <= opts.MaxIter; it++ {
		var dm float64
		for _, i := range dangling {
			dm += rank[i]
		}
		base := (1-d)/nf + d*dm/nf
		var delta float64
		lo := inStart[0]
		for j, hi := range inStart[1:] {
			var s float64
			from, prob := inFrom[lo:hi], inProb[lo:hi]
			prob = prob[:len(from)]
			for k, f := range from {
				s += rank[f] * prob[k]
			}
			lo = hi
			v := base + d*s
			delta += math.Abs(v - rank[j])
			next[j] = v
		}
		rank, next = next, rank
		res.Iterations = it
		if delta < opts.Tol {
			res.Converged = true
			break
		}
	}

	// Remove the rounding drift of the sum.
	var sum float64
	for _, r := range rank {
		sum += r
	}
	// Nodes by score descending; node numbers follow ID order, so ties stay
	// in ID order.
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(rank[b], rank[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	res.Ranks = make([]Rank, n)
	for i, v := range order {
		res.Ranks[i] = Rank{ID: ids[v], Score: rank[v] / sum}
	}
	return res
}

// sortBucket sorts one target's links by (source, weight): from and w are
// parallel slices. Small buckets, the common case, are insertion-sorted in
// place; larger ones go through scratch.
func sortBucket(from []int32, w []float64, scratch *[]link) {
	less := func(f1 int32, w1 float64, f2 int32, w2 float64) bool {
		return f1 < f2 || f1 == f2 && cmp.Less(w1, w2)
	}
	if len(from) <= 16 {
		for i := 1; i < len(from); i++ {
			f, x := from[i], w[i]
			j := i
			for ; j > 0 && less(f, x, from[j-1], w[j-1]); j-- {
				from[j], w[j] = from[j-1], w[j-1]
			}
			from[j], w[j] = f, x
		}
		return
	}
	s := (*scratch)[:0]
	for i, f := range from {
		s = append(s, link{from: f, w: w[i]})
	}
	slices.SortFunc(s, func(a, b link) int {
		if c := cmp.Compare(a.from, b.from); c != 0 {
			return c
		}
		return cmp.Compare(a.w, b.w)
	})
	for i, l := range s {
		from[i], w[i] = l.from, l.w
	}
	*scratch = s
}

// Merge combines edge lists, summing the weights of edges with equal
// (From, To), and returns the result sorted by From, then To. It keeps every
// edge, self-loops and non-positive weights included; Compute is the one to
// ignore them. The input slices are not modified.
//
// Weights of equal edges are summed in ascending weight order, so the result
// does not depend on the order of the edges or of the parts. For integral
// weights (click counts) the sums are exact, which makes Merge associative:
// Merge(Merge(a, b), c) equals Merge(a, Merge(b, c)) and Merge(a, b, c).
// Merge returns nil when there are no edges.
func Merge(parts ...[]Edge) []Edge {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	if total == 0 {
		return nil
	}
	all := make([]Edge, 0, total)
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.SortFunc(all, compareEdges)
	out := all[:0]
	for _, e := range all {
		if k := len(out) - 1; k >= 0 && out[k].From == e.From && out[k].To == e.To {
			out[k].Weight += e.Weight
			continue
		}
		out = append(out, e)
	}
	return slices.Clip(out)
}

// compareEdges orders edges by From, To, then Weight.
func compareEdges(a, b Edge) int {
	if c := strings.Compare(a.From, b.From); c != 0 {
		return c
	}
	if c := strings.Compare(a.To, b.To); c != 0 {
		return c
	}
	return cmp.Compare(a.Weight, b.Weight)
}
