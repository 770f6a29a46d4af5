package pipeline

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Job is one pipeline: a Temporal workflow, the activities it runs, its input, the assets
// it materializes and its default schedules. Declared once; worker registration, `curio
// run`, the asset graph, backfills, schedules and the asset API are derived from it.
type Job struct {
	// Name is the workflow type name: what `curio run NAME`, the Temporal UI and
	// schedules start.
	Name        string
	Description string
	// Input returns a new input value holding the defaults: a pointer to the job's input
	// struct. `{}` decodes into it unchanged; unknown fields are refused.
	Input func() any
	// Workflow is the workflow function, registered under Name.
	Workflow any
	// Activities returns the job's activities (structs whose exported methods are
	// activities, or functions), built from the worker's resources. Nil for a job that
	// uses activities registered elsewhere.
	Activities func(Resources) []any
	Assets     []Asset
	Schedules  []Schedule
	// Sensors start this job when something outside the asset graph happens.
	Sensors []Sensor
	// Pools are the concurrency pools each run of the job holds a slot of while it runs.
	Pools []Pool
	// Internal jobs are started by other workflows, not by users (hidden by `curio run
	// --list`).
	Internal bool
}

// Schedule starts a job on a cron, as a Temporal Schedule.
type Schedule struct {
	ID   string // unique across all jobs; the Temporal Schedule id
	Cron string // UTC cron expression, e.g. "5 * * * *"
	// Input is the job's input (marshalled to JSON); nil runs it with `{}`.
	Input any
	// Overlap: skip (default), buffer_one, buffer_all, cancel_other, terminate_other or
	// allow_all.
	Overlap       string
	Jitter        time.Duration
	CatchupWindow time.Duration // how far back missed runs are caught up after an outage
	Paused        bool
}

// Resources are what the platform hands a job's activities on every worker.
type Resources struct {
	// Warehouse is the PostgreSQL warehouse: raw_events, the cleaned catalog, aggregates.
	Warehouse *pgxpool.Pool
	Logger    *slog.Logger
}
