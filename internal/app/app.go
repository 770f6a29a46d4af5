// Package app is the one application wiring of Curio's processes: how a worker's
// activities and Temporal worker, and the API server, are built from the configuration,
// the stores and the definitions. `curio dev` (internal/devstack), `curio worker`, `curio
// api` (package cli) and the end-to-end tests all build their parts here, so they cannot
// drift apart.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/alerting"
	"github.com/curiodata/curio/activities/automationjob"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/activities/eventjobs"
	"github.com/curiodata/curio/activities/ingestjob"
	"github.com/curiodata/curio/activities/similarity"
	"github.com/curiodata/curio/activities/termsjob"
	"github.com/curiodata/curio/activities/topicmodel"
	"github.com/curiodata/curio/api"
	"github.com/curiodata/curio/frontend"
	"github.com/curiodata/curio/internal/automation"
	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/scrapers"
	"github.com/curiodata/curio/worker"
)

// Stores are the databases a process uses.
type Stores struct {
	PG    *postgres.Store
	MySQL *mysql.Store
}

// NewFetcher is the crawler every worker shares, configured by cfg.
func NewFetcher(cfg config.Config) (*scrapers.Fetcher, error) {
	f, err := scrapers.NewFetcher(scrapers.Options{UserAgent: cfg.ScrapeUserAgent, Delay: cfg.ScrapeDelay, Parallelism: cfg.ScrapeParallel})
	if err != nil {
		return nil, fmt.Errorf("crawler: %w", err)
	}
	return f, nil
}

// WorkerParts are what one worker identity needs beyond the configuration.
type WorkerParts struct {
	Identity     string
	TaskQueue    string // default cfg.TaskQueue
	KafkaBrokers []string
	Fetcher      *scrapers.Fetcher
	Notifier     activities.VersionNotifier // optional
	// Temporal and Definitions are the worker's client and jobs (NewWorker fills them in):
	// the automation activities start runs through them.
	Temporal    client.Client
	Definitions *pipeline.Definitions
}

// NewWorker builds one worker's activities and its Temporal worker (not started), with
// every job of defs registered.
func NewWorker(c client.Client, cfg config.Config, st Stores, defs *pipeline.Definitions, logger *slog.Logger, p WorkerParts) sdkworker.Worker {
	acts := &activities.Activities{PG: st.PG, Logger: logger.With("worker", p.Identity), Identity: p.Identity, Assets: defs}
	queue := p.TaskQueue
	if queue == "" {
		queue = cfg.TaskQueue
	}
	p.Temporal, p.Definitions, p.TaskQueue = c, defs, queue
	return worker.New(c, acts, defs, worker.Options{TaskQueue: queue, Identity: p.Identity, MaxActivities: cfg.WorkerSlots,
		StopTimeout: cfg.ShutdownGrace}, Slices(cfg, st, acts.Logger, p)...)
}

