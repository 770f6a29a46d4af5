package alerting

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// detector finds the incidents of one kind that are open at now. It returns every one
// of them, or an error: never a partial list, which would resolve the rest.
type detector struct {
	kind string
	find func(ctx context.Context, now time.Time) ([]alerts.Incident, error)
}

func (a *Activities) detectors() []detector {
	var ds []detector
	if a.Runs != nil {
		ds = append(ds, detector{alerts.KindRunFailed, a.failedRuns})
	}
	return append(ds,
		detector{alerts.KindCheckFailed, a.failedChecks},
		detector{alerts.KindFreshnessOverdue, a.overdueAssets},
		detector{alerts.KindDeadLetterSpike, a.deadLetterSpike},
	)
}

// runPage is how many runs one ClosedRuns call asks for; maxRunPages bounds the pages of
// one job (a job closing more than 10 000 runs a week is judged on those).
const (
	runPage     = 100
	maxRunPages = 100
)

// failedRuns: a job's incident is open when its newest run to finish in RunLookback
// failed or timed out. Cancelled and terminated runs are someone's decision, not an
// outcome: they neither open nor resolve an incident. A completed run resolves it.
func (a *Activities) failedRuns(ctx context.Context, now time.Time) ([]alerts.Incident, error) {
	var out []alerts.Incident
	for _, j := range a.Defs.Jobs() {
		if j.Internal || slices.Contains(a.SkipJobs, j.Name) {
			continue
		}
		last, ok, err := a.lastOutcome(ctx, j.Name, now.Add(-RunLookback))
		if err != nil {
			return nil, err
		}
		if !ok || (last.Status != pipeline.RunFailed && last.Status != pipeline.RunTimedOut) {
			continue
		}
		what := "failed"
		if last.Status == pipeline.RunTimedOut {
			what = "timed out"
		}
		out = append(out, alerts.Incident{
			Key:     alerts.RunFailedKey(j.Name),
			Kind:    alerts.KindRunFailed,
			Summary: "run " + what + " — " + j.Name,
			Detail: fmt.Sprintf("workflow %s (run %s) %s at %s", last.WorkflowID, last.RunID, what,
				last.ClosedAt.UTC().Format(time.RFC3339)),
			URL: a.runURL(last.WorkflowID, last.RunID),
		})
	}
	return out, nil
}

// lastOutcome returns the job's newest run that closed after since and completed,
// failed or timed out. It pages through ClosedRuns (oldest first, limit per call), which
// works whether a lister trims a long list to its oldest or its newest runs.
func (a *Activities) lastOutcome(ctx context.Context, job string, since time.Time) (pipeline.RunInfo, bool, error) {
	var last pipeline.RunInfo
	found := false
	for range maxRunPages {
		runs, err := a.Runs.ClosedRuns(ctx, job, since, runPage)
		if err != nil {
			return last, false, fmt.Errorf("closed runs of %s: %w", job, err)
		}
		newest := since
		for _, r := range runs {
			if r.ClosedAt.After(newest) {
				newest = r.ClosedAt
			}
			switch r.Status {
			case pipeline.RunCompleted, pipeline.RunFailed, pipeline.RunTimedOut:
				if !found || !r.ClosedAt.Before(last.ClosedAt) {
					last, found = r, true
				}
			}
		}
		if len(runs) < runPage || !newest.After(since) {
			break
		}
		since = newest
	}
	return last, found, nil
}

