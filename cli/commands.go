package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/app"
	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/devstack"
	"github.com/curiodata/curio/internal/drain"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/temporaldev"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

func cmdDev(ctx context.Context, cfg config.Config, logger *slog.Logger, jobs []pipeline.Job, stdout io.Writer) error {
	logger.Info("starting curio dev", "data_dir", cfg.DataDir)
	stack, err := devstack.Start(ctx, cfg, logger, devstack.Options{Jobs: jobs})
	if err != nil {
		if ctx.Err() != nil {
			// Ctrl-C while starting: Start has stopped what it started.
			logger.Info("curio dev stopped while starting", "err", err)
			return nil
		}
		return err
	}
	// bg is the catalog pipeline run and the event generator; they end with ctx, before the
	// stack stops (so nothing uses Kafka, Temporal or the databases as they go away).
	bg := make(chan struct{})
	defer func() {
		start := time.Now()
		logger.Info("stopping curio dev", "grace", cfg.ShutdownGrace)
		select {
		case <-bg:
		case <-time.After(cfg.ShutdownGrace):
			logger.Warn("the pipeline starter or the event generator did not stop within the grace; stopping anyway")
		}
		stack.Close()
		logger.Info("curio dev stopped", "took", time.Since(start).Round(time.Millisecond))
	}()
	if err := devstack.WriteEndpoints(cfg.DataDir, stack.Endpoints()); err != nil {
		logger.Warn("could not record endpoints for other curio commands", "err", err)
	}
	fmt.Fprintf(stdout, "\nCurio is running.\n  Web app:      %s/\n  API:          %s/api/search?q=harbor\n", stack.APIURL, stack.APIURL)
	if stack.TemporalUIURL != "" {
		fmt.Fprintf(stdout, "  Temporal UI:  %s/namespaces/%s/workflows\n", stack.TemporalUIURL, cfg.TemporalNamespace)
	}
	e := stack.Endpoints()
	fmt.Fprintf(stdout, "  Temporal:     %s (namespace %s, task queue %s)\n  Kafka:        %s\n  PostgreSQL:   %s\n  MySQL:        %s\n\nPress Ctrl-C to stop.\n\n",
		e.TemporalHostPort, cfg.TemporalNamespace, cfg.TaskQueue, strings.Join(e.KafkaBrokers, ","), redact(e.PostgresDSN), redact(e.MySQLDSN))
	if !cfg.RunPipeline {
		close(bg)
	} else {
		go func() {
			defer close(bg)
			wctx, cancel := lingerContext(ctx, startLinger)
			defer cancel()
			id := "catalog-pipeline-dev-" + time.Now().UTC().Format("20060102T150405Z")
			run, err := stack.RunCatalogPipeline(wctx, id, workflows.CatalogPipelineInput{
				Demo:   catalogjob.ImportDemoInput{Movies: cfg.DemoMovies, Artworks: cfg.DemoArtworks},
				Shards: cfg.IndexShards,
			})
			if err != nil {
				if ctx.Err() == nil {
					logger.Error("could not start the catalog pipeline", "err", err)
				}
				return
			}
			logger.Info("catalog pipeline started", "workflow_id", run.GetID(), "run_id", run.GetRunID())
			var res workflows.CatalogPipelineResult
			if err := run.Get(ctx, &res); err != nil {
				if ctx.Err() == nil {
					logger.Error("catalog pipeline failed", "workflow_id", run.GetID(), "err", err)
				}
				return
			}
			logger.Info("catalog pipeline finished", "version", res.Version, "docs", res.Docs, "shards", res.Shards, "shards_by_worker", res.ShardsByWorker)
			// The models the web app shows, once, so every page has data without waiting for
			// the nightly schedules: the automation's eager policies start them for the new
			// catalog version; without automation, started here.
			models := map[string]any{workflows.BuildSimilarityName: workflows.BuildSimilarityInput{}, workflows.BuildTopicsName: workflows.BuildTopicsInput{}}
			if cfg.Automation {
				logger.Info("the automation refreshes model.similar and model.topics for this catalog version")
				models = nil
			}
			for name, in := range models {
				id := strings.ToLower(name) + "-dev-" + time.Now().UTC().Format("20060102T150405Z")
				if _, err := stack.Temporal.ExecuteWorkflow(wctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, name, in); err != nil && ctx.Err() == nil {
					logger.Error("could not start "+name, "err", err)
				}
			}
			if cfg.EventRate > 0 {
				runDevGenerator(ctx, cfg, stack, logger)
			}
		}()
	}
	wctx, cancel := lingerContext(ctx, startLinger)
	defer cancel()
	if sc, err := schedules.FromDefinitions(stack.Definitions); err != nil {
		logger.Error("schedules config", "err", err)
	} else if res, err := schedules.ApplyWithRetry(wctx, stack.Temporal, sc, cfg.TaskQueue, schedules.RetryOptions{Logger: logger}); err != nil {
		if ctx.Err() == nil { // not a Ctrl-C while applying
			logger.Error("could not apply schedules", "err", err)
		}
	} else {
		logger.Info("schedules applied", "count", len(res))
	}
	if ctx.Err() == nil {
		if _, err := stack.StartIngest(wctx, workflows.IngestEventsInput{}); err != nil && ctx.Err() == nil {
			logger.Error("could not start event ingestion", "err", err)
		}
	}
	<-ctx.Done()
	return nil
}

