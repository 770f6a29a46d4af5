package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/storage/mysql"
)

// ModelReader reads published batch model outputs (MySQL in production). Handlers read
// them through the typed models of package published; ModelRow fails with an error
// matching domain.ErrNotFound when the row is absent.
type ModelReader interface {
	ModelRow(ctx context.Context, model, key string) ([]byte, error)
	TopModelRows(ctx context.Context, model string, limit int) ([]mysql.ModelRow, error)
}

func (h *handlers) registerModels(r *gin.Engine) {
	r.GET("/api/movies/:id/similar", h.similar("movie"))
	r.GET("/api/artworks/:id/similar", h.similar("artwork"))
	r.GET("/api/pagerank/top", h.topPages)
	r.GET("/api/ads/:user", h.ads)
	h.registerTopics(r)
}

// SimilarItem is one entry of GET /api/{movies|artworks}/:id/similar.
type SimilarItem struct {
	ID       string  `json:"id"`
	Type     string  `json:"type"`
	Title    string  `json:"title"`
	Year     int     `json:"year,omitempty"`
	Subtitle string  `json:"subtitle,omitempty"`
	Score    float64 `json:"score"`
}

func (h *handlers) similar(typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id", typ+" id")
		if err != nil {
			h.fail(c, err)
			return
		}
		if _, ok := h.requireItem(c, id, typ); !ok {
			return
		}
		nbrs, err := published.Similar.Get(c.Request.Context(), h.d.Models, id)
		if errors.Is(err, domain.ErrNotFound) {
			c.JSON(http.StatusOK, gin.H{"id": id, "similar": []SimilarItem{}, "note": "no similarity computed for this item yet: run BuildSimilarity"})
			return
		}
		if err != nil {
			h.fail(c, err)
			return
		}
		ids := make([]string, len(nbrs))
		for i, n := range nbrs {
			ids[i] = n.ID
		}
		details, err := h.d.Items.ItemsByID(c.Request.Context(), ids)
		if err != nil {
			h.fail(c, err)
			return
		}
		out := make([]SimilarItem, 0, len(nbrs))
		for _, n := range nbrs {
			if it, ok := details[n.ID]; ok {
				out = append(out, SimilarItem{ID: it.ID, Type: it.Type, Title: it.Title, Year: it.Year, Subtitle: it.Subtitle, Score: n.Score})
			}
		}
		c.JSON(http.StatusOK, gin.H{"id": id, "similar": out})
	}
}

func (h *handlers) topPages(c *gin.Context) {
	limit, err := intQuery(c, "limit", 1, 100, 20)
	if err != nil {
		h.fail(c, err)
		return
	}
	rows, err := published.PageRank.Top(c.Request.Context(), h.d.Models, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.Key
	}
	details, err := h.d.Items.ItemsByID(c.Request.Context(), ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	type page struct {
		Rank  int     `json:"rank"`
		ID    string  `json:"id"`
		Type  string  `json:"type,omitempty"`
		Title string  `json:"title,omitempty"`
		Score float64 `json:"score"`
	}
	out := make([]page, 0, len(rows))
	for _, r := range rows {
		it := details[r.Key]
		out = append(out, page{Rank: r.Rank, ID: r.Key, Type: it.Type, Title: it.Title, Score: r.Value.Score})
	}
	c.JSON(http.StatusOK, gin.H{"pages": out})
}

func (h *handlers) ads(c *gin.Context) {
	user, err := pathID(c, "user", "user id")
	if err != nil {
		h.fail(c, err)
		return
	}
	targets, err := published.Ads.Get(c.Request.Context(), h.d.Models, user)
	if errors.Is(err, domain.ErrNotFound) {
		c.JSON(http.StatusOK, gin.H{"user": user, "targets": []published.AdTarget{}})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"user": user, "targets": targets})
}
