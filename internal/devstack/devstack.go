// Package devstack assembles the whole Curio platform in one process for `curio dev` and
// end-to-end tests: databases (configured or local throwaway servers), the Temporal server
// and UI (configured cluster or embedded), a Kafka broker (configured or embedded), workers,
// and the API with the web app.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/curiodata/curio/internal/app"
	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/drain"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/internal/localdb"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// Stack is a running platform.
type Stack struct {
	Cfg           config.Config
	Definitions   *pipeline.Definitions // built-in and user jobs
	PG            *postgres.Store
	MySQL         *mysql.Store
	Temporal      client.Client
	Index         *serving.Holder
	APIURL        string
	TemporalUIURL string // empty when the UI is not embedded
	KafkaBrokers  []string

	logger   *slog.Logger
	closers  []closer     // run by Close, phase by phase
	drain    *drain.Drain // the workers' clean stop
	pgDSN    string
	myDSN    string
	hostPort string
}

// phase is one step of Close. Close runs the phases in this order, and within a phase the
// closers in reverse order of registration.
type phase int

const (
	// phaseAccepting stops taking new work: the API's listener closes (its in-flight
	// requests go on) and the background loops end.
	phaseAccepting phase = iota
	// phaseWorkers stops the workers: they poll no more and drain their in-flight tasks
	// for up to CURIO_SHUTDOWN_GRACE, then cancel what is left. Temporal still answers, so
	// results, failures and heartbeats reach it.
	phaseWorkers
	// phaseAPI waits for the API's in-flight requests, then closes the Temporal client.
	phaseAPI
	// phaseTemporal stops the Temporal UI and server, which nothing calls any more.
	phaseTemporal
	// phaseKafka closes the notifier and stops the embedded broker.
	phaseKafka
	// phaseDatabases closes the stores and stops the local database servers.
	phaseDatabases
	numPhases
)

// phaseLog is the line Close logs when a phase begins.
var phaseLog = [numPhases]string{
	phaseAccepting: "stopping new work (API listener, background loops)",
	phaseWorkers:   "stopping workers (draining in-flight activities)",
	phaseAPI:       "stopping the API and the Temporal client",
	phaseTemporal:  "stopping Temporal",
	phaseKafka:     "stopping Kafka",
	phaseDatabases: "stopping databases",
}

// closer is one step of Close.
type closer struct {
	phase phase
	fn    func()
}

// onClose registers fn to run in phase p of Close.
func (s *Stack) onClose(p phase, fn func()) { s.closers = append(s.closers, closer{phase: p, fn: fn}) }

// Options adjust Start for tests.
type Options struct {
	NoUI bool // don't start the Temporal UI
	// Jobs are the user's pipelines, run next to the built-in ones.
	Jobs []pipeline.Job
}

