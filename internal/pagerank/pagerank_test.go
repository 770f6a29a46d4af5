package pagerank

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// reference computes PageRank by solving the linear system
// (I - d·S)·r = (1-d)/n·1 with Gaussian elimination, where S is the
// column-stochastic transition matrix with dangling columns uniform. It
// returns the scores by node ID.
func reference(edges []Edge, d float64) map[string]float64 {
	idx := map[string]int{}
	var ids []string
	add := func(id string) {
		if _, ok := idx[id]; !ok {
			idx[id] = len(ids)
			ids = append(ids, id)
		}
	}
	for _, e := range edges {
		add(e.From)
		add(e.To)
	}
	n := len(ids)
	w := make([][]float64, n) // w[to][from]
	for i := range w {
		w[i] = make([]float64, n)
	}
	out := make([]float64, n)
	for _, e := range edges {
		if e.From == e.To || !(e.Weight > 0) || math.IsInf(e.Weight, 0) {
			continue
		}
		w[idx[e.To]][idx[e.From]] += e.Weight
		out[idx[e.From]] += e.Weight
	}
	// Augmented matrix [I - dS | (1-d)/n].
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, n+1)
		for j := range n {
			var s float64
			if out[j] == 0 {
				s = 1 / float64(n)
			} else {
				s = w[i][j] / out[j]
			}
			a[i][j] = -d * s
			if i == j {
				a[i][j]++
			}
		}
		a[i][n] = (1 - d) / float64(n)
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := range n {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k <= n; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	res := make(map[string]float64, n)
	for i, id := range ids {
		res[id] = a[i][n] / a[i][i]
	}
	return res
}

func checkAgainstReference(t *testing.T, edges []Edge, opts Options) Result {
	t.Helper()
	if opts.MaxIter == 0 {
		// Periodic graphs (cycles, bipartite stars) contract only by the
		// damping factor per iteration: 0.85^100 does not reach 1e-9.
		opts.MaxIter = 1000
	}
	got := Compute(edges, opts)
	if !got.Converged {
		t.Fatalf("did not converge in %d iterations", got.Iterations)
	}
	want := reference(edges, opts.withDefaults().Damping)
	if len(got.Ranks) != len(want) {
		t.Fatalf("got %d ranks, want %d", len(got.Ranks), len(want))
	}
	for _, r := range got.Ranks {
		if math.Abs(r.Score-want[r.ID]) > 1e-8 {
			t.Errorf("score(%s) = %.12f, want %.12f", r.ID, r.Score, want[r.ID])
		}
	}
	checkInvariants(t, got)
	return got
}

func checkInvariants(t *testing.T, res Result) {
	t.Helper()
	var sum float64
	for i, r := range res.Ranks {
		sum += r.Score
		if r.Score <= 0 {
			t.Fatalf("non-positive score %v", r)
		}
		if i > 0 {
			p := res.Ranks[i-1]
			if p.Score < r.Score || p.Score == r.Score && p.ID >= r.ID {
				t.Fatalf("ranks not sorted at %d: %v then %v", i, p, r)
			}
		}
	}
	if len(res.Ranks) > 0 && math.Abs(sum-1) > 1e-12 {
		t.Fatalf("scores sum to %.15f, want 1", sum)
	}
}

func scores(res Result) map[string]float64 {
	m := make(map[string]float64, len(res.Ranks))
	for _, r := range res.Ranks {
		m[r.ID] = r.Score
	}
	return m
}

