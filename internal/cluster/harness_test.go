package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/internal/testdb"
)

// Ports of the database proxies on the bridge address. The API host gets a MySQL proxy of
// its own, so cutting it leaves the workers' MySQL alone.
const (
	pgProxyPort    = "15432"
	myProxyPort    = "13306"
	myAPIProxyPort = "13307"
)

// cluster is a running test cluster: the network, `curio server` on svc, the databases
// behind their proxies, and a Temporal client in the test process.
type cluster struct {
	net      *network
	bin      string
	svc, api *host
	w        map[string]*host // w1, w2, w3

	temporalHostPort string // on svc, as the other hosts dial it
	kafkaBrokers     string
	temporal         client.Client

	pg                   *postgres.Store // direct, for the test's own queries
	my                   *mysql.Store
	pgDSN, myDSN         string // through the proxies, for the hosts
	myAPIDSN             string // through the API host's own MySQL proxy
	myProxy, myAPIProxy  *proxy
	mu                   sync.Mutex
	catalogDone          bool
	cleanDigest          string
	cleanRows, cleanDocs int
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// curioBinary builds cmd/curio once per test binary.
func curioBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "curio-cluster-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "curio")
		out, err := exec.Command("go", "build", "-o", buildBin, "../../cmd/curio").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build curio: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// newCluster builds the network and starts `curio server --listen` on svc; it skips the
// test where namespaces cannot be created.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds network namespaces and runs curio processes")
	}
	if why := canNetns(); why != "" {
		if os.Getenv("CI") == "true" { // CI runs as root with iproute2 (.ci/run): the test must run there
			t.Fatal(why)
		}
		t.Skip(why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	localPG, localMy := testdb.Postgres(t), testdb.MySQL(t)
	bin := curioBinary(t)
	lockRuns(t)
	removeLeftovers(t)

	n := newNetwork(t, []string{"svc", "w1", "w2", "w3", "api"}, []int{2, 11, 12, 13, 20})
	c := &cluster{net: n, bin: bin, svc: n.hosts["svc"], api: n.hosts["api"],
		w: map[string]*host{"w1": n.hosts["w1"], "w2": n.hosts["w2"], "w3": n.hosts["w3"]}}

	// Databases: fresh ones, reached by the hosts through proxies on the bridge address.
	pgURL, err := url.Parse(localPG)
	if err != nil {
		t.Fatal(err)
	}
	startProxy(t, net.JoinHostPort(bridgeIP, pgProxyPort), pgURL.Host, 0, 0)
	pgURL.Host = net.JoinHostPort(bridgeIP, pgProxyPort)
	c.pgDSN = pgURL.String()
	myCfg, err := mysqldriver.ParseDSN(localMy)
	if err != nil {
		t.Fatal(err)
	}
	c.myProxy = startProxy(t, net.JoinHostPort(bridgeIP, myProxyPort), myCfg.Addr, 0, 0)
	c.myAPIProxy = startProxy(t, net.JoinHostPort(bridgeIP, myAPIProxyPort), myCfg.Addr, 0, 0)
	myCfg.Addr = net.JoinHostPort(bridgeIP, myProxyPort)
	c.myDSN = myCfg.FormatDSN()
	myCfg.Addr = net.JoinHostPort(bridgeIP, myAPIProxyPort)
	c.myAPIDSN = myCfg.FormatDSN()
	if c.pg, err = postgres.Open(ctx, localPG); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.pg.Close)
	if c.my, err = mysql.Open(ctx, localMy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.my.Close() })
	if _, err := c.pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.my.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	// The platform services on svc, as another machine would run them.
	srv := c.start(t, c.svc, "server", []string{"CURIO_DATA_DIR=" + t.TempDir(), "CURIO_TEMPORAL_LOG_LEVEL=error"},
		"server", "--listen", c.svc.ip)
	env := srv.waitEnv(t, 90*time.Second)
	c.temporalHostPort, c.kafkaBrokers = env["CURIO_TEMPORAL_HOSTPORT"], env["CURIO_KAFKA_BROKERS"]
	if want := c.svc.ip + ":7233"; c.temporalHostPort != want {
		t.Fatalf("curio server prints CURIO_TEMPORAL_HOSTPORT=%s, want %s", c.temporalHostPort, want)
	}
	if want := c.svc.ip + ":9092"; c.kafkaBrokers != want {
		t.Fatalf("curio server prints CURIO_KAFKA_BROKERS=%s, want %s", c.kafkaBrokers, want)
	}
	c.temporal, err = temporaldev.DialRetry(ctx, client.Options{HostPort: c.temporalHostPort, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.temporal.Close)
	return c
}

