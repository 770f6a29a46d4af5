// Command scale runs the whole batch chain — CatalogPipeline (import, index, publish),
// then BuildSimilarity {} and BuildTopics {} — on generated demo catalogs of growing size,
// with the embedded Temporal server and three real `curio worker` processes plus a
// `curio api` process, all with default settings, and reports per stage: wall time,
// items/s, failed activity attempts, peak RSS of every process, warehouse and MySQL bytes,
// the publish activity's time and how long until the API serves the new version.
//
//	go run ./bench/scale -items 10000,100000,1000000
//	go run ./bench/scale -items 100000 -stages similarity   # the catalog is set up, not measured
//
// Each size gets fresh databases on the local PostgreSQL and MariaDB (override with -pg /
// -mysql admin DSNs; -keep keeps them), a fresh Temporal server (SQLite file, as `curio
// dev` keeps it) and fresh processes. A failed stage makes the command exit non-zero after
// the tables are printed; failed activity attempts are a measured figure, not a failure.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/workflows"
)

// The stages, in the order they run.
const (
	stageCatalog    = "catalog"
	stageSimilarity = "similarity"
	stageTopics     = "topics"
)

var allStages = []string{stageCatalog, stageSimilarity, stageTopics}

type options struct {
	sizes        []int
	stages       map[string]bool
	workers      int
	keep         bool
	pgAdmin      string
	myAdmin      string
	progress     time.Duration
	stageTimeout time.Duration
	jsonOut      string
}

func main() {
	log.SetFlags(log.Ltime)
	items := flag.String("items", "10000,100000,1000000", "catalog sizes, comma separated (half movies, half artworks)")
	stages := flag.String("stages", strings.Join(allStages, ","), "stages to measure, comma separated: catalog, similarity, topics (a catalog the later stages need is set up unmeasured)")
	workers := flag.Int("workers", 3, "curio worker processes")
	keep := flag.Bool("keep", false, "keep each size's databases, logs and Temporal file for inspection")
	pgAdmin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin DSN")
	myAdmin := flag.String("mysql", "root@tcp(127.0.0.1:3306)/", "MySQL admin DSN")
	progress := flag.Duration("progress", 30*time.Second, "interval of the progress line while a workflow runs")
	stageTimeout := flag.Duration("stage-timeout", 6*time.Hour, "longest one stage may run")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	flag.Parse()

	o := options{workers: *workers, keep: *keep, pgAdmin: *pgAdmin, myAdmin: *myAdmin, progress: *progress,
		stageTimeout: *stageTimeout, jsonOut: *jsonOut, stages: map[string]bool{}}
	for _, s := range strings.Split(*items, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			log.Fatalf("-items: %q is not a catalog size (an integer of at least 2)", s)
		}
		o.sizes = append(o.sizes, n)
	}
	for _, s := range strings.Split(*stages, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allStages, s) {
			log.Fatalf("-stages: unknown stage %q (known: %s)", s, strings.Join(allStages, ", "))
		}
		o.stages[s] = true
	}
	if o.workers < 1 {
		log.Fatal("-workers must be at least 1")
	}
	os.Exit(run(o))
}

func run(o options) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "curio-bench-scale-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		if !o.keep {
			_ = os.RemoveAll(dir)
		}
	}()
	bin := filepath.Join(dir, "curio")
	log.Printf("building ./cmd/curio")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/curio").CombinedOutput(); err != nil {
		log.Printf("FAILED: build ./cmd/curio: %v\n%s", err, out)
		return 1
	}

	var all []stageResult
	failed := false
	for _, n := range o.sizes {
		res, err := runSize(ctx, o, bin, filepath.Join(dir, strconv.Itoa(n)), n)
		all = append(all, res...)
		fmt.Print(sizeTables(n, res))
		if err != nil {
			log.Printf("FAILED at %d items: %v", n, err)
			failed = true
			break
		}
		debug.FreeOSMemory() // the next size's bench-process RSS should not carry this one's heap
	}
	fmt.Print(overallTable(all))
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			log.Printf("write %s: %v", o.jsonOut, err)
		}
	}
	if failed {
		log.Printf("FAILED: a stage did not complete; see above")
		return 1
	}
	return 0
}

