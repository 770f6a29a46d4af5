package catalogjob_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/teststores"
)

// BenchmarkBuildIndex measures the index build path of the catalog pipeline (every
// BuildIndexShard of one version, one after another, on real PostgreSQL and MariaDB) per
// document: bytes and allocations per document, peak live heap and peak RSS during the
// build. The corpus is the generated demo catalog (half movies, half artworks), sized by
// CURIO_BENCH_INDEX_DOCS (default 20000) and split into catalogjob.ShardCount shards, as
// PlanIndex does. Loading the corpus is not measured; run it once per corpus:
//
//	CURIO_BENCH_INDEX_DOCS=100000 go test ./activities/catalogjob -run '^$' \
//	    -bench BuildIndex -benchtime 1x -benchmem -memprofile /tmp/index.mem
//
// It is skipped when the databases are unreachable (see internal/testdb).
func BenchmarkBuildIndex(b *testing.B) {
	n := 20000
	if v := os.Getenv("CURIO_BENCH_INDEX_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2 {
			b.Fatalf("CURIO_BENCH_INDEX_DOCS=%q: want a number >= 2", v)
		}
	}
	ctx := context.Background()
	pg, my, _ := teststores.Open(b)
	loadStart := time.Now()
	if err := demo.Batches(demo.Options{Movies: n / 2, Artworks: n / 2, Seed: 9}, 2000, func(recs []domain.Record) error {
		_, err := pg.WriteRecords(ctx, "bench", recs)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	c, err := pg.Counts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	docs := c.Movies + c.Artworks
	shards := catalogjob.ShardCount(docs)
	b.Logf("loaded %d docs in %v; %d shards", docs, time.Since(loadStart).Round(time.Millisecond), shards)

	a := &catalogjob.Activities{Store: pg, Serving: my, Identity: "bench"}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	if _, err := env.ExecuteActivity(a.PlanIndex, catalogjob.PlanIndexInput{Version: "bench", Shards: shards}); err != nil {
		b.Fatal(err)
	}

	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	peak := watchHeap()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		for sh := range shards {
			if _, err := env.ExecuteActivity(a.BuildIndexShard, catalogjob.ShardInput{Version: "bench", Shard: sh, Shards: shards}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	heap := peak()
	total := float64(docs) * float64(b.N)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "B/doc")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/doc")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/total, "µs/doc")
}

// watchHeap samples the live heap (objects, including garbage not yet swept) every few
// milliseconds until the returned function is called, which returns the peak seen.
func watchHeap() func() uint64 {
	const name = "/memory/classes/heap/objects:bytes"
	sample := []metrics.Sample{{Name: name}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}

// resetPeakRSS resets the process's VmHWM (Linux); elsewhere it does nothing.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, or 0 where it is unavailable.
func peakRSS() uint64 {
	f, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(f))
	for sc.Scan() {
		var kb uint64
		if _, err := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 0
}