// proc is a curio process on a host.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs `curio args...` on h (ip netns exec) with env on top of a clean environment
// (no CURIO_* of the test's own), logging to a file that is printed if the test fails.
func (c *cluster) start(t *testing.T, h *host, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.ns, c.bin}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CURIO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &proc{name: name, cmd: cmd, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); _ = f.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s on %s, log (last 4000 bytes):\n%s", name, h.name, b[max(0, len(b)-4000):])
		}
	})
	return p
}

// stop sends SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitEnv waits for the VAR=value lines `curio server` prints and returns them.
func (p *proc) waitEnv(t *testing.T, timeout time.Duration) map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		env := map[string]string{}
		if f, err := os.Open(p.log); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "CURIO_") && !strings.Contains(k, " ") {
					env[k] = v
				}
			}
			_ = f.Close()
		}
		if env["CURIO_KAFKA_BROKERS"] != "" {
			return env
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready: %v", p.name, p.err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s", p.name, timeout)
		}
	}
}

// workerEnv is the environment of a worker on the given task queue: one activity slot, so
// batch shards spread over the hosts (ingest scenarios raise it with CURIO_WORKER_ACTIVITIES).
func (c *cluster) workerEnv(t *testing.T, queue, temporalHostPort string, extra ...string) []string {
	return append([]string{"CURIO_TEMPORAL_HOSTPORT=" + temporalHostPort, "CURIO_KAFKA_BROKERS=" + c.kafkaBrokers,
		"CURIO_POSTGRES_DSN=" + c.pgDSN, "CURIO_MYSQL_DSN=" + c.myDSN, "CURIO_TASK_QUEUE=" + queue,
		"CURIO_WORKER_ACTIVITIES=1", "CURIO_SHUTDOWN_GRACE=5s", "CURIO_LOG_LEVEL=warn", "CURIO_DATA_DIR=" + t.TempDir()}, extra...)
}

// startWorkers starts `curio worker --identity NAME` on each named host (w1..w3), all on
// queue, and waits until Temporal sees them all polling for activities.
func (c *cluster) startWorkers(t *testing.T, queue, temporalHostPort string, names ...string) map[string]*proc {
	t.Helper()
	return c.startWorkersEnv(t, queue, temporalHostPort, nil, names...)
}

// startWorkersEnv is startWorkers with extra environment.
func (c *cluster) startWorkersEnv(t *testing.T, queue, temporalHostPort string, extra []string, names ...string) map[string]*proc {
	t.Helper()
	ps := map[string]*proc{}
	for _, name := range names {
		ps[name] = c.start(t, c.w[name], name, c.workerEnv(t, queue, temporalHostPort, extra...), "worker", "--identity", name)
	}
	c.waitPollers(t, queue, names...)
	return ps
}

// waitPollers waits until every identity polls queue for activity tasks.
func (c *cluster) waitPollers(t *testing.T, queue string, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.temporal.DescribeTaskQueue(ctx, queue, enums.TASK_QUEUE_TYPE_ACTIVITY)
		cancel()
		var have []string
		if err == nil {
			for _, p := range resp.GetPollers() {
				have = append(have, p.GetIdentity())
			}
		}
		missing := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(have, id) })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers %v never polled %s (pollers %v, err %v)", missing, queue, have, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// timeline records what a scenario did and when, printed at its end.
type timeline struct {
	t     *testing.T
	start time.Time
	mu    sync.Mutex
	lines []string
}

func newTimeline(t *testing.T) *timeline {
	tl := &timeline{t: t, start: time.Now()}
	t.Cleanup(func() {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		t.Logf("timeline of %s:\n%s", t.Name(), strings.Join(tl.lines, "\n"))
	})
	return tl
}

// mark notes an event with the time since the scenario began.
func (tl *timeline) mark(format string, args ...any) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.lines = append(tl.lines, fmt.Sprintf("  %6.1fs  %s", time.Since(tl.start).Seconds(), fmt.Sprintf(format, args...)))
}