// stageResult is one stage at one size.
type stageResult struct {
	Items  int           `json:"items"`
	Stage  string        `json:"stage"`
	OK     bool          `json:"ok"`
	Error  string        `json:"error,omitempty"`
	Wall   time.Duration `json:"wall_ns"`
	Detail string        `json:"detail,omitempty"`

	FailedAttempts   int            `json:"failed_attempts"`
	MaxAttempt       int            `json:"max_attempt"`
	WorkflowTaskFail int            `json:"workflow_task_failures"`
	Failures         map[string]int `json:"failures,omitempty"` // "Activity: message" -> attempts
	Activities       []activityStat `json:"activities"`

	PeakRSS    map[string]int64 `json:"peak_rss"`     // process -> bytes, during the stage
	HWM        map[string]int64 `json:"hwm"`          // process -> VmHWM at the end of the stage
	HWMIsStage map[string]bool  `json:"hwm_is_stage"` // VmHWM was reset when the stage began

	WarehouseBytes int64       `json:"warehouse_bytes"`
	MySQLBytes     int64       `json:"mysql_bytes"`
	PGTables       []tableSize `json:"pg_tables"`
	MyTables       []tableSize `json:"mysql_tables"`

	Publish time.Duration `json:"publish_ns"`    // the publish activity's run time
	Reload  time.Duration `json:"api_reload_ns"` // publish done -> API serves it; <0: not seen
	Load    time.Duration `json:"api_load_ns"`   // the API's own index load (catalog only)
}

type tableSize struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

type activityStat struct {
	Name  string        `json:"name"`
	Count int           `json:"count"`
	Total time.Duration `json:"total_ns"` // sum of final attempts' started -> closed
	Max   time.Duration `json:"max_ns"`
}

// proc is a child process the bench watches.
type proc struct {
	name   string
	cmd    *exec.Cmd
	logf   string
	exited chan struct{}
	err    error
}

