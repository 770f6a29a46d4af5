package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Every run Curio starts carries why: a memo field and a search attribute (Keyword) with
// the trigger, e.g. "eager:catalog.items@v3", "sensor:new-files:/in/a.csv",
// "schedule:similarity-nightly", "manual:web", "manual:cli".
const (
	TriggerMemo            = "trigger"
	TriggerSearchAttribute = "CurioTrigger"
)

// PolicyKind names a declarative automation policy.
type PolicyKind string

// Automation policies an asset may declare (Asset.Automation). The automation workflow
// evaluates them; each run it starts carries its reason (the trigger) as a memo and the
// CurioTrigger search attribute.
const (
	// Eager: materialize when an upstream gets a new successful materialization, once the
	// upstream has been quiet for Debounce; at most one run in flight per partition, and
	// one run per upstream version.
	Eager PolicyKind = "eager"
	// OnCron: materialize at each tick of Cron (UTC, five fields).
	OnCron PolicyKind = "on_cron"
	// Missing: materialize the missing partitions whose time falls inside Lookback (the
	// static keys of a static partitioning; the one partition of an unpartitioned asset).
	Missing PolicyKind = "missing"
	// Freshness: materialize when the last success is older than the asset's Freshness.
	Freshness PolicyKind = "freshness"
)

// Policy is one automation policy of an asset.
type Policy struct {
	Kind     PolicyKind
	Debounce time.Duration // Eager
	Cron     string        // OnCron
	Lookback time.Duration // Missing, time partitions only
	// MaxRuns caps the runs one evaluation starts for this policy (Missing); 0: 4.
	MaxRuns int
}

// EagerPolicy materializes an asset when an upstream changes, after debounce of quiet.
func EagerPolicy(debounce time.Duration) Policy { return Policy{Kind: Eager, Debounce: debounce} }

// CronPolicy materializes an asset at each tick of cron (UTC).
func CronPolicy(cron string) Policy { return Policy{Kind: OnCron, Cron: cron} }

// MissingPolicy fills the asset's missing partitions inside lookback.
func MissingPolicy(lookback time.Duration) Policy { return Policy{Kind: Missing, Lookback: lookback} }

// FreshnessPolicy materializes the asset when it is overdue (Asset.Freshness).
func FreshnessPolicy() Policy { return Policy{Kind: Freshness} }

// Pool is a concurrency pool shared across jobs: at most Limit runs of the jobs that
// name it run at once, however they were started (UI, schedule, CLI, API, automation).
// Every job naming a pool must give it the same limit.
type Pool struct {
	Name  string
	Limit int
}

// Sensor starts the job that declares it (Job.Sensors) when something outside the asset
// graph happens: a file appears, an object changes, a topic fills up, another job fails.
// The automation workflow evaluates it every Interval and records each tick (evaluated,
// skipped with a reason, or fired with the runs it started).
type Sensor struct {
	Name        string // unique across all jobs
	Description string
	// Interval is the least time between two evaluations; 0: 30 s.
	Interval time.Duration
	Evaluate SensorFunc
}

// DefaultSensorInterval is a sensor's interval when it declares none.
const DefaultSensorInterval = 30 * time.Second

// SensorFunc evaluates a sensor. cursor is what the previous evaluation returned as
// SensorResult.Cursor ("" the first time); the platform stores it durably.
type SensorFunc func(ctx context.Context, env SensorEnv, cursor string) (SensorResult, error)

// SensorEnv is what a sensor may use: the worker's resources, Temporal's record of runs
// and the Kafka brokers.
type SensorEnv struct {
	Resources
	Runs         RunLister
	KafkaBrokers []string
	Now          time.Time
}

// RunLister lists finished runs of a job (Temporal's visibility in production).
type RunLister interface {
	// ClosedRuns returns the job's runs that closed after since, oldest first, at most
	// limit of them.
	ClosedRuns(ctx context.Context, job string, since time.Time, limit int) ([]RunInfo, error)
}

// Run statuses as RunInfo reports them.
const (
	RunCompleted  = "Completed"
	RunFailed     = "Failed"
	RunTimedOut   = "TimedOut"
	RunTerminated = "Terminated"
	RunCanceled   = "Canceled"
)

