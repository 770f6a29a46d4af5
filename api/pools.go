package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/pools"
)

// PoolReader reports the concurrency pools' usage (pools.Monitor in production).
type PoolReader interface {
	Usage(ctx context.Context) ([]pools.Usage, error)
}

// poolUsage answers GET /api/pools: every pool with its limit, its jobs, the runs holding
// its slots and those waiting for one, in the order they will get them.
func (h *handlers) poolUsage(c *gin.Context) {
	if h.d.Pools == nil {
		c.Header("Retry-After", retryAfter)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "pool usage is not available from this API"})
		return
	}
	us, err := h.d.Pools.Usage(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	if us == nil {
		us = []pools.Usage{}
	}
	c.JSON(http.StatusOK, gin.H{"pools": us})
}