// Start brings the platform up. On error, whatever was started is stopped again.
func Start(ctx context.Context, cfg config.Config, logger *slog.Logger, opts Options) (_ *Stack, err error) {
	defs, err := workflows.Definitions(opts.Jobs...)
	if err != nil {
		return nil, err
	}
	s := &Stack{Cfg: cfg, Definitions: defs, logger: logger, drain: drain.New(logger)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}

	pgDSN, myDSN := cfg.PostgresDSN, cfg.MySQLDSN
	if pgDSN == "" {
		logger.Info("starting a local PostgreSQL", "dir", filepath.Join(cfg.DataDir, "postgres"))
		srv, err := localdb.StartPostgres(ctx, filepath.Join(cfg.DataDir, "postgres"), "curio", logger)
		if err != nil {
			return nil, fmt.Errorf("CURIO_POSTGRES_DSN is unset and a local PostgreSQL could not start: %w", err)
		}
		s.onClose(phaseDatabases, func() { _ = srv.Stop() })
		pgDSN = srv.DSN
	}
	if myDSN == "" {
		logger.Info("starting a local MariaDB", "dir", filepath.Join(cfg.DataDir, "mariadb"))
		srv, err := localdb.StartMariaDB(ctx, filepath.Join(cfg.DataDir, "mariadb"), "curio", logger)
		if err != nil {
			return nil, fmt.Errorf("CURIO_MYSQL_DSN is unset and a local MariaDB/MySQL could not start: %w", err)
		}
		s.onClose(phaseDatabases, func() { _ = srv.Stop() })
		myDSN = srv.DSN
	}
	s.pgDSN, s.myDSN = pgDSN, myDSN
	if s.PG, err = postgres.Open(ctx, pgDSN); err != nil {
		return nil, err
	}
	s.onClose(phaseDatabases, s.PG.Close)
	if s.MySQL, err = mysql.Open(ctx, myDSN); err != nil {
		return nil, err
	}
	s.onClose(phaseDatabases, func() { _ = s.MySQL.Close() })
	if n, err := s.PG.Migrate(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		logger.Info("postgres migrated", "applied", n)
	}
	if n, err := s.MySQL.Migrate(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		logger.Info("mysql migrated", "applied", n)
	}

	s.KafkaBrokers = cfg.KafkaBrokers
	if len(s.KafkaBrokers) == 0 {
		k, err := kafka.StartEmbedded(cfg.KafkaAddr, filepath.Join(cfg.DataDir, "kafka"), 3, ingest.TopicEvents, ingest.TopicDeadLetters)
		if err != nil {
			return nil, err
		}
		s.onClose(phaseKafka, k.Close)
		s.KafkaBrokers = k.Brokers()
	}
	notifier, err := kafka.NewNotifier(s.KafkaBrokers)
	if err != nil {
		return nil, err
	}
	s.onClose(phaseKafka, func() { _ = notifier.Close() })

	hostPort := cfg.TemporalHostPort
	if hostPort == "" {
		ts, err := temporaldev.Start(temporaldev.Options{
			Addr:         cfg.TemporalAddr,
			DatabaseFile: filepath.Join(cfg.DataDir, "temporal.db"),
			Namespaces:   []string{cfg.TemporalNamespace},
			LogLevel:     cfg.TemporalLog,
		})
		if err != nil {
			return nil, err
		}
		s.onClose(phaseTemporal, func() { _ = ts.Stop() })
		hostPort = ts.HostPort()
		if !opts.NoUI {
			ui, err := temporaldev.StartUI(cfg.TemporalUIAddr, hostPort)
			if err != nil {
				return nil, err
			}
			s.onClose(phaseTemporal, ui.Stop)
			s.TemporalUIURL = ui.URL()
		}
	}
	s.hostPort = hostPort
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	// The workers made from this client use the drain too (it is also a worker interceptor).
	s.Temporal, err = temporaldev.DialRetry(dctx, s.drain.ClientOptions(client.Options{
		HostPort: hostPort, Namespace: cfg.TemporalNamespace,
	}, logger.With("component", "temporal-client")))
	if err != nil {
		return nil, err
	}
	s.onClose(phaseAPI, s.Temporal.Close)

	fetcher, err := app.NewFetcher(cfg)
	if err != nil {
		return nil, err
	}
	stores := app.Stores{PG: s.PG, MySQL: s.MySQL}
	host, _ := os.Hostname()
	var workers []sdkworker.Worker
	for i := 1; i <= cfg.Workers; i++ {
		id := fmt.Sprintf("curio-worker-%d@%s", i, host)
		w := app.NewWorker(s.Temporal, cfg, stores, defs, logger,
			app.WorkerParts{Identity: id, KafkaBrokers: s.KafkaBrokers, Fetcher: fetcher, Notifier: notifier})
		if err := w.Start(); err != nil {
			return nil, fmt.Errorf("start worker %s: %w", id, err)
		}
		workers = append(workers, w)
	}
	s.onClose(phaseWorkers, func() {
		// Stop in parallel: each drains its in-flight activities for up to the grace period.
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(w.Stop)
		}
		wg.Wait()
		// A worker whose grace ran out has cancelled its last activities without waiting
		// for them: let their results reach Temporal before the client closes.
		if n := s.drain.Wait(context.Background(), min(drain.ReportWait, cfg.ShutdownGrace)); n > 0 {
			s.logger.Warn("activities still running after the grace are abandoned; Temporal retries them after their timeouts", "activities", n)
		}
	})

	if err := runs.EnsureSearchAttributes(ctx, s.Temporal, cfg.TemporalNamespace); err != nil {
		logger.Warn("runs start without the CurioTrigger search attribute (their trigger stays in the memo)", "err", err)
	}
	if cfg.Automation {
		if _, err := s.StartAutomation(ctx, workflows.AutomationInput{Interval: cfg.AutomationInterval}); err != nil {
			return nil, err
		}
	}

	// Background loops stop with the API's listener, before the workers.
	runCtx, cancel := context.WithCancel(context.Background())
	s.onClose(phaseAccepting, cancel)
	s.Index = serving.NewHolder(s.MySQL, logger)
	go s.Index.Run(runCtx, cfg.ReloadEvery)
	go kafka.WatchVersions(runCtx, s.KafkaBrokers, logger, func(v string) {
		logger.Debug("catalog version announced", "version", v)
		s.Index.Trigger()
	})

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on CURIO_HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	srv := app.NewAPI(cfg, stores, defs, logger, app.APIParts{Index: s.Index, KafkaBrokers: s.KafkaBrokers,
		Temporal: s.Temporal, TemporalUIURL: s.TemporalUIURL, Ready: app.TemporalReady(s.Temporal)})
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	// The listener closes first, so no new request comes in while the workers drain; the
	// requests in flight finish (or are cut at the grace) before the Temporal client they
	// may use closes.
	apiStopped := make(chan struct{})
	s.onClose(phaseAccepting, func() {
		go func() { defer close(apiStopped); app.Shutdown(srv, cfg) }()
	})
	s.onClose(phaseAPI, func() { <-apiStopped })
	s.APIURL = "http://" + ln.Addr().String()
	return s, nil
}