// RunInfo is one closed run of a job.
type RunInfo struct {
	Job        string    `json:"job"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	Status     string    `json:"status"` // one of the Run* constants
	ClosedAt   time.Time `json:"closed_at"`
}

// SensorResult is what one evaluation found.
type SensorResult struct {
	// Runs to start. Each Key starts at most one run, ever: a file path, an object's
	// ETag, a failed run's id.
	Runs []RunRequest
	// Cursor is handed to the next evaluation; "" keeps the previous one.
	Cursor string
	// Skip says why nothing fired (recorded on the tick); optional.
	Skip string
}

// RunRequest asks for one run of the sensor's job.
type RunRequest struct {
	Key    string
	Input  any    // the job's input (JSON-encoded and decoded strictly); nil: defaults
	Reason string // shown with the trigger; optional
}

func checkAutomation(a Asset) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("asset %s: "+format, append([]any{a.Name}, args...)...))
	}
	seen := map[PolicyKind]bool{}
	for _, p := range a.Automation {
		if seen[p.Kind] {
			bad("automation policy %q declared twice", p.Kind)
		}
		seen[p.Kind] = true
		switch p.Kind {
		case Eager:
			if len(a.Upstreams) == 0 {
				bad("eager automation needs an upstream")
			}
			if p.Debounce < 0 {
				bad("eager debounce %s is negative", p.Debounce)
			}
		case OnCron:
			if _, err := ParseCron(p.Cron); err != nil {
				bad("on_cron: %v", err)
			}
		case Missing:
			if a.Partitioning.TimeBased() && p.Lookback <= 0 {
				bad("missing automation on time partitions needs a positive lookback")
			}
			if p.MaxRuns < 0 {
				bad("missing automation: max runs %d is negative", p.MaxRuns)
			}
		case Freshness:
			if a.Freshness <= 0 {
				bad("freshness automation needs Freshness set")
			}
		default:
			bad("unknown automation policy %q", p.Kind)
		}
	}
	return errs
}

func checkSensors(j Job, names map[string]string) []error {
	var errs []error
	for _, s := range j.Sensors {
		switch {
		case s.Name == "":
			errs = append(errs, fmt.Errorf("job %s: a sensor has no name", j.Name))
		case names[s.Name] != "":
			errs = append(errs, fmt.Errorf("sensor %s: declared by %s and %s", s.Name, names[s.Name], j.Name))
		case s.Evaluate == nil:
			errs = append(errs, fmt.Errorf("sensor %s: no Evaluate function", s.Name))
		case s.Interval < 0:
			errs = append(errs, fmt.Errorf("sensor %s: negative interval", s.Name))
		}
		if s.Name != "" && names[s.Name] == "" {
			names[s.Name] = j.Name
		}
	}
	return errs
}

func checkPools(jobs []Job) []error {
	var errs []error
	limits := map[string]int{}
	owner := map[string]string{}
	for _, j := range jobs {
		for _, p := range j.Pools {
			switch {
			case p.Name == "":
				errs = append(errs, fmt.Errorf("job %s: a pool has no name", j.Name))
			case p.Limit <= 0:
				errs = append(errs, fmt.Errorf("job %s: pool %s: limit %d must be positive", j.Name, p.Name, p.Limit))
			case owner[p.Name] != "" && limits[p.Name] != p.Limit:
				errs = append(errs, fmt.Errorf("pool %s: limit %d in %s but %d in %s", p.Name, limits[p.Name], owner[p.Name], p.Limit, j.Name))
			case owner[p.Name] == "":
				limits[p.Name], owner[p.Name] = p.Limit, j.Name
			}
		}
	}
	return errs
}

// SensorOf is a sensor with the job it starts.
type SensorOf struct {
	Job string
	Sensor
}

// Sensors returns every job's sensors with the job each starts, in declaration order.
func (d *Definitions) Sensors() []SensorOf {
	var out []SensorOf
	for _, j := range d.jobs {
		for _, s := range j.Sensors {
			out = append(out, SensorOf{Job: j.Name, Sensor: s})
		}
	}
	return out
}

// Pools returns the pools the job runs in (sorted by name: the order they are taken in,
// so two jobs never wait on each other's pools).
func (d *Definitions) Pools(job string) []Pool {
	j, ok := d.Job(job)
	if !ok {
		return nil
	}
	out := slices.Clone(j.Pools)
	slices.SortFunc(out, func(a, b Pool) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Automated returns the assets that declare automation policies, upstreams first.
func (d *Definitions) Automated() []Asset {
	var out []Asset
	for _, a := range d.assets {
		if len(a.Automation) > 0 {
			out = append(out, a)
		}
	}
	return out
}