// startLinger is how long a request to Temporal that `curio dev` makes as it starts things
// (schedules, the ingest supervisor, the catalog pipeline) may go on after Ctrl-C.
const startLinger = 2 * time.Second

// lingerContext returns a context for requests that write to Temporal: Ctrl-C (ctx done)
// does not cut one in flight, since the server logs a write its client cancelled as an
// error ("Persistent store operation Failure ... context canceled"), but ends it, and any
// retries, linger after.
func lingerContext(ctx context.Context, linger time.Duration) (context.Context, context.CancelFunc) {
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(linger, cancel) })
	return lctx, func() { stop(); cancel() }
}

// runDevGenerator keeps the demo alive with a gentle stream of simulated user events.
func runDevGenerator(ctx context.Context, cfg config.Config, stack *devstack.Stack, logger *slog.Logger) {
	g, err := newGenerator(ctx, stack.PG, 500, uint64(time.Now().UnixNano()))
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("event generator not started", "err", err)
		}
		return
	}
	p, err := ingest.NewProducer(stack.KafkaBrokers, "curio-dev-generator")
	if err != nil {
		logger.Warn("event generator not started", "err", err)
		return
	}
	defer p.Close()
	logger.Info("simulating user activity", "events_per_second", cfg.EventRate)
	if _, err := ingest.Generate(ctx, p, g, ingest.GenerateOptions{Rate: cfg.EventRate}); err != nil && ctx.Err() == nil {
		logger.Warn("event generator stopped", "err", err)
	}
}

// redact hides the passwords in a DSN of any form Curio accepts (see config.RedactDSN), so
// DSNs can be printed and logged.
func redact(dsn string) string { return config.RedactDSN(dsn) }

// endpoints fills unset service addresses from the file a running `curio dev` wrote, so
// `curio import`, `curio run` and friends work next to it without any configuration.
func endpoints(cfg config.Config) devstack.Endpoints {
	e, _ := devstack.ReadEndpoints(cfg.DataDir)
	if cfg.PostgresDSN != "" {
		e.PostgresDSN = cfg.PostgresDSN
	}
	if cfg.MySQLDSN != "" {
		e.MySQLDSN = cfg.MySQLDSN
	}
	if len(cfg.KafkaBrokers) > 0 {
		e.KafkaBrokers = cfg.KafkaBrokers
	}
	switch {
	case cfg.TemporalHostPort != "":
		e.TemporalHostPort = cfg.TemporalHostPort
	case e.TemporalHostPort == "":
		e.TemporalHostPort = cfg.TemporalAddr
	}
	if cfg.TemporalUIURL != "" {
		e.TemporalUIURL = cfg.TemporalUIURL
	}
	return e
}

