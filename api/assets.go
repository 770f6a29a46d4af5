package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/pipeline"
)

// AssetHistoryReader reads an asset's recorded materializations (PostgreSQL in production).
type AssetHistoryReader interface {
	// MaterializationHistory returns asset's materializations, newest first, at most limit;
	// partition "" means every partition.
	MaterializationHistory(ctx context.Context, asset, partition string, limit int) ([]assets.Materialization, error)
}

// History limits of GET /api/assets/NAME/history.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 500
)

func (h *handlers) registerAssets(r *gin.Engine) {
	r.GET("/api/assets", h.assetGraph)
	r.GET("/api/assets/:name", h.assetDetail)
	if h.d.AssetHistory != nil {
		r.GET("/api/assets/:name/history", h.assetHistory)
	}
}

func (h *handlers) assetGraph(c *gin.Context) {
	nodes, err := assets.Graph(c.Request.Context(), h.d.Assets, h.d.Definitions, time.Now())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"assets": nodes})
}

// pathAsset reads the asset named by the :name path parameter: 400 for a malformed name,
// 404 for one no job declares.
func (h *handlers) pathAsset(c *gin.Context) (pipeline.Asset, error) {
	name, err := pathID(c, "name", "asset name")
	if err != nil {
		return pipeline.Asset{}, err
	}
	a, ok := h.d.Definitions.Asset(name)
	if !ok {
		return pipeline.Asset{}, fmt.Errorf("asset %s %w", strconv.Quote(name), domain.ErrNotFound)
	}
	return a, nil
}

func (h *handlers) assetDetail(c *gin.Context) {
	a, err := h.pathAsset(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ps, err := assets.PartitionsOf(c.Request.Context(), h.d.Assets, h.d.Definitions, a, time.Now())
	if err != nil {
		h.fail(c, err)
		return
	}
	if ps == nil {
		ps = []assets.PartitionStatus{}
	}
	var last *assets.Materialization
	for _, p := range ps {
		if p.Last != nil && (last == nil || p.Last.FinishedAt.After(last.FinishedAt)) {
			last = p.Last
		}
	}
	c.JSON(http.StatusOK, gin.H{"asset": a, "downstream": h.d.Definitions.Downstream(a.Name), "last_run": last, "partitions": ps})
}

// CheckRun is one evaluation of an asset check, in GET /api/assets/NAME/history.
type CheckRun struct {
	At         time.Time `json:"at"` // when the materialization that ran it finished
	Partition  string    `json:"partition"`
	Passed     bool      `json:"passed"`
	Blocking   bool      `json:"blocking"`
	Detail     string    `json:"detail"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
}

// CheckHistory is one check of an asset with its evaluations, newest first.
type CheckHistory struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Blocking    bool       `json:"blocking"`
	Declared    bool       `json:"declared"` // false: recorded by past runs, no longer declared
	Results     []CheckRun `json:"results"`
}

// AssetHistory is the body of GET /api/assets/NAME/history.
type AssetHistory struct {
	Asset            string                   `json:"asset"`
	Partition        string                   `json:"partition,omitempty"` // the one asked for; "" all
	Limit            int                      `json:"limit"`
	Materializations []assets.Materialization `json:"materializations"` // newest first
	Checks           []CheckHistory           `json:"checks"`
}

// checkHistories regroups the checks recorded on each materialization (ms newest first) by
// check: the asset's declared checks first, in declaration order, then any others found.
func checkHistories(a pipeline.Asset, ms []assets.Materialization) []CheckHistory {
	out := []CheckHistory{}
	index := map[string]int{}
	for _, c := range a.Checks {
		index[c.Name] = len(out)
		out = append(out, CheckHistory{Name: c.Name, Description: c.Description, Blocking: c.Blocking, Declared: true, Results: []CheckRun{}})
	}
	for _, m := range ms {
		for _, c := range m.Checks {
			i, ok := index[c.Name]
			if !ok {
				i = len(out)
				index[c.Name] = i
				out = append(out, CheckHistory{Name: c.Name, Blocking: c.Blocking, Results: []CheckRun{}})
			}
			out[i].Results = append(out[i].Results, CheckRun{At: m.FinishedAt, Partition: m.Partition, Passed: c.Passed,
				Blocking: c.Blocking, Detail: c.Detail, WorkflowID: m.WorkflowID, RunID: m.RunID})
		}
	}
	return out
}

func (h *handlers) assetHistory(c *gin.Context) {
	a, err := h.pathAsset(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	partition := c.Query("partition")
	if err := validPartition(a, partition); err != nil {
		h.fail(c, err)
		return
	}
	limit, err := intQuery(c, "limit", 1, MaxHistoryLimit, DefaultHistoryLimit)
	if err != nil {
		h.fail(c, err)
		return
	}
	ms, err := h.d.AssetHistory.MaterializationHistory(c.Request.Context(), a.Name, partition, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	if ms == nil {
		ms = []assets.Materialization{}
	}
	c.JSON(http.StatusOK, AssetHistory{Asset: a.Name, Partition: partition, Limit: limit, Materializations: ms,
		Checks: checkHistories(a, ms)})
}

// validPartition checks a partition key given for asset a ("" is always accepted: the
// unpartitioned asset's one partition, or no particular one).
func validPartition(a pipeline.Asset, key string) error {
	switch {
	case key == "":
		return nil
	case validID(key, "partition") != nil:
		return badRequest{"partition must be at most " + strconv.Itoa(MaxIDLen) + " bytes of printable UTF-8"}
	case !a.Partitioning.Partitioned():
		return badRequest{"asset " + a.Name + " is not partitioned: leave partition out"}
	case !a.Partitioning.Valid(key):
		return badRequest{"asset " + a.Name + " has no partition " + strconv.Quote(key) + ": " + partitionForm(a.Partitioning)}
	}
	return nil
}

// partitionForm says what a partition key of p looks like, for errors.
func partitionForm(p pipeline.Partitioning) string {
	switch p.Kind {
	case pipeline.Hourly:
		return "want an hour like 2026-11-23T10 (UTC)"
	case pipeline.Daily:
		return "want a date like 2026-11-23 (UTC)"
	case pipeline.Static:
		return "its partitions are " + strings.Join(p.Keys, ", ")
	}
	return "it is not partitioned"
}