// failedChecks: an incident per failed blocking check of the latest materialization of
// each asset partition, when that materialization failed. A later materialization of
// the partition that does not fail on the check resolves it.
func (a *Activities) failedChecks(ctx context.Context, _ time.Time) ([]alerts.Incident, error) {
	var out []alerts.Incident
	for _, as := range a.Defs.Assets() {
		latest, err := a.Assets.LatestMaterializations(ctx, as.Name)
		if err != nil {
			return nil, err
		}
		parts := make([]string, 0, len(latest))
		for p := range latest {
			parts = append(parts, p)
		}
		slices.Sort(parts)
		for _, p := range parts {
			m := latest[p]
			if m.Status != assets.StatusFailed {
				continue
			}
			name := as.Name
			if p != "" {
				name += "[" + p + "]"
			}
			for _, c := range m.Checks {
				if !c.Blocking || c.Passed {
					continue
				}
				detail := c.Detail
				if detail != "" {
					detail += "; "
				}
				detail += fmt.Sprintf("workflow %s (run %s) at %s", m.WorkflowID, m.RunID, m.FinishedAt.UTC().Format(time.RFC3339))
				if down := a.Defs.Downstream(as.Name); len(down) > 0 {
					detail += "; downstream not updated: " + strings.Join(down, ", ")
				}
				out = append(out, alerts.Incident{
					Key:     alerts.CheckFailedKey(as.Name, p, c.Name),
					Kind:    alerts.KindCheckFailed,
					Summary: "blocking check failed — " + name + ": " + c.Name,
					Detail:  detail,
					URL:     a.runURL(m.WorkflowID, m.RunID),
				})
			}
		}
	}
	return out, nil
}

// overdueAssets: an asset with a Freshness is overdue when its last success is older
// (assets.Graph's Fresh). An asset that never succeeded is not overdue: there is nothing
// to be late about yet (its runs failing are run_failed and check_failed incidents).
func (a *Activities) overdueAssets(ctx context.Context, now time.Time) ([]alerts.Incident, error) {
	nodes, err := assets.Graph(ctx, a.Assets, a.Defs, now)
	if err != nil {
		return nil, err
	}
	var out []alerts.Incident
	for _, n := range nodes {
		if n.Fresh == nil || *n.Fresh || n.LastSuccess == nil {
			continue
		}
		out = append(out, alerts.Incident{
			Key:     alerts.FreshnessKey(n.Name),
			Kind:    alerts.KindFreshnessOverdue,
			Summary: "asset overdue — " + n.Name,
			Detail: fmt.Sprintf("last materialized %s (%s before this check); expected at least every %s",
				n.LastSuccess.UTC().Format(time.RFC3339), alerts.FormatDuration(now.Sub(*n.LastSuccess)), alerts.FormatDuration(n.Freshness)),
		})
	}
	return out, nil
}

// deadLetterSpike: open while the dead letters of the last alerts.DeadLetterWindow reach
// DeadLetterSpike.
func (a *Activities) deadLetterSpike(ctx context.Context, now time.Time) ([]alerts.Incident, error) {
	if a.DeadLetterSpike <= 0 {
		return nil, nil
	}
	counts, err := a.Alerts.DeadLettersSince(ctx, now.Add(-alerts.DeadLetterWindow))
	if err != nil {
		return nil, err
	}
	var total int64
	reasons := make([]string, 0, len(counts))
	for _, c := range counts {
		total += c.Count
		reasons = append(reasons, fmt.Sprintf("%s %d", c.Reason, c.Count))
	}
	if total < int64(a.DeadLetterSpike) {
		return nil, nil
	}
	return []alerts.Incident{{
		Key:     alerts.DeadLetterSpikeKey,
		Kind:    alerts.KindDeadLetterSpike,
		Summary: fmt.Sprintf("dead-letter spike — %d messages in %s", total, alerts.FormatDuration(alerts.DeadLetterWindow)),
		Detail: fmt.Sprintf("threshold %d per %s; by reason: %s", a.DeadLetterSpike, alerts.FormatDuration(alerts.DeadLetterWindow),
			strings.Join(reasons, ", ")),
	}}, nil
}

// runURL links a run in the Temporal UI, when its address is known.
func (a *Activities) runURL(workflowID, runID string) string {
	if a.TemporalUIURL == "" || workflowID == "" {
		return ""
	}
	ns := a.Namespace
	if ns == "" {
		ns = "default"
	}
	u := strings.TrimRight(a.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		u += "/" + url.PathEscape(runID)
	}
	return u + "/history"
}
