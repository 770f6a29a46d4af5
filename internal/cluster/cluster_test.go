package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/workflows"
)

// similarityInput is the BuildSimilarity every scenario runs: shards small enough to be
// caught in flight, one activity slot per worker so the three hosts share them.
var similarityInput = workflows.BuildSimilarityInput{BatchOptions: workflows.BatchOptions{Shards: 12, MaxParallel: 3, HeartbeatTimeoutSeconds: 5}}

// TestCluster runs Curio over five network namespaces — svc (`curio server --listen`),
// three worker hosts and an API host — and breaks the network between them. The scenarios
// share the cluster and one pair of databases: the catalog the first one loads is the one
// the others use (each loads it itself when run alone with -run).
func TestCluster(t *testing.T) {
	c := newCluster(t)
	t.Run("catalog_and_similarity_fan_out", c.testFanOut)
	t.Run("api_host_loses_mysql", c.testAPILosesMySQL)
	t.Run("worker_partitioned_mid_shard", c.testPartitionMidShard)
	t.Run("ingest_consumer_host_cut_off", c.testIngestTakeover)
	t.Run("latency_between_workers_and_temporal", c.testLatency)
}

// run starts a workflow on queue and waits for its result.
func (c *cluster) run(t *testing.T, queue, id, name string, in, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, name, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Get(ctx, out); err != nil {
		t.Fatalf("%s %s: %v", name, id, err)
	}
}

// uniq makes a workflow id or queue name unique to this test run.
func (c *cluster) uniq(s string) string { return s + "-" + c.net.id }

