// Package automation evaluates what the definitions declare should happen by itself:
// the automation policies of assets (eager, on_cron, missing, freshness) and the sensors
// of jobs. One evaluation (a tick) looks at the asset graph and the sensors, and starts
// the runs they call for, each with its trigger as memo and search attribute.
//
// No trigger is lost or fired twice: every run is first claimed in the warehouse under
// (job, partition, trigger) and started under a workflow id derived from that claim, so
// a tick that crashes, a terminated automation workflow or two evaluations at once start
// it at most once; a claim whose start failed is started again by the next tick.
package automation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
)

// AssetStore is where materializations are recorded (*postgres.Store).
type AssetStore interface {
	assets.Store
	// LatestSuccesses returns each partition's newest successful materialization.
	LatestSuccesses(ctx context.Context, asset string) (map[string]assets.Materialization, error)
}

// Evaluator evaluates automation policies and sensors and starts their runs.
type Evaluator struct {
	Defs      *pipeline.Definitions
	Assets    AssetStore
	Store     *postgres.AutomationStore
	Temporal  client.Client
	TaskQueue string
	// Env is what sensors get (resources, the run lister, Kafka brokers); Now is set per tick.
	Env    pipeline.SensorEnv
	Logger *slog.Logger
}

// Summary is what one tick did.
type Summary struct {
	At      time.Time `json:"at"`
	Started []Started `json:"started,omitempty"`
	// Skipped lists the first reasons a candidate run did not start (SkippedCount counts all).
	Skipped      []Skipped `json:"skipped,omitempty"`
	SkippedCount int       `json:"skipped_count"`
	InFlight     int       `json:"in_flight"`
	Closed       int       `json:"closed"`
	Sensors      int       `json:"sensors_evaluated"`
	Errors       []string  `json:"errors,omitempty"`
}