// RunCatalogPipeline starts CatalogPipeline with in and returns its workflow run.
func (s *Stack) RunCatalogPipeline(ctx context.Context, id string, in workflows.CatalogPipelineInput) (client.WorkflowRun, error) {
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.Cfg.TaskQueue}, workflows.CatalogPipelineName, in)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", workflows.CatalogPipelineName, err)
	}
	return run, nil
}

// IngestWorkflowID is the id of the always-running IngestEvents supervisor.
const IngestWorkflowID = "curio-ingest"

// StartIngest starts the IngestEvents supervisor unless it is already running.
func (s *Stack) StartIngest(ctx context.Context, in workflows.IngestEventsInput) (client.WorkflowRun, error) {
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: IngestWorkflowID, TaskQueue: s.Cfg.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.IngestEventsName, in)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", workflows.IngestEventsName, err)
	}
	return run, nil
}

// StartAutomation starts the automation workflow unless it is already running.
func (s *Stack) StartAutomation(ctx context.Context, in workflows.AutomationInput) (client.WorkflowRun, error) {
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.AutomationWorkflowID, TaskQueue: s.Cfg.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Memo:                     map[string]any{pipeline.TriggerMemo: "platform:curio-dev"},
	}, workflows.AutomationName, in)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", workflows.AutomationName, err)
	}
	return run, nil
}

// Close stops everything Start started, in order: new work stops (the API's listener,
// background loops), the workers drain, the API's last requests end and the Temporal
// client closes, then the Temporal server, Kafka and the databases stop. It logs one line
// per phase and takes about CURIO_SHUTDOWN_GRACE at most (the workers' drain). It is safe to
// call twice.
func (s *Stack) Close() {
	s.drain.Stopping()
	for p := range numPhases {
		logged := false
		for i := len(s.closers) - 1; i >= 0; i-- {
			if c := s.closers[i]; c.phase == p {
				if !logged {
					s.logger.Info(phaseLog[p])
					logged = true
				}
				c.fn()
			}
		}
	}
	s.closers = nil
}
