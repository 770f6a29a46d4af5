// Command search benchmarks Curio's full-text search engine (internal/search)
// against Bleve v2 (in-memory scorch index, BM25 scoring) and MariaDB's
// InnoDB FULLTEXT index, on the same generated demo catalog and the same
// query set, in one run.
//
// For each corpus size it reports build throughput, index memory, single-
// threaded p50/p99 query latency, queries/s with two concurrent callers,
// and ranking quality (MRR@10 and success@1) against judgments derived from
// the corpus itself (see makeQueries). Curio runs twice: with the query as
// typed (its last word also matches as a prefix, as in the API) and with
// whole words only.
//
//	go run ./bench/search -sizes 10000,100000
//	go run ./bench/search -sizes 1000000 -skip-mysql
//	go run ./bench/search -sizes 1000000 -engines mariadb -judge-budget 12m
//
// Every engine's phases are time-bounded (-budget, -judge-budget), so a slow
// engine is measured on a fair sample of the shuffled query set rather than
// stalling the run. The program creates and drops its own MariaDB database
// (curio_bench_search_<pid>) through the admin DSN given by -mysql.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	sizes := flag.String("sizes", "10000,100000", "comma-separated corpus sizes (documents)")
	nQueries := flag.Int("queries", 500, "queries in the query set")
	dsn := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MariaDB admin DSN (the program creates and drops its own database)")
	skipMySQL := flag.Bool("skip-mysql", false, "do not run MariaDB")
	engines := flag.String("engines", "curio,curio-words,bleve,mariadb", "engines to run, comma-separated")
	seed := flag.Int64("seed", 1, "seed for the corpus and the query set")
	passes := flag.Int("passes", 5, "measured passes over the query set (after one warm-up pass)")
	budget := flag.Duration("budget", 30*time.Second, "time limit per engine for the measured passes (at least one pass runs), and again for the QPS run")
	judgeBudget := flag.Duration("judge-budget", 10*time.Minute, "time limit per engine for the judged pass; queries after it are not judged")
	segSize := flag.Int("curio-segment", 50000, "documents per Curio segment")
	bleveBatch := flag.Int("bleve-batch", 5000, "documents per Bleve batch (each batch stays one in-memory segment)")
	mysqlBatch := flag.Int("mysql-batch", 500, "rows per MariaDB INSERT")
	misses := flag.Int("misses", 0, "print up to this many judged queries per engine whose first hit is not relevant (to stderr)")
	flag.Parse()

	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			fatalf("bad -sizes entry %q", s)
		}
		ns = append(ns, n)
	}
	cfg := config{
		queries: *nQueries, dsn: *dsn, seed: *seed, passes: max(*passes, 1),
		budget: *budget, judgeBudget: *judgeBudget, segSize: *segSize, bleveBatch: *bleveBatch, mysqlBatch: *mysqlBatch, misses: *misses,
		engines: map[string]bool{},
	}
	for _, e := range strings.Split(*engines, ",") {
		switch e = strings.TrimSpace(e); e {
		case "curio", "curio-words", "bleve", "mariadb":
			cfg.engines[e] = true
		default:
			fatalf("unknown engine %q in -engines", e)
		}
	}
	if *skipMySQL {
		delete(cfg.engines, "mariadb")
	}
	fmt.Printf("Search benchmark: GOMAXPROCS=%d, %d queries, seed %d, %s/%s\n\n",
		runtime.GOMAXPROCS(0), cfg.queries, cfg.seed, runtime.GOOS, runtime.GOARCH)
	for _, n := range ns {
		if err := runSize(context.Background(), n, cfg, os.Stdout); err != nil {
			fatalf("size %d: %v", n, err)
		}
	}
}

type config struct {
	queries     int
	dsn         string
	seed        int64
	passes      int
	budget      time.Duration
	judgeBudget time.Duration
	segSize     int
	bleveBatch  int
	mysqlBatch  int
	misses      int
	engines     map[string]bool
}

// result is one engine's row of the table.
type result struct {
	name      string
	build     buildInfo
	docs      int
	p50, p99  time.Duration
	samples   int
	subsample int // > 0: latency and QPS timed every subsample-th query only
	judgedCut int // > 0: the judged pass ran out of time after this many queries
	qps       float64
	mrr, s1   float64
	byKind    map[string][2]float64 // kind -> MRR, S@1
}