// env is what a child process gets: the bench's environment without any CURIO_ variable
// (so the defaults apply), plus the given ones.
func env(kv ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CURIO_") {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

func startProc(name, logDir string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, logf: filepath.Join(logDir, name+".log"), exited: make(chan struct{})}
	f, err := os.Create(p.logf)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) stop() {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second): // CURIO_SHUTDOWN_GRACE is 20s
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func tail(file string, n int) string {
	b, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sizeEnv is one size's running stack.
type sizeEnv struct {
	o       options
	n       int
	dir     string
	pgDSN   string
	myDSN   string
	pg      *pgx.Conn
	my      *sql.DB
	myName  string
	tc      client.Client
	queue   string
	procs   []*proc // workers, then the API
	apiURL  string
	http    *http.Client
	results []stageResult
}

func runSize(ctx context.Context, o options, bin, dir string, n int) (_ []stageResult, err error) {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	s := &sizeEnv{o: o, n: n, dir: dir, queue: fmt.Sprintf("scale-%d", n), http: &http.Client{Timeout: 10 * time.Second}}
	name := fmt.Sprintf("curio_bench_scale_%d_%d", n, time.Now().Unix())
	s.myName = name
	log.Printf("=== %d items: databases %s", n, name)

	// Databases.
	ac, err := pgx.Connect(ctx, o.pgAdmin)
	if err != nil {
		return nil, fmt.Errorf("postgres admin: %w", err)
	}
	defer ac.Close(ctx)
	if _, err := ac.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.pgAdmin)
	u.Path = "/" + name
	s.pgDSN = u.String()
	mcfg, err := gomysql.ParseDSN(o.myAdmin)
	if err != nil {
		return nil, err
	}
	madmin, err := sql.Open("mysql", mcfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer madmin.Close()
	if _, err := madmin.Exec("CREATE DATABASE " + name); err != nil {
		return nil, err
	}
	mcfg.DBName = name
	s.myDSN = mcfg.FormatDSN()
	defer func() {
		if o.keep {
			log.Printf("kept: PostgreSQL %s, MySQL %s, logs and Temporal file under %s", s.pgDSN, s.myDSN, dir)
			return
		}
		_, _ = ac.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
		_, _ = madmin.Exec("DROP DATABASE " + name)
	}()
	{
		pgs, err := postgres.Open(ctx, s.pgDSN)
		if err != nil {
			return nil, err
		}
		_, err = pgs.Migrate(ctx)
		pgs.Close()
		if err != nil {
			return nil, fmt.Errorf("migrate postgres: %w", err)
		}
		mys, err := mysql.Open(ctx, s.myDSN)
		if err != nil {
			return nil, err
		}
		_, err = mys.Migrate(ctx)
		mys.Close()
		if err != nil {
			return nil, fmt.Errorf("migrate mysql: %w", err)
		}
	}
	if s.pg, err = pgx.Connect(ctx, s.pgDSN); err != nil {
		return nil, err
	}
	defer s.pg.Close(ctx)
	if s.my, err = sql.Open("mysql", s.myDSN); err != nil {
		return nil, err
	}
	defer s.my.Close()

	// Temporal, as `curio dev` runs it: embedded, history in a SQLite file.
	ts, err := temporaldev.Start(temporaldev.Options{DatabaseFile: filepath.Join(dir, "temporal.db"), LogLevel: "fatal"})
	if err != nil {
		return nil, err
	}
	defer func() { _ = ts.Stop() }()
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	s.tc, err = ts.Dial(dctx, "default")
	cancel()
	if err != nil {
		return nil, err
	}
	defer s.tc.Close()

	// Processes: the workers and the API, with only addresses, DSNs and the queue set.
	common := []string{"CURIO_TEMPORAL_HOSTPORT=" + ts.HostPort(), "CURIO_TASK_QUEUE=" + s.queue,
		"CURIO_POSTGRES_DSN=" + s.pgDSN, "CURIO_MYSQL_DSN=" + s.myDSN, "CURIO_DATA_DIR=" + dir}
	defer func() {
		var wg sync.WaitGroup
		for _, p := range s.procs {
			wg.Go(p.stop)
		}
		wg.Wait()
	}()
	for i := range o.workers {
		cmd := exec.Command(bin, "worker", "--identity", fmt.Sprintf("w%d", i+1))
		cmd.Env = env(common...)
		p, err := startProc(fmt.Sprintf("w%d", i+1), filepath.Join(dir, "logs"), cmd)
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, p)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "api")
	cmd.Env = env(append(common, fmt.Sprintf("CURIO_HTTP_ADDR=127.0.0.1:%d", port))...)
	api, err := startProc("api", filepath.Join(dir, "logs"), cmd)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, api)
	s.apiURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}

	catalog := workflows.CatalogPipelineInput{Demo: catalogjob.ImportDemoInput{Movies: n / 2, Artworks: n - n/2}}
	steps := []struct {
		stage string
		wf    string
		in    any
	}{
		{stageCatalog, workflows.CatalogPipelineName, catalog},
		{stageSimilarity, workflows.BuildSimilarityName, workflows.BuildSimilarityInput{}},
		{stageTopics, workflows.BuildTopicsName, workflows.BuildTopicsInput{}},
	}
	last := -1
	for i, st := range steps {
		if o.stages[st.stage] {
			last = i
		}
	}
	for _, st := range steps[:last+1] {
		measured := o.stages[st.stage]
		if !measured && st.stage != stageCatalog {
			continue // only the catalog is a prerequisite of later stages
		}
		r := s.runStage(ctx, st.stage, st.wf, st.in, measured)
		if measured {
			s.results = append(s.results, r)
		}
		if !r.OK {
			return s.results, fmt.Errorf("stage %s (%s): %s", st.stage, st.wf, r.Error)
		}
	}
	for _, p := range s.procs {
		if !p.running() {
			return s.results, fmt.Errorf("process %s exited during the run (%v); log tail:\n%s", p.name, p.err, tail(p.logf, 20))
		}
	}
	return s.results, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until every worker polls the queue's activity tasks and the API answers.