func TestTextbookGraph(t *testing.T) {
	// Page & Brin's example: A→B, A→C, B→C, C→A. With c = (1-d)/3:
	//   rA = c + d·rC,  rB = c + d·rA/2,  rC = c + d·(rA/2 + rB).
	edges := []Edge{{"A", "B", 1}, {"A", "C", 1}, {"B", "C", 1}, {"C", "A", 1}}
	d := 0.85
	c := (1 - d) / 3
	rA := (c + d*c*(1+d)) / (1 - d*d*(0.5+d*0.5))
	rB := c + d*rA/2
	rC := c + d*(rA/2+rB)
	res := checkAgainstReference(t, edges, Options{})
	got := scores(res)
	for id, want := range map[string]float64{"A": rA, "B": rB, "C": rC} {
		if math.Abs(got[id]-want) > 1e-8 {
			t.Errorf("score(%s) = %.10f, want %.10f", id, got[id], want)
		}
	}
	if ids := []string{res.Ranks[0].ID, res.Ranks[1].ID, res.Ranks[2].ID}; !slices.Equal(ids, []string{"C", "A", "B"}) {
		t.Errorf("order = %v, want [C A B]", ids)
	}
	// Well-known normalized values, to 4 decimals.
	for id, want := range map[string]float64{"A": 0.3878, "B": 0.2148, "C": 0.3974} {
		if math.Abs(got[id]-want) > 5e-5 {
			t.Errorf("score(%s) = %.5f, want ≈%.4f", id, got[id], want)
		}
	}
}

func TestCycleIsUniform(t *testing.T) {
	res := checkAgainstReference(t, []Edge{{"a", "b", 3}, {"b", "c", 1}, {"c", "a", 7}}, Options{})
	for _, r := range res.Ranks {
		if math.Abs(r.Score-1.0/3) > 1e-12 {
			t.Errorf("score(%s) = %v, want 1/3", r.ID, r.Score)
		}
	}
	if ids := []string{res.Ranks[0].ID, res.Ranks[1].ID, res.Ranks[2].ID}; !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Errorf("tied ranks order = %v, want by ID", ids)
	}
}

func TestStarGraph(t *testing.T) {
	const leaves = 9
	var in, out []Edge
	for i := range leaves {
		leaf := fmt.Sprintf("leaf%d", i)
		in = append(in, Edge{leaf, "hub", 1})
		out = append(out, Edge{"hub", leaf, 1})
	}
	// Leaves → hub. The hub is dangling. With N = leaves+1:
	//   rL = (1-d)/N + d·rH/N,  rH = (1-d)/N + d·rH/N + d·leaves·rL.
	d := 0.85
	nf := float64(leaves + 1)
	rH := ((1-d)/nf + d*leaves*(1-d)/nf) / (1 - d/nf - d*d*leaves/nf)
	rL := (1-d)/nf + d*rH/nf
	res := checkAgainstReference(t, in, Options{})
	if res.Ranks[0].ID != "hub" || math.Abs(res.Ranks[0].Score-rH) > 1e-9 {
		t.Errorf("top = %v, want hub with %v", res.Ranks[0], rH)
	}
	for i, r := range res.Ranks[1:] {
		if want := fmt.Sprintf("leaf%d", i); r.ID != want || math.Abs(r.Score-rL) > 1e-9 {
			t.Errorf("rank %d = %v, want %s with %v", i+1, r, want, rL)
		}
	}

	// Hub → leaves: every leaf is dangling; the hub still ranks lowest
	// since it only receives teleport and dangling mass.
	res = checkAgainstReference(t, out, Options{})
	if last := res.Ranks[len(res.Ranks)-1]; last.ID != "hub" {
		t.Errorf("hub→leaves: last = %v, want hub", last)
	}
	// Bidirectional star.
	res = checkAgainstReference(t, append(in, out...), Options{})
	if res.Ranks[0].ID != "hub" {
		t.Errorf("bidirectional: top = %v, want hub", res.Ranks[0])
	}
}

func TestDanglingNodes(t *testing.T) {
	// A → B, B dangling: rA = (1-d)/2 + d·rB/2, rB = (1-d)/2 + d·rB/2 + d·rA.
	d := 0.85
	// Substituting: rB·(1 - d/2 - d²/2) = (1-d)/2·(1+d).
	rB := (1 - d) / 2 * (1 + d) / (1 - d/2 - d*d/2)
	rA := (1-d)/2 + d*rB/2
	got := scores(checkAgainstReference(t, []Edge{{"A", "B", 5}}, Options{}))
	if math.Abs(got["A"]-rA) > 1e-9 || math.Abs(got["B"]-rB) > 1e-9 {
		t.Errorf("got A=%v B=%v, want A=%v B=%v", got["A"], got["B"], rA, rB)
	}
	// Only dangling nodes (a self-loop is no link): uniform.
	res := checkAgainstReference(t, []Edge{{"x", "x", 4}, {"y", "y", 1}}, Options{})
	for _, r := range res.Ranks {
		if math.Abs(r.Score-0.5) > 1e-12 {
			t.Errorf("score(%s) = %v, want 0.5", r.ID, r.Score)
		}
	}
}

