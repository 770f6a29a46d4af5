// Package temporaldev runs a single-process Temporal server (all four services, SQLite
// persistence) and optionally the Temporal Web UI, for `curio dev` and end-to-end tests.
//
// It is the embedded default only: every other part of Curio talks to Temporal through
// a client and works the same against a real cluster.
package temporaldev

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/resolver"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Options configure an embedded server.
type Options struct {
	// Addr is the frontend gRPC address, host:port. With a fixed port P the other services
	// take ports derived from it (membership P-300, history P+1 and P-299, matching P+2
	// and P-298, worker P+6 and P-294: 6933, 7234/6934, 7235/6935, 7239/6939 for 7233),
	// the same at every start, and Start fails if one is in use. Port 0 picks free ports.
	Addr string
	// DatabaseFile persists history across restarts. Empty means in-memory. Start clears
	// the cluster membership a previous process left in it (see clearMembership).
	DatabaseFile string
	// Namespaces are registered at start (idempotently). "default" is always added.
	Namespaces []string
	// LogLevel of the server's own logger: debug, info, warn (default), error.
	LogLevel string
}

// Server is a running embedded Temporal server.
type Server struct {
	srv      temporal.Server
	hostPort string
	stopping *atomic.Bool // set when Stop begins; quiets the server's logger (quietLogger)
}

// readyTimeout bounds how long Start waits for the frontend to report SERVING.
const readyTimeout = time.Minute

// Start creates the schema when the database file is new, registers namespaces and
// starts the frontend, history, matching and worker services in this process.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	host, portStr, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("temporal address %q: %w", opts.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("temporal address %q: bad port: %w", opts.Addr, err)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	var layout portLayout
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
		if layout, err = randomPorts(host, port); err != nil {
			return nil, err
		}
	} else {
		if err := checkFree(host, port); err != nil {
			return nil, fmt.Errorf("temporal frontend address %s:%d is in use (set CURIO_TEMPORAL_ADDR to another port, or CURIO_TEMPORAL_HOSTPORT to use that server): %w", host, port, err)
		}
		if layout, err = fixedPorts(host, port); err != nil {
			return nil, err
		}
	}

	sqlCfg := sqliteConfig(opts.DatabaseFile)
	if opts.DatabaseFile != "" {
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return nil, fmt.Errorf("temporal data dir: %w", err)
		}
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := sqlite.SetupSchema(&sqlCfg); err != nil {
				return nil, fmt.Errorf("temporal sqlite schema: %w", err)
			}
		} else if err := clearMembership(&sqlCfg); err != nil {
			return nil, err
		}
	}

	cfg, err := buildConfig(host, layout, sqlCfg)
	if err != nil {
		return nil, err
	}
	namespaces := append([]string{"default"}, opts.Namespaces...)
	var nsCfgs []*sqlite.NamespaceConfig
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		nc, err := sqlite.NewNamespaceConfig(cfg.ClusterMetadata.CurrentClusterName, ns, false, nil)
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", ns, err)
		}
		nsCfgs = append(nsCfgs, nc)
	}
	if err := sqlite.CreateNamespaces(&sqlCfg, nsCfgs...); err != nil {
		return nil, fmt.Errorf("register namespaces: %w", err)
	}

	starting, stopping := new(atomic.Bool), new(atomic.Bool)
	starting.Store(true)
	// Skip(1): the caller the zap logger records is the server's code, not quietLogger.
	logger := quietLogger{Logger: log.NewZapLogger(log.BuildZapLogger(log.Config{Level: opts.LogLevel, Format: "json"})).Skip(1),
		starting: starting, stopping: stopping}
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
	)
	if err != nil {
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{srv: srv, hostPort: net.JoinHostPort(host, strconv.Itoa(port)), stopping: stopping}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := waitServing(ctx, s.hostPort); err != nil {
		_ = s.Stop()
		return nil, err
	}
	starting.Store(false)
	return s, nil
}