func openStores(ctx context.Context, e devstack.Endpoints, needMySQL bool) (*postgres.Store, *mysql.Store, error) {
	if e.PostgresDSN == "" {
		return nil, nil, errors.New("CURIO_POSTGRES_DSN is not set and no `curio dev` is running with this CURIO_DATA_DIR")
	}
	pg, err := postgres.Open(ctx, e.PostgresDSN)
	if err != nil {
		return nil, nil, err
	}
	if !needMySQL {
		return pg, nil, nil
	}
	if e.MySQLDSN == "" {
		pg.Close()
		return nil, nil, errors.New("CURIO_MYSQL_DSN is not set and no `curio dev` is running with this CURIO_DATA_DIR")
	}
	my, err := mysql.Open(ctx, e.MySQLDSN)
	if err != nil {
		pg.Close()
		return nil, nil, err
	}
	return pg, my, nil
}

func dialTemporal(ctx context.Context, cfg config.Config, e devstack.Endpoints, logger *slog.Logger) (client.Client, error) {
	return dialOptions(ctx, temporalOptions(cfg, e, logger))
}

// temporalOptions are the client options every command dials Temporal with.
func temporalOptions(cfg config.Config, e devstack.Endpoints, logger *slog.Logger) client.Options {
	return client.Options{HostPort: e.TemporalHostPort, Namespace: cfg.TemporalNamespace,
		Logger: sdklog.NewStructuredLogger(logger.With("component", "temporal-client"))}
}

// dialOptions dials Temporal, retrying for up to 30 s.
func dialOptions(ctx context.Context, opts client.Options) (client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return temporaldev.DialRetry(dctx, opts)
}

func cmdMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	pg, my, err := openStores(ctx, endpoints(cfg), true)
	if err != nil {
		return err
	}
	defer pg.Close()
	defer my.Close()
	n, err := pg.Migrate(ctx)
	if err != nil {
		return err
	}
	m, err := my.Migrate(ctx)
	if err != nil {
		return err
	}
	logger.Info("migrations applied", "postgres", n, "mysql", m)
	return nil
}

func cmdWorker(ctx context.Context, cfg config.Config, logger *slog.Logger, defs *pipeline.Definitions, args []string) error {
	flags, pos, err := splitFlags(args, flagSet{Values: []string{"identity", "queue"}})
	if err != nil || len(pos) > 0 {
		return usageError("usage: curio worker [--identity NAME] [--queue QUEUE]", err)
	}
	host, _ := os.Hostname()
	id := flags["identity"]
	if id == "" {
		id = fmt.Sprintf("curio-worker-%d@%s", os.Getpid(), host)
	}
	queue := cfg.TaskQueue
	if q := flags["queue"]; q != "" {
		queue = q
	}
	e := endpoints(cfg)
	pg, my, err := openStores(ctx, e, true)
	if err != nil {
		return err
	}
	defer pg.Close()
	defer my.Close()
	fetcher, err := app.NewFetcher(cfg)
	if err != nil {
		return err
	}
	parts := app.WorkerParts{Identity: id, TaskQueue: queue, KafkaBrokers: e.KafkaBrokers, Fetcher: fetcher}
	if len(e.KafkaBrokers) > 0 {
		n, err := kafka.NewNotifier(e.KafkaBrokers)
		if err != nil {
			logger.Warn("kafka unavailable; published versions will be picked up by API polling", "err", err)
		} else {
			defer n.Close()
			parts.Notifier = n
		}
	}
	// The drain makes the stop clean: activities cut at the end of the grace fail as
	// retryable WorkerStopped (logged at info, not as an "Activity error."), and their
	// results reach Temporal before the client closes, so another worker retries them at
	// once rather than after their heartbeat or start-to-close timeouts.
	d := drain.New(logger)
	// ClientOptions puts the drain's quietened logger in place of the usual one.
	c, err := dialOptions(ctx, d.ClientOptions(temporalOptions(cfg, e, logger), logger.With("component", "temporal-client")))
	if err != nil {
		return err
	}
	closeClient := sync.OnceFunc(c.Close)
	defer closeClient()
	var health healthState
	if err := serveHealth(ctx, cfg.HealthAddr, "worker", &health, logger); err != nil {
		return err
	}
	if cfg.HealthAddr != "" {
		// Ready while Temporal and the warehouse answer.
		go func() {
			for t := time.NewTicker(10 * time.Second); ctx.Err() == nil; <-t.C {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, terr := c.CheckHealth(cctx, &client.CheckHealthRequest{})
				health.set(errors.Join(terr, pg.Ping(cctx)))
				cancel()
			}
		}()
	}
	w := app.NewWorker(c, cfg, app.Stores{PG: pg, MySQL: my}, defs, logger, parts)
	logger.Info("worker running", "identity", id, "task_queue", queue, "temporal", e.TemporalHostPort)
	// Run returns when the interrupt channel fires (SIGTERM or SIGINT), once Stop has
	// drained the in-flight activities for up to the shutdown grace and cancelled the rest;
	// or on a fatal error of the worker.
	stopCh, runDone, stopped := make(chan any), make(chan struct{}), make(chan time.Time, 1)
	go func() {
		select {
		case <-ctx.Done():
		case <-runDone: // a fatal error of the worker
			return
		}
		stopped <- time.Now()
		d.Stopping()
		logger.Info("stopping the worker: no new tasks, draining in-flight activities", "grace", cfg.ShutdownGrace)
		close(stopCh)
	}()
	runErr := w.Run(stopCh)
	close(runDone)
	stopAt := time.Now()
	select {
	case stopAt = <-stopped:
	default:
	}
	// Activities cut at the end of the grace report their failure after Stop returns: let
	// those reports reach Temporal before the client closes.
	logger.Info("worker drained; waiting for the results of cancelled activities to reach Temporal")
	if n := d.Wait(context.Background(), min(drain.ReportWait, cfg.ShutdownGrace)); n > 0 {
		logger.Warn("activities still running after the grace are abandoned; Temporal retries them after their timeouts", "activities", n)
	}
	logger.Info("closing the Temporal client")
	closeClient()
	logger.Info("worker stopped", "took", time.Since(stopAt).Round(time.Millisecond))
	return runErr
}