func (s *sizeEnv) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		for _, p := range s.procs {
			if !p.running() {
				return fmt.Errorf("%s exited at start (%v):\n%s", p.name, p.err, tail(p.logf, 20))
			}
		}
		pollers := 0
		if d, err := s.tc.DescribeTaskQueue(ctx, s.queue, enums.TASK_QUEUE_TYPE_ACTIVITY); err == nil {
			pollers = len(d.GetPollers())
		}
		apiUp := false
		if resp, err := s.http.Get(s.apiURL + "/livez"); err == nil {
			resp.Body.Close()
			apiUp = true
		}
		if pollers >= s.o.workers && apiUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after a minute: %d of %d workers poll, API up: %v", pollers, s.o.workers, apiUp)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runStage runs one workflow to its end and measures it.
func (s *sizeEnv) runStage(ctx context.Context, stage, wf string, in any, measured bool) stageResult {
	r := stageResult{Items: s.n, Stage: stage}
	what := "stage"
	if !measured {
		what = "setup (unmeasured)"
	}
	names := []string{}
	pids := map[string]int{"bench": os.Getpid()}
	for _, p := range s.procs {
		names = append(names, p.name)
		pids[p.name] = p.cmd.Process.Pid
	}
	names = append(names, "bench")
	r.HWMIsStage = map[string]bool{}
	for name, pid := range pids {
		r.HWMIsStage[name] = resetHWM(pid) == nil
	}
	sampler := newSampler(pids)
	defer sampler.stop()

	ctx, cancel := context.WithTimeout(ctx, s.o.stageTimeout)
	defer cancel()
	id := fmt.Sprintf("scale-%s-%d", stage, s.n)
	log.Printf("[%d %s] %s started: %s", s.n, stage, what, wf)
	start := time.Now()
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, wf, in)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	done := make(chan error, 1)
	var out json.RawMessage
	go func() { done <- run.Get(ctx, &out) }()
	tick := time.NewTicker(s.o.progress)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			log.Printf("[%d %s] running %v; %s; RSS %s", s.n, stage, time.Since(start).Round(time.Second), s.progressOf(ctx, id), sampler.current(names))
			for _, p := range s.procs {
				if !p.running() {
					log.Printf("[%d %s] WARNING: %s exited (%v); log tail:\n%s", s.n, stage, p.name, p.err, tail(p.logf, 20))
				}
			}
		}
	}
	r.Wall = time.Since(start)
	r.PeakRSS = sampler.stop()
	r.HWM = map[string]int64{}
	for name, pid := range pids {
		if v, err := procStatus(pid, "VmHWM"); err == nil {
			r.HWM[name] = v
			if r.HWMIsStage[name] {
				r.PeakRSS[name] = max(r.PeakRSS[name], v)
			}
		}
	}
	// Attempts are measured even when the workflow failed: they say why.
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer hcancel()
	h := &history{acts: map[string]*activityStat{}, failures: map[string]int{}}
	if herr := h.walk(hctx, s.tc, id, run.GetRunID()); herr != nil {
		log.Printf("[%d %s] WARNING: reading the history: %v", s.n, stage, herr)
	}
	r.FailedAttempts, r.MaxAttempt, r.WorkflowTaskFail, r.Failures = h.failed, h.maxAttempt, h.wfTaskFailed, h.failures
	for _, a := range h.acts {
		r.Activities = append(r.Activities, *a)
	}
	slices.SortFunc(r.Activities, func(a, b activityStat) int { return strings.Compare(a.Name, b.Name) })
	if err != nil {
		r.Error = err.Error()
		log.Printf("[%d %s] FAILED after %v: %v", s.n, stage, r.Wall.Round(time.Millisecond), err)
		for _, p := range s.procs {
			log.Printf("--- %s log tail (%s):\n%s", p.name, p.logf, tail(p.logf, 15))
		}
		return r
	}
	r.OK = true
	r.Publish = h.publish
	r.Reload = -1
	switch stage {
	case stageCatalog:
		var res workflows.CatalogPipelineResult
		_ = json.Unmarshal(out, &res)
		r.Detail = fmt.Sprintf("version %s, %d docs, %d index shards", res.Version, res.Docs, res.Shards)
		if measured {
			r.Reload, r.Load = s.catalogReload(ctx, res.Version, h.publishDone)
		}
	case stageSimilarity:
		r.Detail = compact(out)
		r.Reload = s.modelReload(ctx, h.publishDone, s.similarServed)
	case stageTopics:
		r.Detail = compact(out)
		r.Reload = s.modelReload(ctx, h.publishDone, s.topicsServed)
	}
	if measured {
		s.sizes(ctx, &r)
	}
	log.Printf("[%d %s] %s finished in %v: %d failed attempts (max attempt %d); %s", s.n, stage, what,
		r.Wall.Round(time.Millisecond), r.FailedAttempts, r.MaxAttempt, r.Detail)
	return r
}

