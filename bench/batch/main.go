// Command batch measures the distributed batch fan-out: BuildSimilarity's wall time with
// 1, 2 and 3 `curio worker` processes on the same input, and the orchestration overhead
// per shard (NoopBatch) next to the work per shard. With -job topics it measures
// BuildTopics instead: fit time per 10k documents with 1 and 3 workers next to the same
// sampler run in-process, and the model's held-out perplexity and coherence next to an
// unfitted (random) model's.
//
//	go run ./bench/batch -items 6000 -shards 12
//	go run ./bench/batch -job topics -items 10000 -shards 3 -iterations 50
//
// It creates and drops its own databases on the local PostgreSQL and MariaDB (override
// with -pg / -mysql admin DSNs), builds the curio binary, and runs an embedded Temporal
// server.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/workflows"
)

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	items := flag.Int("items", 6000, "catalog items (half movies, half artworks)")
	shards := flag.Int("shards", 12, "BuildSimilarity shards")
	noop := flag.Int("noop-shards", 200, "NoopBatch shards")
	slots := flag.Int("slots", 1, "CURIO_WORKER_ACTIVITIES per worker process")
	job := flag.String("job", "similarity", "similarity or topics")
	iterations := flag.Int("iterations", 50, "BuildTopics rounds (-job topics)")
	sweeps := flag.Int("sweeps", 1, "BuildTopics Gibbs sweeps per shard per round (-job topics)")
	k := flag.Int("k", 20, "BuildTopics topics (-job topics)")
	pgAdmin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin DSN")
	myAdmin := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MySQL admin DSN")
	flag.Parse()
	ctx := context.Background()
	name := fmt.Sprintf("curio_bench_batch_%d", time.Now().UnixNano())

	ac, err := pgx.Connect(ctx, *pgAdmin)
	check(err)
	_, err = ac.Exec(ctx, "CREATE DATABASE "+name)
	check(err)
	defer func() { _, _ = ac.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); ac.Close(ctx) }()
	u, _ := url.Parse(*pgAdmin)
	u.Path = "/" + name
	pgDSN := u.String()
	mcfg, err := gomysql.ParseDSN(*myAdmin)
	check(err)
	mdb, err := sql.Open("mysql", mcfg.FormatDSN())
	check(err)
	_, err = mdb.Exec("CREATE DATABASE " + name)
	check(err)
	defer func() { _, _ = mdb.Exec("DROP DATABASE " + name); mdb.Close() }()
	mcfg.DBName = name
	myDSN := mcfg.FormatDSN()

	pg, err := postgres.Open(ctx, pgDSN)
	check(err)
	defer pg.Close()
	my, err := mysql.Open(ctx, myDSN)
	check(err)
	defer my.Close()
	_, err = pg.Migrate(ctx)
	check(err)
	_, err = my.Migrate(ctx)
	check(err)
	check(demo.Batches(demo.Options{Movies: *items / 2, Artworks: *items / 2, Seed: 9}, 2000, func(b []domain.Record) error {
		_, err := pg.WriteRecords(ctx, "bench", b)
		return err
	}))

	dir, err := os.MkdirTemp("", "curio-bench-")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "curio")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/curio").CombinedOutput()
	if err != nil {
		log.Fatalf("build: %v\n%s", err, out)
	}
	ts, err := temporaldev.Start(temporaldev.Options{LogLevel: "fatal"}) // its shutdown chatter is not the benchmark
	check(err)
	defer ts.Stop()
	c, err := ts.Dial(ctx, "default")
	check(err)
	defer c.Close()

	runWith := func(workers int, wf string, in, res any) time.Duration {
		queue := fmt.Sprintf("bench-%s-%d-%d", wf, workers, time.Now().UnixNano())
		var procs []*exec.Cmd
		for i := range workers {
			cmd := exec.Command(bin, "worker", "--identity", fmt.Sprintf("w%d", i+1))
			cmd.Env = append(os.Environ(), "CURIO_TEMPORAL_HOSTPORT="+ts.HostPort(), "CURIO_TASK_QUEUE="+queue,
				"CURIO_POSTGRES_DSN="+pgDSN, "CURIO_MYSQL_DSN="+myDSN, fmt.Sprintf("CURIO_WORKER_ACTIVITIES=%d", *slots),
				"CURIO_LOG_LEVEL=error", "CURIO_DATA_DIR="+dir)
			check(cmd.Start())
			procs = append(procs, cmd)
		}
		defer func() {
			for _, p := range procs {
				_ = p.Process.Signal(syscall.SIGTERM)
				_ = p.Wait()
			}
		}()
		time.Sleep(2 * time.Second) // let workers poll
		start := time.Now()
		r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, wf, in)
		check(err)
		check(r.Get(ctx, res))
		return time.Since(start)
	}
	if *job == "topics" {
		benchTopics(*items, *shards, *iterations, *sweeps, *k, func(workers int, in workflows.BuildTopicsInput) (time.Duration, workflows.BuildTopicsResult) {
			var res workflows.BuildTopicsResult
			d := runWith(workers, workflows.BuildTopicsName, in, &res)
			return d, res
		})
		return
	}

	in := workflows.BuildSimilarityInput{BatchOptions: workflows.BatchOptions{Shards: *shards, MaxParallel: *shards}}
	fmt.Printf("BuildSimilarity over %d items, %d shards, %d slot(s) per worker process:\n\n", *items, *shards, *slots)
	fmt.Printf("| workers | wall time | shards/s | speed-up vs 1 |\n|---|---|---|---|\n")
	var base time.Duration
	for _, w := range []int{1, 2, 3} {
		d := runWith(w, workflows.BuildSimilarityName, in, &workflows.BatchResult{})
		if w == 1 {
			base = d
		}
		fmt.Printf("| %d | %v | %.2f | %.2f |\n", w, d.Round(time.Millisecond), float64(*shards)/d.Seconds(), base.Seconds()/d.Seconds())
	}
	work := base / time.Duration(*shards) // one worker, one slot: shards run one after another
	nd := runWith(1, workflows.NoopBatchName, workflows.BatchOptions{Shards: *noop, MaxParallel: 1}, &workflows.BatchResult{})
	overhead := nd / time.Duration(*noop)
	fmt.Printf("\norchestration overhead per shard (NoopBatch, %d shards run one at a time): %v\n", *noop, overhead.Round(time.Microsecond))
	fmt.Printf("work per similarity shard (1 worker, 1 slot): %v\noverhead / work = %.3f\n", work.Round(time.Millisecond), overhead.Seconds()/work.Seconds())
}