// Started is a run a tick started.
type Started struct {
	Job        string `json:"job"`
	Partition  string `json:"partition,omitempty"`
	Trigger    string `json:"trigger"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// Skipped is a run a policy asked for that did not start, and why.
type Skipped struct {
	Asset     string `json:"asset,omitempty"`
	Job       string `json:"job,omitempty"`
	Partition string `json:"partition,omitempty"`
	Reason    string `json:"reason"`
}

const maxSkippedShown = 20

func (s *Summary) skip(k Skipped) {
	s.SkippedCount++
	if len(s.Skipped) < maxSkippedShown {
		s.Skipped = append(s.Skipped, k)
	}
}

func (s *Summary) fail(err error) {
	if len(s.Errors) < maxSkippedShown {
		s.Errors = append(s.Errors, err.Error())
	}
}

// candidate is a run a policy asks for.
type candidate struct {
	asset, job, partition, trigger, source string
	// cursor, when set, moves to tick once the run is claimed (on_cron): a tick whose claim
	// failed is evaluated again.
	cursor string
	tick   time.Time
}

// tickRetention is how long sensor ticks are kept.
const tickRetention = 7 * 24 * time.Hour

func flightKey(job, partition string) string { return job + "\x00" + partition }

// Tick evaluates every policy and due sensor once at now and starts the runs they call
// for. Problems with one asset or sensor are reported in the summary and do not stop the
// others; the error is for the warehouse or Temporal being unreachable.
func (e *Evaluator) Tick(ctx context.Context, now time.Time) (Summary, error) {
	sum := Summary{At: now}
	unlock, ok, err := e.Store.TryLock(ctx)
	if err != nil {
		return sum, err
	}
	if !ok {
		sum.skip(Skipped{Reason: "another evaluation is still running (it holds the automation lock)"})
		return sum, nil
	}
	defer unlock()
	if _, err := e.Store.PruneTicks(ctx, now.Add(-tickRetention)); err != nil {
		return sum, err
	}
	inflight, err := e.refreshOpen(ctx, &sum)
	if err != nil {
		return sum, err
	}
	var cands []candidate
	for _, a := range e.Defs.Automated() {
		cs, err := e.evaluateAsset(ctx, a, now, &sum)
		if err != nil {
			if ctx.Err() != nil {
				return sum, err
			}
			sum.fail(fmt.Errorf("asset %s: %w", a.Name, err))
			continue
		}
		cands = append(cands, cs...)
	}
	for _, g := range group(cands) {
		if r, ok := inflight[flightKey(g.job, g.partition)]; ok {
			sum.skip(Skipped{Asset: strings.Join(g.assets, ","), Job: g.job, Partition: g.partition,
				Reason: "a run is in flight: " + r.WorkflowID})
		} else if err := e.startForAssets(ctx, g, &sum); err != nil {
			if ctx.Err() != nil {
				return sum, err
			}
			sum.fail(err)
			continue // the cursors stay: the next evaluation asks again
		}
		for _, c := range g.cursors { // claimed, or skipped on purpose: this tick is done
			if err := e.Store.SetCursor(ctx, c.cursor, c.tick); err != nil {
				return sum, err
			}
		}
	}
	for _, s := range e.Defs.Sensors() {
		if err := e.evaluateSensor(ctx, s, now, &sum); err != nil {
			if ctx.Err() != nil {
				return sum, err
			}
			sum.fail(fmt.Errorf("sensor %s: %w", s.Name, err))
		}
	}
	return sum, nil
}

// refreshOpen closes the claimed runs Temporal reports finished, starts claims whose start
// failed before, and returns the runs still in flight by job and partition.
func (e *Evaluator) refreshOpen(ctx context.Context, sum *Summary) (map[string]postgres.AutomationRun, error) {
	open, err := e.Store.Open(ctx)
	if err != nil {
		return nil, err
	}
	inflight := map[string]postgres.AutomationRun{}
	for _, r := range open {
		// Sensor runs are one per key, by design several at once; the one-in-flight rule is
		// the asset policies'.
		policyRun := !strings.HasPrefix(r.Source, "sensor:")
		if r.RunID == "" {
			if policyRun {
				inflight[flightKey(r.Job, r.Partition)] = r // started now, or to be started next time
			}
			if err := e.start(ctx, r, sum); err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				sum.fail(err)
			}
			continue
		}
		status, err := e.status(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			sum.fail(err)
			if policyRun {
				inflight[flightKey(r.Job, r.Partition)] = r // unknown: assume it still runs
			}
			continue
		}
		if status == "Running" {
			if policyRun {
				inflight[flightKey(r.Job, r.Partition)] = r
			}
			continue
		}
		if err := e.Store.Closed(ctx, r, status); err != nil {
			return nil, err
		}
		sum.Closed++
	}
	sum.InFlight = len(inflight)
	return inflight, nil
}

// status is the state of the run a claim started. The id is the claim's alone, so it is
// described without a run id: a run that continued as new is followed to its latest run.
func (e *Evaluator) status(ctx context.Context, r postgres.AutomationRun) (string, error) {
	resp, err := e.Temporal.DescribeWorkflowExecution(ctx, r.WorkflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "NotFound", nil
	}
	if err != nil {
		return "", fmt.Errorf("describe %s: %w", r.WorkflowID, err)
	}
	st := resp.GetWorkflowExecutionInfo().GetStatus()
	if st == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "Running", nil
	}
	name := strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_")
	return name, nil
}

type runGroup struct {
	job, partition string
	assets         []string
	triggers       []string
	sources        []string
	cursors        []candidate // the on_cron candidates, whose cursors move once the group is done
}

// group merges the candidates that run the same job on the same partition into one run.
func group(cands []candidate) []runGroup {
	var out []runGroup
	at := map[string]int{}
	for _, c := range cands {
		k := flightKey(c.job, c.partition)
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, runGroup{job: c.job, partition: c.partition})
		}
		g := &out[i]
		if !slices.Contains(g.assets, c.asset) {
			g.assets = append(g.assets, c.asset)
		}
		if !slices.Contains(g.triggers, c.trigger) {
			g.triggers = append(g.triggers, c.trigger)
		}
		if !slices.Contains(g.sources, c.source) {
			g.sources = append(g.sources, c.source)
		}
		if c.cursor != "" {
			g.cursors = append(g.cursors, c)
		}
	}
	for i := range out {
		slices.Sort(out[i].triggers)
		slices.Sort(out[i].sources)
	}
	return out
}

// WorkflowID is the id of the run a trigger starts: derived from the claim, so the same
// trigger can never start two runs.
func WorkflowID(prefix, job, partition, trigger string) string {
	h := sha256.Sum256([]byte(job + "\x00" + partition + "\x00" + trigger))
	id := prefix + "-" + job
	if partition != "" {
		id += "-" + partition
	}
	return id + "-" + hex.EncodeToString(h[:6])
}

func (e *Evaluator) startForAssets(ctx context.Context, g runGroup, sum *Summary) error {
	job, in, err := e.Defs.PartitionRun(g.assets[0], g.partition)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("input of %s: %w", job, err)
	}
	trigger := strings.Join(g.triggers, " + ")
	r, claimed, err := e.Store.Claim(ctx, postgres.AutomationRun{Job: job, Partition: g.partition, Trigger: trigger,
		Source: strings.Join(g.sources, ","), Assets: g.assets, WorkflowID: WorkflowID("auto", job, g.partition, trigger), Input: raw})
	if err != nil {
		return err
	}
	if !claimed {
		if r.RunID == "" && r.ClosedAt == nil {
			return e.start(ctx, r, sum) // claimed before, but its start failed
		}
		sum.skip(Skipped{Asset: strings.Join(g.assets, ","), Job: job, Partition: g.partition,
			Reason: "already triggered by " + trigger + ": " + r.WorkflowID})
		return nil
	}
	return e.start(ctx, r, sum)
}

// start starts a claimed run (again: an id that already started is recorded as started).
func (e *Evaluator) start(ctx context.Context, r postgres.AutomationRun, sum *Summary) error {
	in, err := e.Defs.DecodeInput(r.Job, r.Input)
	if err != nil {
		// The job is gone or its input changed since the claim: it can never start. Closed,
		// so it is not retried (nor counted in flight) forever.
		err = fmt.Errorf("start %s: %w", r.WorkflowID, err)
		return errors.Join(err, e.Store.StartFailed(ctx, r, err), e.Store.Closed(ctx, r, "StartFailed"))
	}
	run, err := runs.Start(ctx, e.Temporal, runs.StartOptions{ID: r.WorkflowID, TaskQueue: e.TaskQueue, Job: r.Job, Input: in, Trigger: r.Trigger})
	runID := ""
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		runID = started.RunId
	case err != nil:
		if serr := e.Store.StartFailed(ctx, r, err); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	default:
		runID = run.GetRunID()
	}
	if err := e.Store.Started(ctx, r, runID); err != nil {
		return err
	}
	e.log().Info("automation started a run", "job", r.Job, "partition", r.Partition, "trigger", r.Trigger,
		"workflow_id", r.WorkflowID, "run_id", runID)
	sum.Started = append(sum.Started, Started{Job: r.Job, Partition: r.Partition, Trigger: r.Trigger, WorkflowID: r.WorkflowID, RunID: runID})
	return nil
}

func (e *Evaluator) log() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}
