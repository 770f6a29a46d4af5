// Command topics compares Curio's LDA sampler with gensim's LdaMulticore on the same
// demo-catalog corpus, in one run: the corpus is built as PrepareTopics builds it (search
// tokenizer, function words and words in over 25% of the documents dropped), 10% of the
// documents are held out (by id hash, as PrepareTopics does), and both fits get the same
// K, the same priors and as many passes as Curio has sweeps. Both models are scored with
// the same estimator, Curio's held-out perplexity by document completion
// (topics.Perplexity / topics.PerplexityOf over gensim's get_topics()). gensim_lda.py
// shuffles the training documents before gensim's online fit (the export is in catalog
// order, artworks then movies, which online VB cannot take: see gensim_lda.py).
//
//	go run ./bench/topics -items 100000 -sweeps 50
//	go run ./bench/topics -items 1000000 -sweeps 5
//	go run ./bench/topics -items 1000000 -no-curio -activities -activity-sweeps 50
//
// -activities also runs BuildTopics' activities for the single-activity plan
// (PrepareTopics, TopicsFit, FinishTopics, PublishTopics) on the same catalog written to
// throwaway databases on the local PostgreSQL and MariaDB, and reports each one's time
// and the process's peak memory.
package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"log/slog"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/topicmodel"
	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/topics"
)

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// peakRSS is the process's peak resident memory so far (VmHWM), in MiB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// heldout is PrepareTopics' hold-out rule (fnv-64a of the id, 10%).
func heldout(id string) bool {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()%10_000 < 1_000
}