func runSize(ctx context.Context, n int, cfg config, out io.Writer) error {
	t0 := time.Now()
	docs, err := genCorpus(n, cfg.seed)
	if err != nil {
		return err
	}
	qs := makeQueries(docs, cfg.queries, cfg.seed)
	logf("size %d: corpus and %d queries in %.1fs", n, len(qs), time.Since(t0).Seconds())

	var results []result
	var failures []string
	run := func(name string, build func() (engine, buildInfo, error)) error {
		logf("size %d: building %s", n, name)
		e, bi, err := build()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		logf("size %d: %s built in %.1fs (%s)", n, name, bi.elapsed.Seconds(), bi.note)
		r, err := measure(name, e, qs, cfg, docs)
		if cerr := e.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.build, r.docs = bi, n
		results = append(results, r)
		logf("size %d: %s p50 %s p99 %s, %.0f q/s, MRR %.3f", n, name, fmtDur(r.p50), fmtDur(r.p99), r.qps, r.mrr)
		return nil
	}
	if cfg.engines["curio"] {
		if err := run("Curio", func() (engine, buildInfo, error) { return buildCurio(docs, cfg.segSize) }); err != nil {
			failures = append(failures, err.Error())
		}
	}
	if cfg.engines["curio-words"] {
		err := run("Curio, whole words", func() (engine, buildInfo, error) {
			e, bi, err := buildCurio(docs, cfg.segSize)
			return curioWholeWords{e}, bi, err
		})
		if err != nil {
			failures = append(failures, err.Error())
		}
	}
	if cfg.engines["bleve"] {
		if err := run("Bleve", func() (engine, buildInfo, error) { return buildBleve(docs, cfg.bleveBatch) }); err != nil {
			failures = append(failures, err.Error())
		}
	}
	if cfg.engines["mariadb"] {
		if err := run("MariaDB", func() (engine, buildInfo, error) { return buildMaria(ctx, cfg.dsn, docs, cfg.mysqlBatch) }); err != nil {
			failures = append(failures, err.Error())
		}
	}
	report(out, n, qs, results)
	for _, f := range failures {
		fmt.Fprintf(out, "- FAILED: %s\n", f)
		logf("size %d: FAILED: %s", n, f)
	}
	logf("size %d: done in %.1fs", n, time.Since(t0).Seconds())
	return nil
}

// measure runs the query set against e: one warm-up pass whose top-10 lists
// are judged, up to cfg.passes timed single-threaded passes, then the same
// number of passes split between two goroutines for throughput.
func measure(name string, e engine, qs []query, cfg config, docs []doc) (result, error) {
	r := result{name: name, byKind: make(map[string][2]float64)}
	tops := make([][]string, len(qs))
	judgedLat := make([]time.Duration, 0, len(qs))
	start := time.Now()
	for i, q := range qs {
		if i > 0 && time.Since(start) > cfg.judgeBudget {
			qs, tops = qs[:i], tops[:i]
			r.judgedCut = i
			break
		}
		t := time.Now()
		ids, err := e.Search(q.Text)
		if err != nil {
			return r, fmt.Errorf("query %q: %w", q.Text, err)
		}
		judgedLat = append(judgedLat, time.Since(t))
		tops[i] = ids
	}
	warm := time.Since(start)
	r.mrr, r.s1 = quality(qs, tops, "")
	if cfg.misses > 0 {
		printMisses(name, qs, tops, docs, cfg.misses)
	}
	for _, k := range judgedKinds {
		m, s := quality(qs, tops, k)
		r.byKind[k] = [2]float64{m, s}
	}

	// When one pass takes longer than the budget, the judged pass is the
	// latency sample (no warm-up), and throughput is measured on every
	// stride-th query (the set is shuffled, so a stride keeps the mix).
	timed := qs
	var lat []time.Duration
	if warm > cfg.budget {
		stride := int((warm + cfg.budget - 1) / cfg.budget)
		timed = nil
		for i := 0; i < len(qs); i += stride {
			timed = append(timed, qs[i])
		}
		r.subsample = stride
		lat = judgedLat
	} else {
		// Latency, one caller.
		lat = make([]time.Duration, 0, cfg.passes*len(timed))
		start = time.Now()
		for p := 0; p < cfg.passes && (p == 0 || time.Since(start) < cfg.budget); p++ {
			for _, q := range timed {
				t := time.Now()
				if _, err := e.Search(q.Text); err != nil {
					return r, err
				}
				lat = append(lat, time.Since(t))
			}
		}
	}
	logf("%s: judged pass %.1fs; QPS over %d of %d queries per pass", name, warm.Seconds(), len(timed), len(qs))
	slices.Sort(lat)
	r.samples = len(lat)
	r.p50, r.p99 = percentile(lat, 50), percentile(lat, 99)

	// Throughput, two callers sharing one stream of queries; stops at the
	// end of a pass once the budget is spent.
	var next, done atomic.Int64
	nt := int64(len(timed))
	total := int64(cfg.passes) * nt
	deadline := time.Now().Add(cfg.budget)
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start = time.Now()
	for range 2 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= total || (i%nt == 0 && i > 0 && time.Now().After(deadline)) {
					return
				}
				if _, err := e.Search(timed[i%nt].Text); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return r, firstErr
	}
	r.qps = float64(done.Load()) / time.Since(start).Seconds()
	return r, nil
}

