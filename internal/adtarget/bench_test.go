package adtarget

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkTargets(b *testing.B) {
	const n = 1_000_000
	ss, ps, pop := randomHistory(rand.New(rand.NewPCG(3, 4)), 50_000, n)
	opts := Options{Now: now}
	for b.Loop() {
		_ = Targets(ss, ps, pop, opts)
	}
	b.ReportMetric(float64((len(ss)+len(ps))*b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkShardOf(b *testing.B) {
	for b.Loop() {
		_ = ShardOf("user-0123456789", 64)
	}
}
