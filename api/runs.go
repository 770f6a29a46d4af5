package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/runs"
)

// RunLister lists recent runs (runs.Lister, over Temporal's visibility store, in production).
type RunLister interface {
	Recent(ctx context.Context, f runs.Filter) ([]runs.Run, error)
}

// Limits of GET /api/runs.
const (
	DefaultRunsLimit = 50
	MaxRunsLimit     = 200
)

// RunView is one run in GET /api/runs: the run with links to it and to its assets.
type RunView struct {
	runs.Run
	// TemporalUI opens the run in the Temporal UI; empty when no UI is configured.
	TemporalUI string `json:"temporal_ui,omitempty"`
	// Assets are the assets the run's job materializes.
	Assets []string `json:"assets"`
}

func (h *handlers) recentRuns(c *gin.Context) {
	f := runs.Filter{Job: c.Query("job")}
	if f.Job != "" {
		if _, ok := h.d.Definitions.Job(f.Job); !ok {
			h.fail(c, badRequest{"unknown job " + strconv.Quote(f.Job) + ": known jobs are " + strings.Join(h.d.Definitions.JobNames(), ", ")})
			return
		}
	}
	if s := c.Query("status"); s != "" {
		i := slices.IndexFunc(runs.Statuses(), func(known string) bool { return strings.EqualFold(known, s) })
		if i < 0 {
			h.fail(c, badRequest{"unknown status " + strconv.Quote(s) + ": statuses are " + strings.Join(runs.Statuses(), ", ")})
			return
		}
		f.Status = runs.Statuses()[i]
	}
	var err error
	if f.Limit, err = intQuery(c, "limit", 1, MaxRunsLimit, DefaultRunsLimit); err != nil {
		h.fail(c, err)
		return
	}
	if h.d.Runs == nil {
		c.Header("Retry-After", retryAfter)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "the runs list needs Temporal, which this API is not connected to"})
		return
	}
	rs, err := h.d.Runs.Recent(c.Request.Context(), f)
	if err != nil {
		h.fail(c, err)
		return
	}
	byJob := map[string][]string{}
	for _, a := range h.d.Definitions.Assets() {
		byJob[a.Job] = append(byJob[a.Job], a.Name)
	}
	out := make([]RunView, 0, len(rs))
	for _, r := range rs {
		as := byJob[r.Job]
		if as == nil {
			as = []string{}
		}
		out = append(out, RunView{Run: r, TemporalUI: h.temporalRunURL(r.WorkflowID, r.RunID), Assets: as})
	}
	c.JSON(http.StatusOK, gin.H{"runs": out, "statuses": runs.Statuses(), "jobs": h.d.Definitions.JobNames()})
}

// temporalRunURL links a run in the Temporal UI; "" when no UI is configured.
func (h *handlers) temporalRunURL(workflowID, runID string) string {
	if h.d.TemporalUIURL == "" || workflowID == "" {
		return ""
	}
	ns := h.d.TemporalNamespace
	if ns == "" {
		ns = "default"
	}
	u := strings.TrimRight(h.d.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		u += "/" + url.PathEscape(runID)
	}
	return u + "/history"
}