func TestWeightsAndDuplicates(t *testing.T) {
	// A sends 3 clicks to B and 1 to C, given as duplicates.
	split := []Edge{{"A", "B", 1}, {"A", "C", 1}, {"A", "B", 2}, {"B", "A", 1}, {"C", "A", 1}}
	summed := []Edge{{"A", "B", 3}, {"A", "C", 1}, {"B", "A", 1}, {"C", "A", 1}}
	a := checkAgainstReference(t, split, Options{})
	b := checkAgainstReference(t, summed, Options{})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("duplicates not summed:\n%v\n%v", a, b)
	}
	s := scores(a)
	if !(s["B"] > s["C"]) {
		t.Errorf("B (3 clicks) should outrank C (1 click): %v", s)
	}
	// Self-loops and non-positive or non-finite weights add no links.
	noisy := append(slices.Clone(summed),
		Edge{"A", "A", 10}, Edge{"B", "C", 0}, Edge{"C", "B", -2},
		Edge{"B", "C", math.NaN()}, Edge{"C", "B", math.Inf(1)})
	if c := Compute(noisy, Options{MaxIter: 1000}); !reflect.DeepEqual(c, b) {
		t.Errorf("ignored edges changed the result:\n%v\n%v", c, b)
	}
}

func randomGraph(r *rand.Rand, nodes, edges int) []Edge {
	out := make([]Edge, edges)
	for i := range out {
		out[i] = Edge{
			From:   fmt.Sprintf("n%03d", r.IntN(nodes)),
			To:     fmt.Sprintf("n%03d", r.IntN(nodes)),
			Weight: float64(1 + r.IntN(5)),
		}
	}
	return out
}

func TestRandomGraphsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 30 {
		nodes := 2 + r.IntN(40)
		edges := randomGraph(r, nodes, 1+r.IntN(3*nodes))
		opts := Options{}
		if i%3 == 1 {
			opts.Damping = 0.5
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkAgainstReference(t, edges, opts) })
	}
}

func TestDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	edges := randomGraph(r, 200, 2000)
	want := Compute(edges, Options{})
	for i := range 5 {
		shuffled := slices.Clone(edges)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := Compute(shuffled, Options{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d: result differs", i)
		}
	}
	// Pre-aggregating with Merge (in any grouping) gives the same result.
	parts := [][]Edge{edges[:500], edges[500:1200], edges[1200:]}
	merged := Merge(Merge(parts[2], parts[0]), Merge(parts[1]))
	if got := Compute(merged, Options{}); !reflect.DeepEqual(got, want) {
		t.Fatal("Compute(Merge(parts)) differs from Compute(edges)")
	}
}

func TestOptions(t *testing.T) {
	edges := randomGraph(rand.New(rand.NewPCG(4, 5)), 100, 400)
	def := Compute(edges, Options{})
	if !def.Converged || def.Iterations < 2 || def.Iterations > DefaultMaxIter {
		t.Fatalf("default: converged=%v iterations=%d", def.Converged, def.Iterations)
	}
	explicit := Compute(edges, Options{Damping: DefaultDamping, Tol: DefaultTol, MaxIter: DefaultMaxIter})
	if !reflect.DeepEqual(def, explicit) {
		t.Error("zero Options differ from explicit defaults")
	}
	for _, bad := range []float64{-0.5, 1, 1.5, math.NaN()} {
		if got := Compute(edges, Options{Damping: bad}); !reflect.DeepEqual(got, def) {
			t.Errorf("Damping %v: want default behaviour", bad)
		}
	}
	short := Compute(edges, Options{MaxIter: 3})
	if short.Converged || short.Iterations != 3 {
		t.Errorf("MaxIter 3: converged=%v iterations=%d", short.Converged, short.Iterations)
	}
	checkInvariants(t, short)
	loose := Compute(edges, Options{Tol: 1e-3})
	if !loose.Converged || loose.Iterations >= def.Iterations {
		t.Errorf("Tol 1e-3: converged=%v iterations=%d (default %d)", loose.Converged, loose.Iterations, def.Iterations)
	}
}