// quality returns MRR@10 and success@1 over the judged queries of kind
// ("" = all judged kinds).
func quality(qs []query, tops [][]string, kind string) (mrr, s1 float64) {
	n := 0
	for i, q := range qs {
		if q.Relevant == nil || (kind != "" && q.Kind != kind) {
			continue
		}
		n++
		for rank, id := range tops[i][:min(topK, len(tops[i]))] {
			if q.Relevant[id] {
				mrr += 1 / float64(rank+1)
				if rank == 0 {
					s1++
				}
				break
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return mrr / float64(n), s1 / float64(n)
}

// printMisses writes up to limit judged queries whose top hit is not
// relevant, with the titles of the top three hits.
func printMisses(name string, qs []query, tops [][]string, docs []doc, limit int) {
	byID := make(map[string]*doc, len(docs))
	for i := range docs {
		byID[docs[i].ID] = &docs[i]
	}
	for i, q := range qs {
		if limit == 0 {
			return
		}
		if q.Relevant == nil || (len(tops[i]) > 0 && q.Relevant[tops[i][0]]) {
			continue
		}
		limit--
		fmt.Fprintf(os.Stderr, "%s miss [%s] %q (%d relevant, source %s %q):\n", name, q.Kind, q.Text, len(q.Relevant), docs[q.Source].ID, docs[q.Source].Title)
		for rank, id := range tops[i][:min(3, len(tops[i]))] {
			d := byID[id]
			fmt.Fprintf(os.Stderr, "    %d. %s %q %q relevant=%v\n", rank+1, id, d.Title, d.People, q.Relevant[id])
		}
	}
}

// percentile returns the p-th percentile (nearest rank) of sorted xs.
func percentile(xs []time.Duration, p int) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	k := (len(xs)*p + 99) / 100
	return xs[max(k-1, 0)]
}

func report(w io.Writer, n int, qs []query, rs []result) {
	counts := map[string]int{}
	rel := map[string]int{}
	for _, q := range qs {
		counts[q.Kind]++
		rel[q.Kind] += len(q.Relevant)
	}
	fmt.Fprintf(w, "### %s documents\n\n", group(n))
	fmt.Fprintf(w, "%d queries: %d exact title, %d title + person, %d partial title (judged), %d single word (latency only).\n\n",
		len(qs), counts[kindExact], counts[kindTitlePerson], counts[kindPartial], counts[kindWord])
	fmt.Fprintln(w, "| engine | build docs/s | memory | p50 | p99 | QPS (2 callers) | MRR@10 | S@1 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.3f | %.3f |\n", r.name,
			group(int(float64(r.docs)/r.build.elapsed.Seconds())), mib(r.build.memory),
			fmtDur(r.p50), fmtDur(r.p99), fmtQPS(r.qps), r.mrr, r.s1)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "| query kind | queries | avg relevant docs |")
	for _, r := range rs {
		fmt.Fprintf(w, " %s MRR / S@1 |", r.name)
	}
	fmt.Fprint(w, "\n|---|---|---|")
	for range rs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, k := range judgedKinds {
		fmt.Fprintf(w, "| %s | %d | %.1f |", k, counts[k], float64(rel[k])/float64(max(counts[k], 1)))
		for _, r := range rs {
			fmt.Fprintf(w, " %.3f / %.3f |", r.byKind[k][0], r.byKind[k][1])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		sub := ""
		if r.judgedCut > 0 {
			sub += fmt.Sprintf("; judged pass stopped at the time limit: quality and latency from the first %d of %d queries (the set is shuffled, so any prefix mixes all kinds)", r.judgedCut, len(qs))
		}
		if r.subsample > 0 {
			sub += fmt.Sprintf("; one pass exceeded -budget, so latency is from the judged pass itself (no warm-up) and QPS from one query in %d", r.subsample)
		}
		fmt.Fprintf(w, "- %s: build %.1fs; %s; latency from %d timed queries%s.\n", r.name, r.build.elapsed.Seconds(), r.build.note, r.samples, sub)
	}
	for _, c := range rs {
		if !strings.HasPrefix(c.name, "Curio") {
			continue
		}
		for _, o := range rs {
			if strings.HasPrefix(o.name, "Curio") {
				continue
			}
			fmt.Fprintf(w, "- %s vs %s: p50 %s, p99 %s, QPS %.1f×, build %.1f× faster, memory %.2f×, MRR %.3f vs %.3f (%.2f×).\n",
				c.name, o.name, speed(c.p50, o.p50), speed(c.p99, o.p99), c.qps/o.qps,
				o.build.elapsed.Seconds()/c.build.elapsed.Seconds(),
				float64(c.build.memory)/float64(o.build.memory), c.mrr, o.mrr, c.mrr/o.mrr)
		}
	}
	fmt.Fprintln(w)
}

// speed describes Curio's latency c relative to another engine's o.
func speed(c, o time.Duration) string {
	if c <= 0 || o <= 0 {
		return "n/a"
	}
	if c <= o {
		return fmt.Sprintf("%.1f× lower", float64(o)/float64(c))
	}
	return fmt.Sprintf("%.1f× higher", float64(c)/float64(o))
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtQPS(q float64) string {
	if q < 100 {
		return fmt.Sprintf("%.1f", q)
	}
	return group(int(q))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// group formats n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[0] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "search bench: "+format+"\n", args...)
	os.Exit(1)
}
