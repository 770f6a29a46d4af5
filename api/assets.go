package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/domain"
)

func (h *handlers) registerAssets(r *gin.Engine) {
	r.GET("/api/assets", h.assetGraph)
	r.GET("/api/assets/:name", h.assetDetail)
}

func (h *handlers) assetGraph(c *gin.Context) {
	nodes, err := assets.Graph(c.Request.Context(), h.d.Assets, h.d.Definitions, time.Now())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"assets": nodes})
}

func (h *handlers) assetDetail(c *gin.Context) {
	name, err := pathID(c, "name", "asset name")
	if err != nil {
		h.fail(c, err)
		return
	}
	a, ok := h.d.Definitions.Asset(name)
	if !ok {
		h.fail(c, fmt.Errorf("asset %s %w", strconv.Quote(name), domain.ErrNotFound))
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