// catalog loads the demo catalog with CatalogPipeline on queue's workers, once per cluster;
// it returns the result the first time and nil after.
func (c *cluster) catalog(t *testing.T, queue string) *workflows.CatalogPipelineResult {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.catalogDone {
		return nil
	}
	// A public dataset by URL, served from the test host: whichever worker host imports it
	// downloads it over the cluster network.
	ln, err := net.Listen("tcp", net.JoinHostPort(bridgeIP, "18080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir("../importer/testdata"))}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	dataset := catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{"http://" + ln.Addr().String() + "/movie_metadata.csv"}}

	var res workflows.CatalogPipelineResult
	c.run(t, queue, c.uniq("catalog"), workflows.CatalogPipelineName, workflows.CatalogPipelineInput{
		Demo: catalogjob.ImportDemoInput{Movies: 1200, Artworks: 1200, Seed: 7}, Datasets: []catalogjob.DatasetInput{dataset},
		Shards: 6, MaxParallel: 3}, &res)
	if len(res.Imports) != 1 || res.Imports[0].OK == 0 {
		t.Fatalf("dataset %s not imported: %+v", dataset.Paths[0], res.Imports)
	}
	c.catalogDone = true
	return &res
}

// catalogWith loads the catalog if no scenario has yet, with a worker of its own.
func (c *cluster) catalogWith(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	done := c.catalogDone
	c.mu.Unlock()
	if done {
		return
	}
	q := c.uniq("catalog-q")
	ws := c.startWorkers(t, q, c.temporalHostPort, "w1")
	c.catalog(t, q)
	ws["w1"].stop(10 * time.Second)
}

// clean is the reference BuildSimilarity output: one worker, nothing broken. It is computed
// once, by a worker named solo on w1 with a queue of its own.
func (c *cluster) clean(t *testing.T) (digest string, rows int) {
	t.Helper()
	c.catalogWith(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cleanDigest != "" {
		return c.cleanDigest, c.cleanRows
	}
	q := c.uniq("solo")
	solo := c.start(t, c.w["w1"], "solo", c.workerEnv(t, q, c.temporalHostPort), "worker", "--identity", "solo")
	c.waitPollers(t, q, "solo")
	var res workflows.BatchResult
	c.run(t, q, c.uniq("similarity-clean"), workflows.BuildSimilarityName, similarityInput, &res)
	solo.stop(10 * time.Second)
	if len(res.ShardsByWorker) != 1 || res.ShardsByWorker["solo"] != res.Shards {
		t.Fatalf("clean run: shards by worker %v, want all %d on solo", res.ShardsByWorker, res.Shards)
	}
	c.cleanDigest, c.cleanRows = c.similarityDigest(t, res.Version)
	c.cleanDocs = res.Items
	if c.cleanRows == 0 {
		t.Fatalf("clean run wrote no similar items: %+v", res)
	}
	return c.cleanDigest, c.cleanRows
}

// similarityDigest hashes a version's similar_items so two runs compare exactly, and fails
// the test if an (item, rank) appears twice.
func (c *cluster) similarityDigest(t *testing.T, version string) (string, int) {
	t.Helper()
	ctx := context.Background()
	var total, distinct int
	if err := c.pg.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT (item_id, rank)) FROM similar_items WHERE version = $1`,
		version).Scan(&total, &distinct); err != nil {
		t.Fatal(err)
	}
	if total != distinct {
		t.Errorf("version %s: %d similar_items rows for %d (item, rank) pairs: duplicates", version, total, distinct)
	}
	rows, err := c.pg.Pool().Query(ctx, `SELECT item_id, rank, neighbor_id, score FROM similar_items
		WHERE version = $1 ORDER BY item_id, rank`, version)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var item, nbr string
		var rank int
		var score float64
		if err := rows.Scan(&item, &rank, &nbr, &score); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s|%d|%s|%.12f\n", item, rank, nbr, score)
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// shardRuns lists a version's shard attempts as "shard/attempt@worker", and the workers.
func (c *cluster) shardRuns(t *testing.T, version string) ([]string, map[string]int) {
	t.Helper()
	rows, err := c.pg.Pool().Query(context.Background(), `SELECT shard, attempt, worker FROM batch_shard_runs
		WHERE job = $1 AND version = $2 ORDER BY shard, attempt`, workflows.BuildSimilarityName, version)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var runs []string
	per := map[string]int{}
	for rows.Next() {
		var shard, attempt int
		var worker string
		if err := rows.Scan(&shard, &attempt, &worker); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, fmt.Sprintf("%d/%d@%s", shard, attempt, worker))
		per[worker]++
	}
	return runs, per
}

// checkSimilarity compares a BuildSimilarity result with the clean run.
func (c *cluster) checkSimilarity(t *testing.T, res workflows.BatchResult) {
	t.Helper()
	want, wantRows := c.clean(t)
	got, n := c.similarityDigest(t, res.Version)
	if got != want || n != wantRows {
		t.Errorf("output differs from the clean single-worker run: %d rows (digest %.12s), want %d (%.12s)", n, got, wantRows, want)
	}
	if res.Items != c.cleanDocs {
		t.Errorf("%d items, want %d", res.Items, c.cleanDocs)
	}
	if res.Publish == nil || res.Publish.Rows == 0 {
		t.Errorf("model not published: %+v", res.Publish)
	}
}

func (c *cluster) testFanOut(t *testing.T) {
	tl := newTimeline(t)
	q := c.uniq("fanout")
	c.startWorkers(t, q, c.temporalHostPort, "w1", "w2", "w3")
	tl.mark("w1, w2, w3 poll %s at %s", q, c.temporalHostPort)
	if res := c.catalog(t, q); res != nil {
		tl.mark("CatalogPipeline done: version %s, %d docs (%d rows of movies-csv by URL from the test host), index shards by worker %v",
			res.Version, res.Docs, res.Imports[0].OK, res.ShardsByWorker)
		if len(res.ShardsByWorker) != 3 {
			t.Errorf("CatalogPipeline index shards ran on %v, want all three worker hosts", res.ShardsByWorker)
		}
	}
	want, rows := c.clean(t)
	tl.mark("clean single-worker BuildSimilarity: %d rows, digest %.12s", rows, want)
	var res workflows.BatchResult
	c.run(t, q, c.uniq("similarity-fanout"), workflows.BuildSimilarityName, similarityInput, &res)
	runs, per := c.shardRuns(t, res.Version)
	tl.mark("BuildSimilarity on three hosts done: shards by worker %v (retried %d)", res.ShardsByWorker, res.Retried)
	for _, w := range []string{"w1", "w2", "w3"} {
		if res.ShardsByWorker[w] == 0 || per[w] == 0 {
			t.Errorf("no shard ran on %s: result %v, shard records %v", w, res.ShardsByWorker, runs)
		}
	}
	c.checkSimilarity(t, res)
}

// apiGet fetches u and returns the status and body.
func apiGet(u string) (int, []byte, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// waitStatus polls u until it answers status, and returns how long that took.
func waitStatus(t *testing.T, u string, status int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got, body, err := apiGet(u)
		if err == nil && got == status {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("GET %s: %d %s (err %v), want %d within %s", u, got, body, err, status, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *cluster) testAPILosesMySQL(t *testing.T) {
	c.catalogWith(t)
	tl := newTimeline(t)
	base := "http://" + net.JoinHostPort(c.api.ip, "8080")
	c.start(t, c.api, "api", []string{"CURIO_HTTP_ADDR=" + net.JoinHostPort(c.api.ip, "8080"),
		"CURIO_TEMPORAL_HOSTPORT=" + c.temporalHostPort, "CURIO_KAFKA_BROKERS=" + c.kafkaBrokers,
		"CURIO_POSTGRES_DSN=" + c.pgDSN, "CURIO_MYSQL_DSN=" + c.myAPIDSN, "CURIO_INDEX_RELOAD_INTERVAL=1s",
		"CURIO_LOG_LEVEL=warn", "CURIO_DATA_DIR=" + t.TempDir()}, "api")
	waitStatus(t, base+"/readyz", http.StatusOK, 60*time.Second)
	var title string
	if err := c.my.DB().QueryRow(`SELECT title FROM items WHERE type = 'movie' ORDER BY id LIMIT 1`).Scan(&title); err != nil {
		t.Fatal(err)
	}
	searchURL := base + "/api/search?type=movie&q=" + url.QueryEscape(title)
	search := func() (int, int, string) {
		status, body, err := apiGet(searchURL)
		if err != nil {
			return 0, 0, err.Error()
		}
		var sr struct {
			Results []json.RawMessage `json:"results"`
			Error   string            `json:"error"`
		}
		_ = json.Unmarshal(body, &sr)
		return status, len(sr.Results), sr.Error
	}
	if status, n, _ := search(); status != http.StatusOK || n == 0 {
		t.Fatalf("search %q before the cut: %d with %d results", title, status, n)
	}
	tl.mark("api on %s ready, search %q answers", c.api.ip, title)

	c.myAPIProxy.cut()
	tl.mark("api host loses MySQL (its proxy refuses and drops connections)")
	took := waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, 15*time.Second)
	tl.mark("/readyz answers 503 after %s", took.Round(time.Millisecond))
	status, n, msg := search()
	switch {
	case status == http.StatusOK && n > 0:
		tl.mark("search answers from the loaded index: %d results", n)
	case status == http.StatusServiceUnavailable && msg != "":
		tl.mark("search answers 503 %q", msg)
	default:
		t.Errorf("search without MySQL: %d (%d results, error %q), want 200 from the index or a clear 503", status, n, msg)
	}
	time.Sleep(3 * time.Second)

	c.myAPIProxy.restore(t)
	tl.mark("MySQL reachable again")
	took = waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second)
	tl.mark("/readyz answers 200 after %s, with no restart", took.Round(time.Millisecond))
	if status, n, _ := search(); status != http.StatusOK || n == 0 {
		t.Errorf("search after MySQL returned: %d with %d results", status, n)
	}
	tl.mark("search answers again")
}

// pendingShard finds a started SimilarityShard of workflow id run by worker.
func (c *cluster) pendingActivities(t *testing.T, id string) []pendingActivity {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.temporal.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []pendingActivity
	for _, pa := range d.GetPendingActivities() {
		out = append(out, pendingActivity{id: pa.GetActivityId(), typ: pa.GetActivityType().GetName(), worker: pa.GetLastWorkerIdentity(),
			attempt: pa.GetAttempt(), started: pa.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED})
	}
	return out
}

type pendingActivity struct {
	id, typ, worker string
	attempt         int32
	started         bool
}

func (c *cluster) testPartitionMidShard(t *testing.T) {
	want, _ := c.clean(t)
	tl := newTimeline(t)
	q := c.uniq("partition")
	c.startWorkers(t, q, c.temporalHostPort, "w1", "w2", "w3")
	id := c.uniq("similarity-partition")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: q}, workflows.BuildSimilarityName, similarityInput)
	if err != nil {
		t.Fatal(err)
	}
	tl.mark("BuildSimilarity started on w1, w2, w3 (heartbeat timeout %ds)", similarityInput.HeartbeatTimeoutSeconds)
	var victim pendingActivity
	for victim.id == "" {
		if ctx.Err() != nil {
			t.Fatal("w2 never ran a shard")
		}
		for _, pa := range c.pendingActivities(t, id) {
			if pa.started && pa.worker == "w2" && pa.typ == "SimilarityShard" {
				victim = pa
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	w2 := c.w["w2"]
	c.net.cut(t, w2)
	cutAt := time.Now()
	healed := false
	defer func() {
		if !healed {
			c.net.heal(t, w2)
		}
	}()
	tl.mark("w2 cut off (link down) while running shard activity %s, attempt %d", victim.id, victim.attempt)

	// Wait for Temporal to give the shard to another worker.
	retried := false
	for !retried {
		if time.Since(cutAt) > 90*time.Second {
			t.Fatal("the cut shard was never retried")
		}
		still := false
		for _, pa := range c.pendingActivities(t, id) {
			if pa.id != victim.id {
				continue
			}
			still = true
			if pa.attempt > victim.attempt && pa.started {
				tl.mark("shard activity %s retried: attempt %d started on %s", pa.id, pa.attempt, pa.worker)
				retried = true
			}
		}
		if !still {
			tl.mark("shard activity %s no longer pending (finished by its retry)", victim.id)
			retried = true
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Stay cut well past the heartbeat timeout, then heal.
	if d := 3*time.Duration(similarityInput.HeartbeatTimeoutSeconds)*time.Second - time.Since(cutAt); d > 0 {
		time.Sleep(d)
	}
	c.net.heal(t, w2)
	healed = true
	tl.mark("w2 healed after %s cut", time.Since(cutAt).Round(time.Millisecond))

	var res workflows.BatchResult
	if err := r.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	runs, _ := c.shardRuns(t, res.Version)
	tl.mark("BuildSimilarity done: shards by worker %v, %d retried; shard records %v", res.ShardsByWorker, res.Retried, runs)
	if res.Retried == 0 {
		t.Errorf("no shard retried: %+v", res)
	}
	c.checkSimilarity(t, res)

	// w2's own attempt may still write after the heal (it resumed with a stale activity):
	// give it time to come back, then compare again.
	c.waitPollers(t, q, "w2")
	time.Sleep(3 * time.Second)
	got, _ := c.similarityDigest(t, res.Version)
	runsAfter, _ := c.shardRuns(t, res.Version)
	tl.mark("w2 polls again; digest %.12s after its late writes could land (shard records now %d, were %d)", got, len(runsAfter), len(runs))
	if got != want {
		t.Errorf("a late write from the partitioned worker changed the output: digest %.12s, want %.12s", got, want)
	}
	for _, r := range runsAfter {
		if strings.HasSuffix(r, "@w2") && !containsStr(runs, r) {
			tl.mark("late shard record from w2 after the job finished: %s (zombie attempt, same rows written)", r)
		}
	}
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// landed counts raw_events rows and distinct event ids of this test's events.
func (c *cluster) landed(t *testing.T) (rows, distinct int64) {
	t.Helper()
	if err := c.pg.Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT event_id) FROM raw_events
		WHERE event_id LIKE 'cl-%'`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

func (c *cluster) waitLanded(t *testing.T, want int64, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		rows, distinct := c.landed(t)
		if rows == want && distinct == want {
			return time.Since(start)
		}
		if rows != distinct {
			t.Fatalf("raw_events holds %d rows for %d event ids: duplicates", rows, distinct)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%d events landed after %s, want %d", rows, timeout, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *cluster) testIngestTakeover(t *testing.T) {
	tl := newTimeline(t)
	q := c.uniq("ingest")
	slots := []string{"CURIO_WORKER_ACTIVITIES=4"} // both consumers fit on one worker
	c.startWorkersEnv(t, q, c.temporalHostPort, slots, "w1")
	id := c.uniq("ingest")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: q}, workflows.IngestEventsName,
		workflows.IngestEventsInput{Turn: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.temporal.TerminateWorkflow(context.Background(), id, "", "test over") })
	for {
		var on []string
		for _, pa := range c.pendingActivities(t, id) {
			if pa.started {
				on = append(on, pa.worker)
			}
		}
		if len(on) == 2 {
			tl.mark("IngestEvents: lander and stream consumers run on %v", on)
			break
		}
		if time.Since(tl.start) > time.Minute {
			t.Fatal("consumers never started")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.startWorkersEnv(t, q, c.temporalHostPort, slots, "w2")
	tl.mark("w2 polls too")

	prod, err := ingest.NewProducer([]string{c.kafkaBrokers}, "cluster-test")
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	next := 0
	batch := func(n int) []events.Event {
		evs := make([]events.Event, n)
		for i := range evs {
			next++
			evs[i] = events.Event{ID: fmt.Sprintf("cl-%05d", next), Type: events.TypeView, UserID: fmt.Sprintf("u%d", next%41),
				Time: time.Now().UTC(), ItemID: fmt.Sprintf("m%d", next%17), ItemType: "movie"}
		}
		return evs
	}
	send := func(evs []events.Event) {
		t.Helper()
		if err := ingest.Send(prod, ingest.TopicEvents, evs); err != nil {
			t.Fatal(err)
		}
	}
	first := batch(300)
	send(first)
	took := c.waitLanded(t, 300, 60*time.Second)
	tl.mark("300 events sent from the test host, landed by w1 in %s", took.Round(time.Millisecond))

	w1 := c.w["w1"]
	c.net.cut(t, w1)
	cutAt := time.Now()
	healed := false
	defer func() {
		if !healed {
			c.net.heal(t, w1)
		}
	}()
	tl.mark("w1 cut off")
	send(batch(300))
	tl.mark("300 more events sent")
	c.waitLanded(t, 600, 150*time.Second)
	var on []string
	for _, pa := range c.pendingActivities(t, id) {
		on = append(on, fmt.Sprintf("%s(attempt %d)", pa.worker, pa.attempt))
	}
	tl.mark("600 landed %s after the cut: w2 took over (consumers now on %v)", time.Since(cutAt).Round(time.Millisecond), on)

	c.net.heal(t, w1)
	healed = true
	tl.mark("w1 healed")
	send(batch(300))
	send(first[:50]) // a producer's retry: must not land twice
	tl.mark("300 new events and 50 repeats of earlier ones sent")
	c.waitLanded(t, 900, 90*time.Second)
	c.waitPollers(t, q, "w1")
	time.Sleep(5 * time.Second) // room for any late commit from w1's old consumer
	rows, distinct := c.landed(t)
	var dups int64
	_ = c.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE consumer = $1 AND reason = $2`, ingest.LanderGroup, events.ReasonDuplicate).Scan(&dups)
	tl.mark("after w1 returned: %d rows, %d distinct event ids in raw_events; %d duplicate-id dead letters", rows, distinct, dups)
	if rows != 900 || distinct != 900 {
		t.Errorf("raw_events: %d rows, %d distinct, want exactly 900", rows, distinct)
	}
	if dups < 50 {
		t.Errorf("%d duplicate dead letters, want at least the 50 repeats", dups)
	}
}

func (c *cluster) testLatency(t *testing.T) {
	c.clean(t)
	tl := newTimeline(t)
	const delay, jitter = 200 * time.Millisecond, 50 * time.Millisecond
	hostPort := c.temporalHostPort
	if undo, err := c.net.netem(c.svc, delay, jitter); err == nil {
		t.Cleanup(undo)
		tl.mark("netem on svc: delay %s ± %s on everything it sends", delay, jitter)
	} else {
		p := startProxy(t, net.JoinHostPort(bridgeIP, "17233"), c.temporalHostPort, delay, jitter)
		hostPort = p.addr
		tl.mark("netem unavailable (%v); workers reach Temporal through a proxy on %s adding %s ± %s to what Temporal sends",
			firstLine(err.Error()), p.addr, delay, jitter)
	}
	rttClient, err := temporaldev.DialRetry(context.Background(), client.Options{HostPort: hostPort, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var rtts []time.Duration
	for range 5 {
		s := time.Now()
		if _, err := rttClient.CheckHealth(context.Background(), &client.CheckHealthRequest{}); err != nil {
			t.Fatal(err)
		}
		rtts = append(rtts, time.Since(s))
	}
	rttClient.Close()
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	tl.mark("Temporal health check round trips through the delay: min %s, median %s", rtts[0].Round(time.Millisecond), rtts[2].Round(time.Millisecond))
	if rtts[0] < delay-jitter {
		t.Errorf("round trip %s, want at least %s: the delay is not applied", rtts[0], delay-jitter)
	}
	q := c.uniq("latency")
	c.startWorkers(t, q, hostPort, "w1", "w2", "w3")
	tl.mark("w1, w2, w3 poll through the delay")
	var res workflows.BatchResult
	c.run(t, q, c.uniq("similarity-latency"), workflows.BuildSimilarityName, similarityInput, &res)
	tl.mark("BuildSimilarity done: shards by worker %v, %d retried", res.ShardsByWorker, res.Retried)
	c.checkSimilarity(t, res)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