// waitServing waits until the frontend's gRPC health service reports the workflow service
// SERVING. Until then the frontend rejects calls with "Frontend is not healthy yet" and
// logs each rejection as a service failure at error level, so clients dialing a server
// that has just started would print errors on every start; the health check itself logs
// nothing.
func waitServing(ctx context.Context, hostPort string) error {
	conn, err := grpc.NewClient(hostPort, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("temporal frontend %s: %w", hostPort, err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{Service: workflowService})
		cancel()
		switch {
		case err != nil:
			last = err
		case resp.GetStatus() == healthpb.HealthCheckResponse_SERVING:
			return nil
		default:
			last = fmt.Errorf("status %s", resp.GetStatus())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal frontend %s did not become healthy: %w (last check: %w)", hostPort, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// workflowService is the gRPC service whose health the frontend reports once it is ready.
const workflowService = "temporal.api.workflowservice.v1.WorkflowService"

// HostPort is the frontend gRPC address clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// Dial returns a client for namespace, retrying until the frontend answers or ctx ends.
func (s *Server) Dial(ctx context.Context, namespace string) (client.Client, error) {
	return DialRetry(ctx, client.Options{HostPort: s.hostPort, Namespace: namespace})
}

// Stop stops all services. From the moment it begins, the server's warnings and errors are
// logged at debug level (see quietLogger): clients should be closed first (workers drained,
// long polls ended), so what the services log then is about each other going away.
func (s *Server) Stop() error {
	s.stopping.Store(true)
	if err := s.srv.Stop(); err != nil {
		return fmt.Errorf("stop temporal server: %w", err)
	}
	return nil
}

// DialRetry dials Temporal, retrying with a short backoff until ctx is done; a server that
// has just started may refuse the first health checks.
func DialRetry(ctx context.Context, opts client.Options) (client.Client, error) {
	var last error
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 2*time.Second) {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := client.DialContext(dctx, opts)
		cancel()
		if err == nil {
			return c, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dial temporal at %s: %w (last error: %w)", opts.HostPort, ctx.Err(), last)
		case <-time.After(delay):
		}
	}
}

// sqliteConfig is the persistence config of a database file; empty means a new in-memory
// database, whose schema the plugin creates itself.
func sqliteConfig(file string) config.SQL {
	sqlCfg := config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      file,
	}
	if file == "" {
		sqlCfg.ConnectAttributes["mode"] = "memory"
		sqlCfg.ConnectAttributes["cache"] = "shared"
		sqlCfg.DatabaseName = fmt.Sprintf("curio-%d", time.Now().UnixNano())
	} else {
		sqlCfg.ConnectAttributes["mode"] = "rwc"
		sqlCfg.ConnectAttributes["_journal_mode"] = "wal"
		sqlCfg.ConnectAttributes["_synchronous"] = "2"
	}
	return sqlCfg
}

// clearMembership deletes every row of the cluster_membership table of an existing
// database before the server starts.
//
// Each service of the server writes a row there (host id, membership address, 48 h
// expiry) and, when it starts, bootstraps its ringpop membership from the rows with a
// heartbeat in the last 20 s. After a quick restart those include the rows of the
// previous process, whose membership ports no longer answer: ringpop then spends its
// join timeout on them, and the services answer "Not enough hosts to serve the request"
// for about 50 s while the frontend already takes calls. The embedded cluster has a
// single process, this one (Start has already checked that its ports are free), so
// every row there is stale.
func clearMembership(sqlCfg *config.SQL) error {
	db, err := persistencesql.NewSQLAdminDB(sqlplugin.DbKindMain, sqlCfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("open temporal database %s: %w", sqlCfg.DatabaseName, err)
	}
	defer func() { _ = db.Close() }()
	if err := db.Exec("DELETE FROM cluster_membership"); err != nil {
		return fmt.Errorf("clear stale temporal cluster membership in %s: %w", sqlCfg.DatabaseName, err)
	}
	return nil
}

// servicePort is the gRPC and ringpop membership port of one service.
type servicePort struct{ grpc, membership int }

// portLayout holds the ports of the four services.
type portLayout struct{ frontend, history, matching, worker servicePort }

// ports lists every port of the layout.
func (l portLayout) ports() []int {
	return []int{l.frontend.grpc, l.frontend.membership, l.history.grpc, l.history.membership,
		l.matching.grpc, l.matching.membership, l.worker.grpc, l.worker.membership}
}

// Offsets of the service ports from the frontend gRPC port P, as Temporal's own defaults
// sit around 7233: frontend P (membership P-300), history P+1 (P-299), matching P+2
// (P-298), worker P+6 (P-294). So 127.0.0.1:7233 gives 6933, 7234/6934, 7235/6935 and
// 7239/6939.
const (
	membershipOffset = -300
	historyOffset    = 1
	matchingOffset   = 2
	workerOffset     = 6
)

// derivePorts returns the layout derived from frontend gRPC port p.
func derivePorts(p int) portLayout {
	svc := func(grpc int) servicePort { return servicePort{grpc: grpc, membership: grpc + membershipOffset} }
	return portLayout{
		frontend: svc(p),
		history:  svc(p + historyOffset),
		matching: svc(p + matchingOffset),
		worker:   svc(p + workerOffset),
	}
}

// fixedPorts returns the layout derived from a fixed frontend port, after checking that
// every derived port is valid and free on host. Stable ports keep the server's membership
// the same from one start to the next.
func fixedPorts(host string, frontend int) (portLayout, error) {
	l := derivePorts(frontend)
	named := []struct {
		name string
		port int
	}{
		{"frontend membership", l.frontend.membership},
		{"history gRPC", l.history.grpc},
		{"history membership", l.history.membership},
		{"matching gRPC", l.matching.grpc},
		{"matching membership", l.matching.membership},
		{"worker gRPC", l.worker.grpc},
		{"worker membership", l.worker.membership},
	}
	for _, n := range named {
		if n.port < 1 || n.port > 65535 {
			return l, fmt.Errorf("temporal %s port %d, derived from frontend port %d, is out of range (set CURIO_TEMPORAL_ADDR to a port between %d and %d)",
				n.name, n.port, frontend, 1-membershipOffset, 65535-workerOffset)
		}
		if err := checkFree(host, n.port); err != nil {
			return l, fmt.Errorf("temporal %s port %s:%d, derived from frontend port %d, is in use (set CURIO_TEMPORAL_ADDR to another port; the server also takes frontend-300..-294 and +1, +2, +6): %w",
				n.name, host, n.port, frontend, err)
		}
	}
	return l, nil
}

// randomPorts returns a layout of free ports around the given frontend port, for servers
// whose frontend port was picked at random (tests): their membership is not kept.
func randomPorts(host string, frontend int) (portLayout, error) {
	picked := []int{frontend}
	for range 7 {
		p, err := freePortExcept(host, picked)
		if err != nil {
			return portLayout{}, err
		}
		picked = append(picked, p)
	}
	ports := picked[1:]
	return portLayout{
		frontend: servicePort{frontend, ports[0]},
		history:  servicePort{ports[1], ports[2]},
		matching: servicePort{ports[3], ports[4]},
		worker:   servicePort{ports[5], ports[6]},
	}, nil
}

func buildConfig(host string, layout portLayout, sqlCfg config.SQL) (*config.Config, error) {
	cfg := &config.Config{}
	metricsPort, err := freePortExcept(host, layout.ports())
	if err != nil {
		return nil, err
	}
	svc := func(p servicePort) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: p.grpc, MembershipPort: p.membership, BindOnIP: host}}
	}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: host}
	cfg.Global.Metrics = &metrics.Config{Prometheus: &metrics.PrometheusConfig{
		ListenAddress: net.JoinHostPort(host, strconv.Itoa(metricsPort)),
		HandlerPath:   "/metrics",
	}}
	cfg.Persistence = config.Persistence{
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: &sqlCfg}},
	}
	addr := net.JoinHostPort(host, strconv.Itoa(layout.frontend.grpc))
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: addr},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Services = map[string]config.Service{
		"frontend": svc(layout.frontend),
		"history":  svc(layout.history),
		"matching": svc(layout.matching),
		"worker":   svc(layout.worker),
	}
	cfg.Archival = config.Archival{
		History:    config.HistoryArchival{State: "disabled"},
		Visibility: config.VisibilityArchival{State: "disabled"},
	}
	cfg.NamespaceDefaults = config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
		History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
		Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
	}}
	// The server's internal clients dial the frontend through this address.
	cfg.PublicClient = config.PublicClient{HostPort: addr}
	return cfg, nil
}