func main() {
	items := flag.Int("items", 100_000, "catalog items (half movies, half artworks)")
	sweeps := flag.Int("sweeps", 50, "Gibbs sweeps for Curio, passes for gensim")
	k := flag.Int("k", 20, "topics")
	workers := flag.Int("workers", 1, "gensim LdaMulticore workers")
	python := flag.String("python", "/usr/bin/python3", "python with gensim")
	skipGensim := flag.Bool("no-gensim", false, "skip gensim")
	skipCurio := flag.Bool("no-curio", false, "skip the in-process topics.Fit (and gensim)")
	actSweeps := flag.Int("activity-sweeps", 0, "TopicsFit sweeps with -activities (default -sweeps)")
	acts := flag.Bool("activities", false, "also run BuildTopics' single-plan activities on real databases")
	pgAdmin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin DSN")
	myAdmin := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MySQL admin DSN")
	flag.Parse()
	if *actSweeps <= 0 {
		*actSweeps = *sweeps
	}
	if *skipCurio { // the activities alone, so that peak memory is theirs
		if *acts {
			runActivities(*items, *k, *actSweeps, *pgAdmin, *myAdmin)
		}
		return
	}

	start := time.Now()
	var ids, texts []string
	check(demo.Records(demo.Options{Movies: *items / 2, Artworks: *items / 2, Seed: 9}, func(r domain.Record) error {
		switch {
		case r.Movie != nil:
			ids, texts = append(ids, r.Movie.ID), append(texts, r.Movie.Title+". "+r.Movie.Plot)
		case r.Artwork != nil:
			ids, texts = append(ids, r.Artwork.ID), append(texts, r.Artwork.Title+". "+r.Artwork.Description)
		}
		return nil
	}))
	corpus := topics.BuildCorpus(ids, texts, topics.VocabOptions{MaxDocFrac: 0.25}) // as PrepareTopics
	var train, held [][]int32
	var tokens int64
	for i, d := range corpus.Docs {
		if len(d) == 0 {
			continue
		}
		if heldout(ids[i]) {
			held = append(held, d)
		} else {
			train = append(train, d)
			tokens += int64(len(d))
		}
	}
	V := len(corpus.Vocab)
	ids, texts = nil, nil
	corpus.Docs, corpus.IDs = nil, nil
	p := topics.Params{K: *k}.WithDefaults()
	mode, shards, roundSec, reason := topicmodel.PlanTopics(tokens, *k, 1, 3, true)
	fmt.Printf("demo catalog of %d items: %d training documents (%d tokens, %.1f per document), %d held out, vocabulary %d; corpus built in %v, peak RSS %.0f MiB\n",
		*items, len(train), tokens, float64(tokens)/float64(len(train)), len(held), V, time.Since(start).Round(time.Millisecond), peakRSS())
	fmt.Printf("plan by size: %s, %d shard(s), est. %.2f s per round: %s\n", mode, shards, roundSec, reason)
	fmt.Printf("K=%d, alpha=%.3g, beta=%.3g, %d sweeps (Curio) = %d passes (gensim); GOMAXPROCS %d\n\n", *k, p.Alpha, p.Beta, *sweeps, *sweeps, runtime.GOMAXPROCS(0))

	// Curio, in process, one shard (what the single plan's TopicsFit runs).
	start = time.Now()
	global, _ := topics.Fit(train, V, p, *sweeps, 1, 7)
	curioFit := time.Since(start)
	curioRSS := peakRSS()
	start = time.Now()
	curioPPL := topics.Perplexity(held, global, p, 30, 7)
	scoreTime := time.Since(start)
	global = nil
	fmt.Printf("curio topics.Fit: %v (%.1f ms per sweep, %.0f ns per token), peak RSS %.0f MiB; held-out perplexity %.1f (scored in %v)\n",
		curioFit.Round(time.Millisecond), curioFit.Seconds()*1000/float64(*sweeps), curioFit.Seconds()*1e9/float64(*sweeps)/float64(tokens),
		curioRSS, curioPPL, scoreTime.Round(time.Millisecond))

	if !*skipGensim {
		dir, err := os.MkdirTemp("", "curio-bench-topics-")
		check(err)
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "corpus.txt")
		f, err := os.Create(path)
		check(err)
		w := newLineWriter(f)
		fmt.Fprintf(w, "%d %d %d\n", V, len(train), len(held))
		for _, docs := range [][][]int32{train, held} {
			for _, d := range docs {
				for i, id := range d {
					if i > 0 {
						_ = w.WriteByte(' ')
					}
					w.WriteString(strconv.Itoa(int(id)))
				}
				_ = w.WriteByte('\n')
			}
		}
		check(w.Flush())
		check(f.Close())
		cmd := exec.Command(*python, "bench/topics/gensim_lda.py", path, filepath.Join(dir, "gensim"), strconv.Itoa(*k),
			strconv.Itoa(*sweeps), strconv.Itoa(*workers), fmt.Sprint(p.Alpha), fmt.Sprint(p.Beta))
		cmd.Stderr = os.Stderr
		start = time.Now()
		out, err := cmd.Output()
		check(err)
		wall := time.Since(start)
		var g struct {
			LoadS, FitS, Alpha, Bound, BoundPPL, PeakRSS, PeakWorker float64
			K, V                                                     int
		}
		var raw map[string]float64
		check(json.Unmarshal(out, &raw))
		if int64(raw["train_tokens"]) != tokens {
			log.Fatalf("gensim read %v training tokens, Curio has %d", raw["train_tokens"], tokens)
		}
		g.LoadS, g.FitS, g.Alpha, g.Bound, g.BoundPPL = raw["load_s"], raw["fit_s"], raw["alpha"], raw["log_perplexity_bound"], raw["bound_perplexity"]
		g.PeakRSS, g.PeakWorker, g.K, g.V = raw["peak_rss_mib"], raw["peak_rss_worker_mib"], int(raw["k"]), int(raw["v"])
		phi := readPhi(filepath.Join(dir, "gensim.phi"), g.K*g.V)
		gensimPPL := topics.PerplexityOf(held, phi, g.K, g.V, g.Alpha, 30, 7)
		fmt.Printf("gensim LdaMulticore (workers=%d): fit %.1f s (corpus load %.1f s, process %v), peak RSS %.0f MiB (+ worker %.0f MiB); held-out perplexity %.1f (same estimator), gensim bound perplexity %.1f\n\n",
			*workers, g.FitS, g.LoadS, wall.Round(time.Millisecond), g.PeakRSS, g.PeakWorker, gensimPPL, g.BoundPPL)
		fmt.Printf("| fit | docs | passes | wall time | peak RSS | held-out perplexity |\n|---|---|---|---|---|---|\n")
		fmt.Printf("| Curio `topics.Fit` (1 core) | %d | %d | %.1f s | %.0f MiB | %.1f |\n", len(train), *sweeps, curioFit.Seconds(), curioRSS, curioPPL)
		fmt.Printf("| gensim `LdaMulticore`, workers=%d | %d | %d | %.1f s | %.0f + %.0f MiB | %.1f |\n", *workers, len(train), *sweeps, g.FitS, g.PeakRSS, g.PeakWorker, gensimPPL)
		fmt.Printf("| ratio gensim / Curio | | | %.2f× | | %.3f |\n", g.FitS/curioFit.Seconds(), gensimPPL/curioPPL)
		fmt.Printf("| uniform over the vocabulary | | | | | %d |\n\n", V)
	}
	train, held = nil, nil
	runtime.GC()
	if *acts {
		runActivities(*items, *k, *actSweeps, *pgAdmin, *myAdmin)
	}
}

type lineWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w, buf: make([]byte, 0, 1<<20)} }
func (l *lineWriter) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	if len(l.buf) >= 1<<20 {
		l.flushBuf()
	}
	return len(b), nil
}
func (l *lineWriter) WriteByte(b byte) error { _, err := l.Write([]byte{b}); return err }
func (l *lineWriter) WriteString(s string)   { _, _ = l.Write([]byte(s)) }
func (l *lineWriter) flushBuf() {
	if l.err == nil {
		_, l.err = l.w.Write(l.buf)
	}
	l.buf = l.buf[:0]
}
func (l *lineWriter) Flush() error { l.flushBuf(); return l.err }

func readPhi(path string, n int) []float64 {
	b, err := os.ReadFile(path)
	check(err)
	if len(b) != 8*n {
		log.Fatalf("%s: %d bytes, want %d", path, len(b), 8*n)
	}
	phi := make([]float64, n)
	for i := range phi {
		phi[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return phi
}

// runActivities runs the single-plan activities of BuildTopics on the demo catalog in
// throwaway databases, each timed, as a worker runs them (outside Temporal: heartbeats are
// off, the work is the same).
func runActivities(items, k, sweeps int, pgAdmin, myAdmin string) {
	ctx := context.Background()
	name := fmt.Sprintf("curio_bench_topics_%d", time.Now().UnixNano())
	ac, err := pgx.Connect(ctx, pgAdmin)
	check(err)
	_, err = ac.Exec(ctx, "CREATE DATABASE "+name)
	check(err)
	defer func() { _, _ = ac.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); ac.Close(ctx) }()
	u, _ := url.Parse(pgAdmin)
	u.Path = "/" + name
	mcfg, err := gomysql.ParseDSN(myAdmin)
	check(err)
	mdb, err := sql.Open("mysql", mcfg.FormatDSN())
	check(err)
	_, err = mdb.Exec("CREATE DATABASE " + name)
	check(err)
	defer func() { _, _ = mdb.Exec("DROP DATABASE " + name); mdb.Close() }()
	mcfg.DBName = name
	pg, err := postgres.Open(ctx, u.String())
	check(err)
	defer pg.Close()
	my, err := mysql.Open(ctx, mcfg.FormatDSN())
	check(err)
	defer my.Close()
	_, err = pg.Migrate(ctx)
	check(err)
	_, err = my.Migrate(ctx)
	check(err)
	start := time.Now()
	check(demo.Batches(demo.Options{Movies: items / 2, Artworks: items / 2, Seed: 9}, 2000, func(b []domain.Record) error {
		_, err := pg.WriteRecords(ctx, "bench", b)
		return err
	}))
	fmt.Printf("catalog of %d items written to PostgreSQL in %v\n\n", items, time.Since(start).Round(time.Millisecond))
	a := &topicmodel.Activities{Store: pg.Topics(), Catalog: pg, Publisher: my, Identity: "bench",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p := topicmodel.TopicsParams{RunID: "bench", K: k, Shards: 3, PlanBySize: true, Heldout: 0.1, Seed: 1, Sweeps: 1, TopWords: 15, MaxItemTopics: 5}
	fmt.Printf("| activity | time | peak RSS so far |\n|---|---|---|\n")
	step := func(what string, fn func() error) {
		start := time.Now()
		check(fn())
		fmt.Printf("| %s | %.1f s | %.0f MiB |\n", what, time.Since(start).Seconds(), peakRSS())
	}
	var plan topicmodel.TopicsPlan
	step("PrepareTopics", func() (err error) { plan, err = a.PrepareTopics(ctx, p); return err })
	p.Shards, p.Iteration = plan.Shards, sweeps
	if plan.Mode == topicmodel.PlanSingle {
		step(fmt.Sprintf("TopicsFit (%d sweeps)", sweeps), func() error { _, err := a.TopicsFit(ctx, p); return err })
	} else {
		fmt.Printf("plan %s with %d shards: sweeps not run here\n", plan.Mode, plan.Shards)
		return
	}
	var q topicmodel.TopicsQuality
	step("FinishTopics", func() (err error) { q, err = a.FinishTopics(ctx, p); return err })
	step("PublishTopics", func() error {
		_, err := a.PublishTopics(ctx, activities.ModelPublishInput{Version: "bench"})
		return err
	})
	fmt.Printf("\nplan: %s, %d shard(s), est. %.2f s per round (%s)\nquality: held-out perplexity %.1f (uniform %.0f), UMass %.2f, NPMI %.3f, %d items\n",
		plan.Mode, plan.Shards, plan.RoundSeconds, plan.Reason, q.Perplexity, q.UniformPPL, q.CoherenceUMass, q.CoherenceNPMI, q.Items)
}