// compact shortens a workflow result for the detail line: its top-level fields but the
// version, with nested objects' numbers only.
func compact(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		s := string(raw)
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return s
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case string:
			if k != "version" && k != "run_id" && len(v) < 60 {
				parts = append(parts, k+"="+v)
			}
		case map[string]any:
			var sub []string
			for _, sk := range slices.Sorted(maps.Keys(v)) {
				if f, ok := v[sk].(float64); ok {
					sub = append(sub, fmt.Sprintf("%s=%g", sk, f))
				}
			}
			if len(sub) > 0 {
				parts = append(parts, k+"{"+strings.Join(sub, " ")+"}")
			}
		case nil, []any:
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

func (s *sizeEnv) progressOf(ctx context.Context, id string) string {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	v, err := s.tc.QueryWorkflow(qctx, id, "", workflows.ProgressQuery)
	if err != nil {
		return "progress n/a"
	}
	var raw json.RawMessage
	if err := v.Get(&raw); err != nil {
		return "progress n/a"
	}
	return "progress " + compact(raw)
}

// catalogReload polls the API's /healthz until it serves version and returns how long
// after the publish activity finished the API had loaded it, and the API's own load time
// (from its log).
func (s *sizeEnv) catalogReload(ctx context.Context, version string, published time.Time) (reload, load time.Duration) {
	reload, load = -1, -1
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var body struct {
			Version  string    `json:"version"`
			LoadedAt time.Time `json:"loaded_at"`
		}
		if s.getJSON("/healthz", &body) == nil && body.Version == version {
			if !published.IsZero() {
				reload = body.LoadedAt.Sub(published)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if reload < 0 {
		log.Printf("[%d catalog] WARNING: the API did not serve %s within 10 minutes", s.n, version)
	}
	// time=... level=INFO msg="search index loaded" version=V docs=N shards=S took=1.2s
	re := regexp.MustCompile(`search index loaded.*version=` + regexp.QuoteMeta(version) + `.*took=(\S+)`)
	if m := re.FindStringSubmatch(tailAll(s.procs[len(s.procs)-1].logf)); m != nil {
		if d, err := time.ParseDuration(m[1]); err == nil {
			load = d
		}
	}
	return reload, load
}

func tailAll(file string) string {
	b, _ := os.ReadFile(file)
	return string(b)
}

// modelReload polls served until it holds and returns how long after the publish
// activity finished that was. The API reads models from MySQL on each request, so this
// is the switch's visibility, not a load.
func (s *sizeEnv) modelReload(ctx context.Context, published time.Time, served func() bool) time.Duration {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if served() {
			if published.IsZero() {
				return -1
			}
			return time.Since(published)
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Printf("[%d] WARNING: the API did not serve the new model within 2 minutes", s.n)
	return -1
}

func (s *sizeEnv) similarServed() bool {
	for _, p := range []string{"/api/movies/demo-m-000001/similar", "/api/artworks/demo-aw-000001/similar",
		"/api/movies/demo-m-000002/similar", "/api/artworks/demo-aw-000002/similar"} {
		var body struct {
			Similar []json.RawMessage `json:"similar"`
		}
		if s.getJSON(p, &body) == nil && len(body.Similar) > 0 {
			return true
		}
	}
	return false
}

func (s *sizeEnv) topicsServed() bool {
	var body struct {
		Topics []json.RawMessage `json:"topics"`
	}
	return s.getJSON("/api/topics", &body) == nil && len(body.Topics) > 0
}

func (s *sizeEnv) getJSON(path string, v any) error {
	resp, err := s.http.Get(s.apiURL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.Unmarshal(b, v)
}

// sizes records the warehouse's and the serving database's bytes.
func (s *sizeEnv) sizes(ctx context.Context, r *stageResult) {
	if err := s.pg.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&r.WarehouseBytes); err != nil {
		log.Printf("WARNING: pg_database_size: %v", err)
	}
	rows, err := s.pg.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT c.relispartition
		ORDER BY 2 DESC LIMIT 4`)
	if err == nil {
		for rows.Next() {
			var t tableSize
			if rows.Scan(&t.Name, &t.Bytes) == nil {
				r.PGTables = append(r.PGTables, t)
			}
		}
		rows.Close()
	}
	// InnoDB's table statistics lag behind writes: refresh them first.
	var tables []string
	if trows, err := s.my.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", s.myName); err == nil {
		for trows.Next() {
			var t string
			if trows.Scan(&t) == nil {
				tables = append(tables, t)
			}
		}
		trows.Close()
	}
	for _, t := range tables {
		if rows, err := s.my.QueryContext(ctx, "ANALYZE TABLE `"+t+"`"); err == nil {
			rows.Close()
		}
	}
	mrows, err := s.my.QueryContext(ctx, `SELECT table_name, data_length + index_length FROM information_schema.tables
		WHERE table_schema = ? ORDER BY 2 DESC`, s.myName)
	if err != nil {
		log.Printf("WARNING: mysql sizes: %v", err)
		return
	}
	defer mrows.Close()
	for mrows.Next() {
		var t tableSize
		var b sql.NullInt64
		if mrows.Scan(&t.Name, &b) == nil {
			t.Bytes = b.Int64
			r.MySQLBytes += t.Bytes
			if len(r.MyTables) < 4 {
				r.MyTables = append(r.MyTables, t)
			}
		}
	}
}

// history sums up a workflow's history and its children's.
type history struct {
	failed       int
	maxAttempt   int
	wfTaskFailed int
	failures     map[string]int
	acts         map[string]*activityStat
	publish      time.Duration
	publishDone  time.Time
}

// walk reads a workflow run's history, the runs it continued as, and its children's.
// Temporal writes one ActivityTaskStarted per activity, for its last attempt, whose
// Attempt field counts the earlier (failed) attempts and whose LastFailure says why the
// one before failed; a final ActivityTaskFailed or ActivityTaskTimedOut is one more.
func (h *history) walk(ctx context.Context, c client.Client, id, runID string) error {
	for runID != "" {
		type sched struct {
			name    string
			started time.Time
		}
		scheduled := map[int64]*sched{}
		var children [][2]string
		next := ""
		it := c.GetWorkflowHistory(ctx, id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return fmt.Errorf("history of %s/%s: %w", id, runID, err)
			}
			t := ev.GetEventTime().AsTime()
			switch ev.GetEventType() {
			case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				scheduled[ev.GetEventId()] = &sched{name: ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()}
			case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				a := ev.GetActivityTaskStartedEventAttributes()
				sc := scheduled[a.GetScheduledEventId()]
				if sc == nil {
					sc = &sched{name: "?"}
				}
				sc.started = t
				attempt := int(a.GetAttempt())
				h.maxAttempt = max(h.maxAttempt, attempt)
				if attempt > 1 {
					h.failed += attempt - 1
					msg := "(no failure recorded)"
					if f := a.GetLastFailure(); f != nil {
						msg = failureText(f.GetMessage(), f.GetApplicationFailureInfo().GetType(), f.GetCause().GetMessage())
					}
					h.failures[sc.name+": "+msg] += attempt - 1
				}
			case enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				sc := scheduled[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]
				if sc != nil {
					d := t.Sub(sc.started)
					h.add(sc.name, d)
					if strings.HasPrefix(sc.name, "Publish") {
						h.publish += d
						h.publishDone = t
					}
				}
			case enums.EVENT_TYPE_ACTIVITY_TASK_FAILED:
				a := ev.GetActivityTaskFailedEventAttributes()
				h.failed++
				name := "?"
				if sc := scheduled[a.GetScheduledEventId()]; sc != nil {
					name = sc.name
				}
				f := a.GetFailure()
				h.failures[name+": "+failureText(f.GetMessage(), f.GetApplicationFailureInfo().GetType(), f.GetCause().GetMessage())]++
			case enums.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
				a := ev.GetActivityTaskTimedOutEventAttributes()
				h.failed++
				name := "?"
				if sc := scheduled[a.GetScheduledEventId()]; sc != nil {
					name = sc.name
				}
				f := a.GetFailure()
				h.failures[name+": timed out: "+failureText(f.GetMessage(), f.GetTimeoutFailureInfo().GetTimeoutType().String(), f.GetCause().GetMessage())]++
			case enums.EVENT_TYPE_WORKFLOW_TASK_FAILED, enums.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
				h.wfTaskFailed++
			case enums.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
				we := ev.GetChildWorkflowExecutionStartedEventAttributes().GetWorkflowExecution()
				children = append(children, [2]string{we.GetWorkflowId(), we.GetRunId()})
			case enums.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				next = ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
			}
		}
		for _, ch := range children {
			if err := h.walk(ctx, c, ch[0], ch[1]); err != nil {
				return err
			}
		}
		runID = next
	}
	return nil
}

func (h *history) add(name string, d time.Duration) {
	a := h.acts[name]
	if a == nil {
		a = &activityStat{Name: name}
		h.acts[name] = a
	}
	a.Count++
	a.Total += d
	a.Max = max(a.Max, d)
}

func failureText(msg, typ, cause string) string {
	s := msg
	if typ != "" && typ != "TIMEOUT_TYPE_UNSPECIFIED" {
		s += " [" + typ + "]"
	}
	if cause != "" && cause != msg {
		s += " (cause: " + cause + ")"
	}
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// sampler samples the VmRSS of processes every 200 ms and keeps each one's maximum.
type sampler struct {
	pids    map[string]int
	mu      sync.Mutex
	peak    map[string]int64
	last    map[string]int64
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newSampler(pids map[string]int) *sampler {
	s := &sampler{pids: pids, peak: map[string]int64{}, last: map[string]int64{}, done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, pid := range s.pids {
		if v, err := procStatus(pid, "VmRSS"); err == nil {
			s.last[name] = v
			s.peak[name] = max(s.peak[name], v)
		}
	}
}

// stop ends sampling (once) and returns the peaks.
func (s *sampler) stop() map[string]int64 {
	s.once.Do(func() { close(s.done); <-s.stopped; s.sample() })
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.peak {
		out[k] = v
	}
	return out
}

func (s *sampler) current(names []string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s", n, mib(s.last[n])))
	}
	return strings.Join(parts, ", ")
}

// procStatus reads a kB field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New(field + " not in /proc status")
}

// resetHWM resets a process's peak RSS (VmHWM) to its current RSS.
func resetHWM(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
