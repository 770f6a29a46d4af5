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

// link is an edge between node numbers.
type link struct {
	from, to int32
	w        float64
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
func Compute(edges []Edge, opts Options) Result {
	opts = opts.withDefaults()

	// Number the nodes in ID order.
	num := make(map[string]int32)
	for _, e := range edges {
		num[e.From] = 0
		num[e.To] = 0
	}
	if len(num) == 0 {
		return Result{Converged: true}
	}
	ids := make([]string, 0, len(num))
	for id := range num {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		num[id] = int32(i)
	}
	n := len(ids)

	// Canonical link list: sorted by (to, from, weight), duplicates summed.
	links := make([]link, 0, len(edges))
	for _, e := range edges {
		if e.From == e.To || !(e.Weight > 0) || math.IsInf(e.Weight, 1) {
			continue
		}
		links = append(links, link{from: num[e.From], to: num[e.To], w: e.Weight})
	}
	slices.SortFunc(links, func(a, b link) int {
		if c := cmp.Compare(a.to, b.to); c != 0 {
			return c
		}
		if c := cmp.Compare(a.from, b.from); c != 0 {
			return c
		}
		return cmp.Compare(a.w, b.w)
	})
	links = sumDuplicates(links)

	// Out-weights, then the incoming-link CSR with transition
	// probabilities w/out[from].
	out := make([]float64, n)
	for _, l := range links {
		out[l.from] += l.w
	}
	inStart := make([]int32, n+1)
	inFrom := make([]int32, len(links))
	inProb := make([]float64, len(links))
	for k, l := range links {
		inStart[l.to+1]++
		inFrom[k] = l.from
		inProb[k] = l.w / out[l.from]
	}
	for j := range n {
		inStart[j+1] += inStart[j]
	}
	var dangling []int32
	for i, w := range out {
		if w == 0 {
			dangling = append(dangling, int32(i))
		}
	}

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
		for j := range n {
			var s float64
			for k := inStart[j]; k < inStart[j+1]; k++ {
				s += rank[inFrom[k]] * inProb[k]
			}
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
	res.Ranks = make([]Rank, n)
	for i, id := range ids {
		res.Ranks[i] = Rank{ID: id, Score: rank[i] / sum}
	}
	// ids are sorted, so a stable sort by score keeps ties in ID order.
	slices.SortStableFunc(res.Ranks, func(a, b Rank) int {
		return cmp.Compare(b.Score, a.Score)
	})
	return res
}

// sumDuplicates merges adjacent links with the same endpoints, summing their
// weights, in place.
func sumDuplicates(links []link) []link {
	out := links[:0]
	for _, l := range links {
		if k := len(out) - 1; k >= 0 && out[k].from == l.from && out[k].to == l.to {
			out[k].w += l.w
			continue
		}
		out = append(out, l)
	}
	return out
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
