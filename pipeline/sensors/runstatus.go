package sensors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// RunStatusOverlap is how far before the newest close time it has seen a RunStatus
// sensor looks again on each evaluation: Temporal's visibility store is eventually
// consistent, so a run may show up a little after runs that closed later. Runs seen
// twice are not started twice (their key is the same).
const RunStatusOverlap = 2 * time.Minute

// runStatusPage is how many closed runs one query asks for; one evaluation makes at most
// two queries.
const runStatusPage = 100

// ErrNoRunLister is returned by a RunStatus sensor's evaluation when the platform gives it
// no record of runs (pipeline.SensorEnv.Runs is nil).
var ErrNoRunLister = errors.New("no run lister (SensorEnv.Runs is nil)")

// RunStatus returns a sensor that starts its job once for each run of job that closes
// with one of statuses (the pipeline.Run* constants; none means pipeline.RunFailed and
// pipeline.RunTimedOut). It checks every 15 seconds, reading Temporal's record of runs
// (pipeline.SensorEnv.Runs).
//
// A new sensor only reacts to runs that close after its first evaluation. The run's key
// is the closed run's workflow id and run id ("WORKFLOW_ID/RUN_ID"); input builds the
// job's input from the closed run, and nil runs the job with its default input.
//
// Each evaluation reads the runs that closed since the newest it saw, and again those of
// the RunStatusOverlap before it, as Temporal may list a run a little late; the cursor
// remembers the runs it requested in that window so they are not requested again. One
// evaluation reads at most 200 closed runs of job, and the following ones go on from
// there; in a burst of more than 100 runs closing within RunStatusOverlap, a run listed
// late may be missed.
//
// A sensor that watches its own job for failures restarts it after each failure, without
// end if it keeps failing: give such a job a way to stop (its input, a retry count).
func RunStatus(name, job string, statuses []string, input func(pipeline.RunInfo) any) pipeline.Sensor {
	if len(statuses) == 0 {
		statuses = []string{pipeline.RunFailed, pipeline.RunTimedOut}
	}
	statuses = slices.Clone(statuses) // the caller may reuse its slice
	var statusErr error
	for _, s := range statuses {
		if !knownRunStatus(s) {
			statusErr = errors.Join(statusErr, fmt.Errorf("unknown run status %q (want one of the pipeline.Run* constants)", s))
		}
	}
	return pipeline.Sensor{
		Name:        name,
		Description: fmt.Sprintf("runs of %s that end %s", job, strings.Join(statuses, " or ")),
		Interval:    15 * time.Second,
		Evaluate: func(ctx context.Context, env pipeline.SensorEnv, cursor string) (pipeline.SensorResult, error) {
			switch {
			case statusErr != nil:
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, statusErr)
			case job == "":
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: no job to watch", name)
			case env.Runs == nil:
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, ErrNoRunLister)
			}
			return evaluateRunStatus(ctx, env, name, job, statuses, input, cursor)
		},
	}
}

func knownRunStatus(s string) bool {
	switch s {
	case pipeline.RunCompleted, pipeline.RunFailed, pipeline.RunTimedOut, pipeline.RunTerminated, pipeline.RunCanceled:
		return true
	}
	return false
}

// runStatusCursor is a RunStatus sensor's state.
type runStatusCursor struct {
	// Newest is the close time of the newest run seen (at first, Start).
	Newest time.Time `json:"newest"`
	// Start is the first evaluation's time: runs that closed before it never fire.
	Start time.Time `json:"start"`
	// Fired are the runs already requested that the next evaluation reads again (they
	// closed within RunStatusOverlap of Newest), so that it does not request them again.
	Fired []firedRun `json:"fired,omitempty"`
}

type firedRun struct {
	Key      string    `json:"key"`
	ClosedAt time.Time `json:"closed_at"`
}

func evaluateRunStatus(ctx context.Context, env pipeline.SensorEnv, name, job string, statuses []string, input func(pipeline.RunInfo) any, cursor string) (pipeline.SensorResult, error) {
	prev, ok := readCursor[runStatusCursor](env, name, cursor)
	if !ok {
		t := now(env).UTC()
		c, err := writeCursor(name, runStatusCursor{Newest: t, Start: t})
		if err != nil {
			return pipeline.SensorResult{}, err
		}
		return pipeline.SensorResult{
			Cursor: c,
			Skip:   fmt.Sprintf("watching runs of %s that close after %s", job, t.Format(time.RFC3339)),
		}, nil
	}

	since := prev.Newest.Add(-RunStatusOverlap)
	if since.Before(prev.Start) {
		since = prev.Start
	}
	runs, err := env.Runs.ClosedRuns(ctx, job, since, runStatusPage)
	if err != nil {
		return pipeline.SensorResult{}, fmt.Errorf("sensor %s: closed runs of %s since %s: %w", name, job, since.Format(time.RFC3339), err)
	}
	if len(runs) == runStatusPage && !runs[len(runs)-1].ClosedAt.After(prev.Newest) {
		// The overlap alone filled the page: read on past what was seen, so a burst of
		// runs cannot hold the sensor in place.
		more, err := env.Runs.ClosedRuns(ctx, job, prev.Newest, runStatusPage)
		if err != nil {
			return pipeline.SensorResult{}, fmt.Errorf("sensor %s: closed runs of %s since %s: %w", name, job, prev.Newest.Format(time.RFC3339), err)
		}
		runs = append(runs, more...)
	}

	next := runStatusCursor{Newest: prev.Newest, Start: prev.Start}
	fired := make(map[string]time.Time, len(prev.Fired))
	for _, f := range prev.Fired {
		fired[f.Key] = f.ClosedAt
	}
	var res pipeline.SensorResult
	for _, r := range runs {
		if r.ClosedAt.After(next.Newest) {
			next.Newest = r.ClosedAt.UTC()
		}
		key := r.WorkflowID + "/" + r.RunID
		if _, done := fired[key]; done || !slices.Contains(statuses, r.Status) || !r.ClosedAt.After(prev.Start) {
			continue
		}
		fired[key] = r.ClosedAt.UTC()
		var in any
		if input != nil {
			in = input(r)
		}
		res.Runs = append(res.Runs, pipeline.RunRequest{
			Key:    key,
			Input:  in,
			Reason: fmt.Sprintf("run %s of %s ended %s at %s", key, job, r.Status, r.ClosedAt.UTC().Format(time.RFC3339)),
		})
	}
	if len(res.Runs) == 0 {
		res.Skip = fmt.Sprintf("no new run of %s ended %s", job, strings.Join(statuses, " or "))
	}
	horizon := next.Newest.Add(-RunStatusOverlap)
	for key, closed := range fired {
		if !closed.Before(horizon) {
			next.Fired = append(next.Fired, firedRun{Key: key, ClosedAt: closed})
		}
	}
	slices.SortFunc(next.Fired, func(a, b firedRun) int {
		if c := a.ClosedAt.Compare(b.ClosedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if res.Cursor, err = writeCursor(name, next); err != nil {
		return pipeline.SensorResult{}, err
	}
	return res, nil
}
