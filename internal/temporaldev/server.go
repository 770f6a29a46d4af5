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
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Options configure an embedded server.
type Options struct {
	// Addr is the frontend gRPC address, host:port. Port 0 picks a free port.
	Addr string
	// DatabaseFile persists history across restarts. Empty means in-memory.
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
}

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
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	} else if err := checkFree(host, port); err != nil {
		return nil, fmt.Errorf("temporal frontend address %s:%d is in use (set CURIO_TEMPORAL_ADDR to another port, or CURIO_TEMPORAL_HOSTPORT to use that server): %w", host, port, err)
	}

	sqlCfg := config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      opts.DatabaseFile,
	}
	if opts.DatabaseFile == "" { // the plugin creates the schema of an in-memory database itself
		sqlCfg.ConnectAttributes["mode"] = "memory"
		sqlCfg.ConnectAttributes["cache"] = "shared"
		sqlCfg.DatabaseName = fmt.Sprintf("curio-%d", time.Now().UnixNano())
	} else {
		sqlCfg.ConnectAttributes["mode"] = "rwc"
		sqlCfg.ConnectAttributes["_journal_mode"] = "wal"
		sqlCfg.ConnectAttributes["_synchronous"] = "2"
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return nil, fmt.Errorf("temporal data dir: %w", err)
		}
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := sqlite.SetupSchema(&sqlCfg); err != nil {
				return nil, fmt.Errorf("temporal sqlite schema: %w", err)
			}
		}
	}

	cfg, err := buildConfig(host, port, sqlCfg)
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

	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: opts.LogLevel, Format: "json"}))
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
	return &Server{srv: srv, hostPort: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// HostPort is the frontend gRPC address clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// Dial returns a client for namespace, retrying until the frontend answers or ctx ends.
func (s *Server) Dial(ctx context.Context, namespace string) (client.Client, error) {
	return DialRetry(ctx, client.Options{HostPort: s.hostPort, Namespace: namespace})
}

// Stop stops all services.
func (s *Server) Stop() error {
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

func buildConfig(host string, port int, sqlCfg config.SQL) (*config.Config, error) {
	cfg := &config.Config{}
	ports := make([]int, 0, 8)
	for range 8 {
		p, err := freePort(host)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	svc := func(grpc, membership int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpc, MembershipPort: membership, BindOnIP: host}}
	}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: host}
	cfg.Global.Metrics = &metrics.Config{Prometheus: &metrics.PrometheusConfig{
		ListenAddress: net.JoinHostPort(host, strconv.Itoa(ports[7])),
		HandlerPath:   "/metrics",
	}}
	cfg.Persistence = config.Persistence{
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: &sqlCfg}},
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
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
		"frontend": svc(port, ports[0]),
		"history":  svc(ports[1], ports[2]),
		"matching": svc(ports[3], ports[4]),
		"worker":   svc(ports[5], ports[6]),
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

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func checkFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}