// freePort returns a port free on host, from below the kernel's ephemeral range where it
// can: a port the kernel handed out for listening on :0 is closed again before the server
// binds it, and in between any outgoing connection (a database pool, another test's
// client) may take it as its local port; the server then dies with "address already in
// use". Ports below the ephemeral range are only ever taken by listeners.
func freePort(host string) (int, error) { return freePortExcept(host, nil) }

// Random ports are drawn from [lowPort, the ephemeral range's first port), when that span
// holds at least minPortSpan ports; otherwise from the kernel's :0.
const (
	lowPort     = 10000
	minPortSpan = 1000
)

// freePortExcept is freePort, never returning a port in taken.
func freePortExcept(host string, taken []int) (int, error) {
	if span := ephemeralLow() - lowPort; span >= minPortSpan {
		for range 200 {
			p := lowPort + rand.IntN(span)
			if !slices.Contains(taken, p) && checkFree(host, p) == nil {
				return p, nil
			}
		}
	}
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !slices.Contains(taken, p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("find a free port on %s: every port tried is taken", host)
}

// ephemeralLow is the first port of the kernel's ephemeral (local) port range, the
// Linux default where it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

func checkFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// quietLogger is the embedded server's logger. While the server runs it logs everything as
// it comes; it quiets (logs at debug level) only the warnings and errors that a start or a
// stop of this single-process cluster causes by itself:
//
//   - While starting: rejections saying the frontend "is not healthy yet". The server's own
//     worker service dials the frontend as soon as it starts, before the frontend has
//     finished joining the cluster, and retries until it answers; the frontend logs each
//     rejection as a service failure.
//   - Once Stop has begun: every warning and error. The four services stop one after
//     another, and those still running report the ones already gone ("Not enough hosts to
//     serve the request", "error fetching user data from parent", the system workers'
//     "Failed to poll for task", dial errors to closed ports), which says nothing to a user
//     who asked for the stop.
type quietLogger struct {
	log.Logger
	starting, stopping *atomic.Bool
}

var (
	_ log.WithLogger = quietLogger{}
	_ log.SkipLogger = quietLogger{}
)

// notHealthyYet is what the frontend answers until it has joined the cluster.
const notHealthyYet = "Frontend is not healthy yet"

// quiet reports whether a warning or error with tags is noise of the start or the stop.
func (l quietLogger) quiet(tags []tag.Tag) bool {
	if l.stopping.Load() {
		return true
	}
	if !l.starting.Load() {
		return false
	}
	for _, t := range tags {
		zt, ok := t.(tag.ZapTag)
		if !ok {
			continue
		}
		if err, ok := zt.Field().Interface.(error); ok && strings.Contains(err.Error(), notHealthyYet) {
			return true
		}
	}
	return false
}

// Every method is written out, pass-through ones too, so that each adds exactly the one
// stack frame Skip(1) accounts for.

// Debug logs at debug level.
func (l quietLogger) Debug(msg string, tags ...tag.Tag) { l.Logger.Debug(msg, tags...) }

// Info logs at info level.
func (l quietLogger) Info(msg string, tags ...tag.Tag) { l.Logger.Info(msg, tags...) }

// Panic logs and panics, stopping or not.
func (l quietLogger) Panic(msg string, tags ...tag.Tag) { l.Logger.Panic(msg, tags...) }

// Fatal logs and exits, stopping or not.
func (l quietLogger) Fatal(msg string, tags ...tag.Tag) { l.Logger.Fatal(msg, tags...) }

// Warn logs at warn level, or at debug level when quiet.
func (l quietLogger) Warn(msg string, tags ...tag.Tag) {
	if l.quiet(tags) {
		l.Logger.Debug(msg, tags...)
		return
	}
	l.Logger.Warn(msg, tags...)
}

// Error logs at error level, or at debug level when quiet.
func (l quietLogger) Error(msg string, tags ...tag.Tag) {
	if l.quiet(tags) {
		l.Logger.Debug(msg, tags...)
		return
	}
	l.Logger.Error(msg, tags...)
}

// DPanic logs at dpanic level (an error that panics in development builds), or at debug
// level when quiet.
func (l quietLogger) DPanic(msg string, tags ...tag.Tag) {
	if l.quiet(tags) {
		l.Logger.Debug(msg, tags...)
		return
	}
	l.Logger.DPanic(msg, tags...)
}

// With returns the logger with tags prepended, as quiet as l.
func (l quietLogger) With(tags ...tag.Tag) log.Logger {
	return quietLogger{Logger: log.With(l.Logger, tags...), starting: l.starting, stopping: l.stopping}
}

// Skip returns the logger recording the caller extraSkip frames further up.
func (l quietLogger) Skip(extraSkip int) log.Logger {
	inner := l.Logger
	if sl, ok := inner.(log.SkipLogger); ok {
		inner = sl.Skip(extraSkip)
	}
	return quietLogger{Logger: inner, starting: l.starting, stopping: l.stopping}
}