func cmdAPI(ctx context.Context, cfg config.Config, logger *slog.Logger, defs *pipeline.Definitions) error {
	e := endpoints(cfg)
	pg, my, err := openStores(ctx, e, true)
	if err != nil {
		return err
	}
	defer pg.Close()
	defer my.Close()
	holder := serving.NewHolder(my, logger)
	go holder.Run(ctx, cfg.ReloadEvery)
	if len(e.KafkaBrokers) > 0 {
		go kafka.WatchVersions(ctx, e.KafkaBrokers, logger, func(string) { holder.Trigger() })
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on CURIO_HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	parts := app.APIParts{Index: holder, KafkaBrokers: e.KafkaBrokers, TemporalUIURL: e.TemporalUIURL}
	if cfg.AdminToken != "" {
		// Lazy: the API serves searches even while Temporal is unreachable (and stays ready:
		// readiness is about serving searches, so it does not include Temporal here).
		tc, err := client.NewLazyClient(client.Options{HostPort: e.TemporalHostPort, Namespace: cfg.TemporalNamespace,
			Logger: sdklog.NewStructuredLogger(logger.With("component", "temporal-client"))})
		if err != nil {
			return fmt.Errorf("temporal client for the admin API: %w", err)
		}
		defer tc.Close()
		parts.Temporal = tc
	} else {
		logger.Info("admin endpoints disabled: CURIO_ADMIN_TOKEN is not set")
	}
	srv := app.NewAPI(cfg, app.Stores{PG: pg, MySQL: my}, defs, logger, parts)
	go func() {
		<-ctx.Done()
		app.Shutdown(srv, cfg)
	}()
	logger.Info("api listening", "url", "http://"+ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api server: %w", err)
	}
	return nil
}

func cmdRun(ctx context.Context, cfg config.Config, logger *slog.Logger, defs *pipeline.Definitions, args []string, stdout io.Writer) error {
	flags, pos, err := splitFlags(args, flagSet{Values: []string{"id"}, Bools: []string{"no-wait", "list"}})
	if err == nil && flags["list"] == "true" && len(pos) == 0 {
		listJobs(defs, stdout)
		return nil
	}
	if err != nil || len(pos) < 1 || len(pos) > 2 {
		return usageError("usage: curio run WORKFLOW [JSON] [--id ID] [--no-wait] | curio run --list", err)
	}
	name, input := pos[0], json.RawMessage("{}")
	if len(pos) == 2 {
		if !json.Valid([]byte(pos[1])) {
			return fmt.Errorf("workflow input is not valid JSON: %s", pos[1])
		}
		input = json.RawMessage(pos[1])
	}
	in, err := defs.DecodeInput(name, input)
	if err != nil {
		return err
	}
	e := endpoints(cfg)
	c, err := dialTemporal(ctx, cfg, e, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	id := flags["id"]
	if id == "" {
		id = strings.ToLower(name) + "-" + time.Now().UTC().Format("20060102T150405Z")
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue}, name, in)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "started %s workflow_id=%s run_id=%s\n", name, run.GetID(), run.GetRunID())
	if flags["no-wait"] == "true" {
		return nil
	}
	var res json.RawMessage
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("%s %s: %w", name, run.GetID(), err)
	}
	fmt.Fprintf(stdout, "%s\n", res)
	return nil
}

