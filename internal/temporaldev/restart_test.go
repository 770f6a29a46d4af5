package temporaldev

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"
)

// restartBudget is how long the first workflow task after a restart may take. Before the
// membership fix it took about 50 s (ringpop waited for the previous process's members).
const restartBudget = 10 * time.Second

func echoWorkflow(_ workflow.Context, s string) (string, error) { return s, nil }

// TestRestartOnSameDataServesAtOnce starts the embedded server on a data file and a fixed
// frontend port, runs a workflow, stops it and starts it again on the same file and port:
// the first workflow after the restart must complete within restartBudget of the client
// having dialed.
func TestRestartOnSameDataServesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server twice")
	}
	addr := freeFrontendAddr(t)
	opts := Options{Addr: addr, DatabaseFile: filepath.Join(t.TempDir(), "temporal.db"), LogLevel: "error"}

	first := runOnFreshServer(t, opts, "first")
	second := runOnFreshServer(t, opts, "second")
	t.Logf("first workflow after server ready: first start %v, restart %v", first, second)
	if second > restartBudget {
		t.Fatalf("first workflow after a restart took %v (budget %v)", second, restartBudget)
	}
}

// runOnFreshServer starts a server with opts, dials it, runs one workflow with a fresh
// worker and stops everything; it returns the time from the dialed client to the
// workflow's result.
func runOnFreshServer(t *testing.T, opts Options, name string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	srv, err := Start(opts)
	if err != nil {
		t.Fatalf("%s start: %v", name, err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("%s stop: %v", name, err)
		}
	}()
	c, err := srv.Dial(ctx, "default")
	if err != nil {
		t.Fatalf("%s dial: %v", name, err)
	}
	defer c.Close()
	ready := time.Now()

	const queue = "restart-test"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(echoWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("%s worker: %v", name, err)
	}
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        fmt.Sprintf("restart-%s-%d", name, time.Now().UnixNano()),
		TaskQueue: queue,
	}, echoWorkflow, name)
	if err != nil {
		t.Fatalf("%s execute (after %v): %v", name, time.Since(ready), err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatalf("%s result (after %v): %v", name, time.Since(ready), err)
	}
	if got != name {
		t.Fatalf("%s result = %q", name, got)
	}
	took := time.Since(ready)

	// Only this process's four services are members: the previous process's rows are gone.
	rows := membershipRows(ctx, t, opts.DatabaseFile)
	want := derivePorts(mustPort(t, opts.Addr))
	ports := map[int]bool{want.frontend.membership: true, want.history.membership: true,
		want.matching.membership: true, want.worker.membership: true}
	if len(rows) != 4 {
		t.Errorf("%s: %d cluster_membership rows, want 4: %+v", name, len(rows), rows)
	}
	for _, r := range rows {
		if !ports[int(r.RPCPort)] {
			t.Errorf("%s: cluster_membership row on port %d, want one of %v", name, r.RPCPort, ports)
		}
	}
	return took
}

func membershipRows(ctx context.Context, t *testing.T, file string) []sqlplugin.ClusterMembershipRow {
	t.Helper()
	cfg := sqliteConfig(file)
	db, err := persistencesql.NewSQLDB(sqlplugin.DbKindMain, &cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.GetClusterMembers(ctx, &sqlplugin.ClusterMembershipFilter{RoleEquals: persistence.All})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func mustPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// freeFrontendAddr returns 127.0.0.1:port where port and the ports derived from it are free.
func freeFrontendAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		port, err := freePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fixedPorts("127.0.0.1", port); err == nil {
			return net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
		}
	}
	t.Fatal("no free frontend port whose derived ports are free")
	return ""
}