func TestEmpty(t *testing.T) {
	if got := Compute(nil, Options{}); got.Ranks != nil || !got.Converged || got.Iterations != 0 {
		t.Errorf("Compute(nil) = %+v", got)
	}
	if got := Merge(); got != nil {
		t.Errorf("Merge() = %v", got)
	}
	if got := Merge(nil, []Edge{}); got != nil {
		t.Errorf("Merge(nil, {}) = %v", got)
	}
}

func TestMerge(t *testing.T) {
	a := []Edge{{"b", "a", 1}, {"a", "b", 2}, {"a", "b", 1}}
	b := []Edge{{"a", "c", 4}, {"b", "a", 3}, {"a", "a", 1}}
	want := []Edge{{"a", "a", 1}, {"a", "b", 3}, {"a", "c", 4}, {"b", "a", 4}}
	aCopy := slices.Clone(a)
	if got := Merge(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(a, aCopy) {
		t.Error("Merge modified its input")
	}
	if got := Merge(b, a); !reflect.DeepEqual(got, want) {
		t.Errorf("Merge(b, a) = %v, want %v", got, want)
	}
}

func TestMergeAssociative(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 7))
	for i := range 50 {
		x := randomGraph(r, 10, r.IntN(40))
		y := randomGraph(r, 10, r.IntN(40))
		z := randomGraph(r, 10, r.IntN(40))
		left := Merge(Merge(x, y), z)
		right := Merge(x, Merge(y, z))
		flat := Merge(x, y, z)
		perm := Merge(z, x, y)
		if !reflect.DeepEqual(left, right) || !reflect.DeepEqual(left, flat) || !reflect.DeepEqual(left, perm) {
			t.Fatalf("case %d: Merge not associative/commutative:\n%v\n%v\n%v\n%v", i, left, right, flat, perm)
		}
		if !slices.IsSortedFunc(flat, func(a, b Edge) int { return compareEdges(a, b) }) {
			t.Fatalf("case %d: not sorted", i)
		}
		for k := 1; k < len(flat); k++ {
			if flat[k].From == flat[k-1].From && flat[k].To == flat[k-1].To {
				t.Fatalf("case %d: duplicate %v", i, flat[k])
			}
		}
		var sumIn, sumOut float64
		for _, e := range slices.Concat(x, y, z) {
			sumIn += e.Weight
		}
		for _, e := range flat {
			sumOut += e.Weight
		}
		if sumIn != sumOut {
			t.Fatalf("case %d: total weight %v, want %v", i, sumOut, sumIn)
		}
	}
}

func TestLargeInBucket(t *testing.T) {
	// 60 nodes all linking to a hub, with duplicates and fractional weights:
	// the hub's incoming links take the sorting path for large buckets.
	r := rand.New(rand.NewPCG(8, 9))
	var edges []Edge
	for i := range 60 {
		from := fmt.Sprintf("n%02d", i)
		for range 1 + r.IntN(3) {
			edges = append(edges, Edge{from, "hub", 0.5 + r.Float64()})
		}
		edges = append(edges, Edge{"hub", from, 1}, Edge{from, fmt.Sprintf("n%02d", (i+1)%60), 2})
	}
	want := checkAgainstReference(t, edges, Options{})
	for range 3 {
		r.Shuffle(len(edges), func(a, b int) { edges[a], edges[b] = edges[b], edges[a] })
		if got := Compute(edges, Options{MaxIter: 1000}); !reflect.DeepEqual(got, want) {
			t.Fatal("shuffled input changed the result")
		}
	}
	if want.Ranks[0].ID != "hub" {
		t.Errorf("top = %v, want hub", want.Ranks[0])
	}
}
