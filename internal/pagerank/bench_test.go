package pagerank

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// clickGraph returns a synthetic click graph: sources uniform, targets
// Zipf-distributed (a few popular items), weights 1..10 clicks.
func clickGraph(nodes, edges int) []Edge {
	r := rand.New(rand.NewPCG(42, 43))
	zipf := rand.NewZipf(r, 1.2, 10, uint64(nodes-1))
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("item-%06d", i)
	}
	out := make([]Edge, edges)
	for i := range out {
		out[i] = Edge{
			From:   ids[r.IntN(nodes)],
			To:     ids[zipf.Uint64()],
			Weight: float64(1 + r.IntN(10)),
		}
	}
	return out
}

func BenchmarkCompute(b *testing.B) {
	const nodes, edges = 100_000, 1_000_000
	g := clickGraph(nodes, edges)
	var res Result
	for b.Loop() {
		res = Compute(g, Options{})
	}
	b.ReportMetric(float64(edges*b.N)/b.Elapsed().Seconds(), "edges/s")
	b.ReportMetric(float64(res.Iterations), "iterations")
}

func BenchmarkMerge(b *testing.B) {
	const nodes, edges = 100_000, 1_000_000
	g := clickGraph(nodes, edges)
	parts := [][]Edge{g[:250_000], g[250_000:500_000], g[500_000:750_000], g[750_000:]}
	for b.Loop() {
		_ = Merge(parts...)
	}
	b.ReportMetric(float64(edges*b.N)/b.Elapsed().Seconds(), "edges/s")
}