// listJobs prints the jobs a user can start, with their assets and input fields.
func listJobs(defs *pipeline.Definitions, stdout io.Writer) {
	for _, name := range defs.JobNames() {
		j, _ := defs.Job(name)
		fmt.Fprintf(stdout, "%s\n    %s\n", j.Name, j.Description)
		if len(j.Assets) > 0 {
			names := make([]string, len(j.Assets))
			for i, a := range j.Assets {
				names[i] = a.Name
				if a.Partitioning.Partitioned() {
					names[i] += " (" + string(a.Partitioning.Kind) + ")"
				}
			}
			fmt.Fprintf(stdout, "    assets: %s\n", strings.Join(names, ", "))
		}
		for _, s := range j.Schedules {
			fmt.Fprintf(stdout, "    schedule %s: %s\n", s.ID, s.Cron)
		}
		fields := defs.InputFields(name)
		if len(fields) == 0 {
			fmt.Fprintln(stdout, "    input: {}")
		}
		for _, f := range fields {
			def := ""
			if f.Default != "" {
				def = " (default " + f.Default + ")"
			}
			fmt.Fprintf(stdout, "    input field %q: %s%s\n", f.Name, f.Type, def)
		}
	}
}

func cmdImport(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stderr io.Writer) error {
	_, pos, err := splitFlags(args, flagSet{})
	if err != nil || len(pos) < 2 {
		return usageError("usage: curio import movies-csv|imdb-tsv|moma-artists|moma-artworks FILE [RATINGS_FILE]", err)
	}
	in := catalogjob.DatasetInput{Format: pos[0], Paths: pos[1:]}
	if err := in.Validate(); err != nil {
		return err
	}
	pg, _, err := openStores(ctx, endpoints(cfg), false)
	if err != nil {
		return err
	}
	defer pg.Close()
	if _, err := pg.Migrate(ctx); err != nil {
		return err
	}
	id := "cli/" + in.Format + "/" + time.Now().UTC().Format("20060102T150405Z")
	start := time.Now()
	last := time.Time{}
	st, err := catalogjob.LoadDataset(ctx, pg, in, id, 2000, func(st postgres.WriteStats) {
		if time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "\r%s: %d rows loaded, %d failed (%.0f rows/s)", in.Format, st.OK, st.Failed,
				float64(st.OK+st.Failed)/time.Since(start).Seconds())
		}
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	logger.Info("import finished", "dataset", in.Format, "import_id", id, "rows_ok", st.OK, "rows_failed", st.Failed, "took", time.Since(start).Round(time.Millisecond))
	if st.Failed > 0 {
		logger.Warn("some rows did not parse; they are kept in raw_records with the reason", "failed", st.Failed,
			"query", "SELECT line, error FROM raw_records WHERE source = '"+in.Format+"' AND error IS NOT NULL")
	}
	fmt.Fprintln(stderr, "Run `curio run CatalogPipeline '{\"skip_demo\":true}'` to index and publish the imported data.")
	return nil
}