// Slices builds the activity structs of the pipelines that have their own package under
// activities/, each holding only the stores it needs. One line per pipeline.
func Slices(cfg config.Config, st Stores, logger *slog.Logger, p WorkerParts) []any {
	identity := p.Identity
	return []any{
		&catalogjob.Activities{Store: st.PG, Serving: st.MySQL, Notifier: p.Notifier, Fetcher: p.Fetcher, Logger: logger, Identity: identity},
		&ingestjob.Activities{Store: st.PG.EventPartitions(), Ingest: st.PG.Pool(), KafkaBrokers: p.KafkaBrokers,
			EventPolicy: &events.TimePolicy{MaxFuture: cfg.EventMaxFuture, MaxAge: cfg.EventMaxAge}, Logger: logger},
		&eventjobs.Activities{Store: st.PG.EventJobs(), Publisher: st.MySQL, Logger: logger, Identity: identity},
		&topicmodel.Activities{Store: st.PG.Topics(), Catalog: st.PG, Publisher: st.MySQL, Logger: logger, Identity: identity},
		&similarity.Activities{Store: st.PG.Similarity(), Catalog: st.PG, Publisher: st.MySQL, Logger: logger, Identity: identity},
		&termsjob.Activities{Store: st.PG.Terms()},
		&automationjob.Activities{Evaluator: &automation.Evaluator{Defs: p.Definitions, Assets: st.PG, Store: st.PG.Automation(),
			Temporal: p.Temporal, TaskQueue: p.TaskQueue, Logger: logger.With("component", "automation"),
			Env: pipeline.SensorEnv{Resources: pipeline.Resources{Warehouse: st.PG.Pool(), Logger: logger},
				Runs: &runs.Lister{Client: p.Temporal}, KafkaBrokers: p.KafkaBrokers}}},
		&alerting.Activities{Alerts: st.PG.Alerts(), Assets: st.PG, Defs: p.Definitions, Runs: &runs.Lister{Client: p.Temporal},
			Webhooks: cfg.AlertWebhooks, Secret: []byte(cfg.AlertHMACSecret), DeadLetterSpike: cfg.AlertDeadLetterSpike,
			TemporalUIURL: cfg.TemporalUIURL, Namespace: cfg.TemporalNamespace, Logger: logger.With("component", "alerts")},
	}
}

// APIParts are what the API needs beyond the configuration and the stores.
type APIParts struct {
	Index        *serving.Holder
	KafkaBrokers []string
	// Temporal starts admin runs; nil (or no CURIO_ADMIN_TOKEN) disables the admin endpoints.
	Temporal          client.Client
	TemporalUIURL     string
	TemporalNamespace string
	// Ready adds checks to the databases' pings in /readyz (e.g. Temporal's health); nil: none.
	Ready func(ctx context.Context) error
}

// NewAPI builds the API and web app server (not listening) with the limits of cfg.
func NewAPI(cfg config.Config, st Stores, defs *pipeline.Definitions, logger *slog.Logger, p APIParts) *http.Server {
	var admin *api.Admin
	if cfg.AdminToken != "" && p.Temporal != nil {
		admin = &api.Admin{Token: cfg.AdminToken, Temporal: p.Temporal, TaskQueue: cfg.TaskQueue, MaxBackfillPartitions: cfg.BackfillMaxPartitions}
	}
	var runList api.RunLister // nil without Temporal: /api/runs answers 503
	if p.Temporal != nil {
		runList = &runs.Lister{Client: p.Temporal}
	}
	limits := api.LimitsFrom(cfg.SearchRate, cfg.SearchBurst, cfg.HTTPTimeout, cfg.HTTPMaxBody, cfg.TrustedProxies)
	return api.NewServer(api.New(api.Deps{
		Items: st.MySQL, Index: p.Index, Models: st.MySQL, Assets: st.PG, Definitions: defs, ShardStats: st.PG,
		Activity: ingest.NewReader(st.PG.Pool()).WithLag(ingest.LagOptions{Brokers: p.KafkaBrokers, StuckAfter: cfg.IngestStuckAfter}),
		Static:   frontend.FS(), TemporalUIURL: p.TemporalUIURL, TemporalNamespace: cfg.TemporalNamespace, Logger: logger,
		Admin: admin, Limits: limits, AssetHistory: st.PG, Runs: runList, Pools: &pools.Monitor{Definitions: defs, Store: st.PG.Pools()},
		Ready: func(ctx context.Context) error {
			err := errors.Join(st.PG.Ping(ctx), st.MySQL.Ping(ctx))
			if p.Ready != nil {
				err = errors.Join(err, p.Ready(ctx))
			}
			return err
		},
	}), limits)
}

// Shutdown stops srv, letting in-flight requests finish for up to CURIO_SHUTDOWN_GRACE.
func Shutdown(srv *http.Server, cfg config.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// TemporalReady is an APIParts.Ready check that Temporal answers.
func TemporalReady(c client.Client) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal: %w", err)
		}
		return nil
	}
}
