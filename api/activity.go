package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
)

// ActivityReader answers questions about user activity (PostgreSQL in production).
type ActivityReader interface {
	Trending(ctx context.Context, now time.Time, window time.Duration, types []string, limit int) ([]ingest.ItemCount, error)
	ItemTrend(ctx context.Context, item string, from, to time.Time) ([]ingest.TrendPoint, error)
	UploadsByCountry(ctx context.Context) ([]ingest.CountryCount, error)
	Stats(ctx context.Context) (ingest.Stats, error)
	UploadsDaily(ctx context.Context, from, to time.Time) ([]ingest.DayCount, error)
	TrendingTerms(ctx context.Context, size string, at time.Time, limit int) (ingest.TermsWindow, error)
	// Lag is each consumer's lag per partition; nil when Kafka is not known.
	Lag(ctx context.Context) ([]ingest.PartitionLag, error)
}

// rfc3339Example describes an RFC 3339 time parameter in errors.
const rfc3339Example = "an RFC 3339 time like 2026-11-23T10:00:00Z"

// MaxTrendSpan bounds /api/items/:id/trend: 24 hours of 5-second windows.
const MaxTrendSpan = 24 * time.Hour

func (h *handlers) registerActivity(r *gin.Engine) {
	r.GET("/api/trending", h.trending)
	r.GET("/api/items/:id/trend", h.itemTrend)
	r.GET("/api/uploads/map", h.uploadsMap)
	r.GET("/api/uploads/daily", h.uploadsDaily)
	r.GET("/api/ingest/stats", h.ingestStats)
	r.GET("/api/terms/trending", h.trendingTerms)
}

func (h *handlers) trendingTerms(c *gin.Context) {
	size := c.DefaultQuery("window", "1h")
	if _, ok := ingest.TermWindows()[size]; !ok {
		h.fail(c, badRequest{"window must be 1m or 1h, got " + strconv.Quote(size)})
		return
	}
	limit, err := intQuery(c, "limit", 1, 100, 20)
	if err != nil {
		h.fail(c, err)
		return
	}
	at, err := timeQuery(c, "at", time.RFC3339, rfc3339Example, time.Now())
	if err != nil {
		h.fail(c, err)
		return
	}
	w, err := h.d.Activity.TrendingTerms(c.Request.Context(), size, at, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

// TrendingItem is one entry of GET /api/trending.
type TrendingItem struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Title    string `json:"title"`
	Year     int    `json:"year,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	Count    int64  `json:"count"`
}

func (h *handlers) trending(c *gin.Context) {
	window := 5 * time.Minute
	if w := c.Query("window"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 5*time.Second || d > 7*24*time.Hour {
			h.fail(c, badRequest{"window must be a duration from 5s to 168h, like 5m or 1h, got " + strconv.Quote(w)})
			return
		}
		window = d
	}
	typ, err := typeQuery(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	limit, err := intQuery(c, "limit", 1, 100, 10)
	if err != nil {
		h.fail(c, err)
		return
	}
	var evTypes []string
	if e := c.Query("event"); e != "" {
		if !events.Type(e).Valid() {
			h.fail(c, badRequest{"event must be one of view, collect, upload, search, purchase, click, got " + strconv.Quote(e)})
			return
		}
		evTypes = []string{e}
	}
	// Over-fetch when filtering by type: the windows do not know item types, MySQL does.
	fetch := limit
	if typ != "" {
		fetch = limit * 5
	}
	counts, err := h.d.Activity.Trending(c.Request.Context(), time.Now(), window, evTypes, fetch)
	if err != nil {
		h.fail(c, err)
		return
	}
	ids := make([]string, len(counts))
	for i, ic := range counts {
		ids[i] = ic.ItemID
	}
	items, err := h.d.Items.ItemsByID(c.Request.Context(), ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]TrendingItem, 0, limit)
	for _, ic := range counts {
		it, ok := items[ic.ItemID]
		if !ok || (typ != "" && it.Type != typ) {
			continue
		}
		out = append(out, TrendingItem{ID: it.ID, Type: it.Type, Title: it.Title, Year: it.Year, Subtitle: it.Subtitle, Count: ic.Count})
		if len(out) == limit {
			break
		}
	}
	c.JSON(http.StatusOK, gin.H{"window": window.String(), "items": out})
}

func (h *handlers) itemTrend(c *gin.Context) {
	id, err := pathID(c, "id", "item id")
	if err != nil {
		h.fail(c, err)
		return
	}
	now := time.Now().UTC()
	from, err := timeQuery(c, "from", time.RFC3339, rfc3339Example, now.Add(-15*time.Minute))
	if err != nil {
		h.fail(c, err)
		return
	}
	to, err := timeQuery(c, "to", time.RFC3339, rfc3339Example, now)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !to.After(from) || to.Sub(from) > MaxTrendSpan {
		h.fail(c, badRequest{"to must be after from, at most 24h later"})
		return
	}
	points, err := h.d.Activity.ItemTrend(c.Request.Context(), id, from, to)
	if err != nil {
		h.fail(c, err)
		return
	}
	if points == nil {
		points = []ingest.TrendPoint{}
	}
	c.JSON(http.StatusOK, gin.H{"item_id": id, "window_seconds": int(ingest.Window.Seconds()), "from": from, "to": to, "points": points})
}

func (h *handlers) uploadsMap(c *gin.Context) {
	cs, err := h.d.Activity.UploadsByCountry(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	if cs == nil {
		cs = []ingest.CountryCount{}
	}
	c.JSON(http.StatusOK, gin.H{"countries": cs})
}

func (h *handlers) uploadsDaily(c *gin.Context) {
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.Add(-30 * 24 * time.Hour)
	var err error
	if from, err = timeQuery(c, "from", time.DateOnly, "a date like 2026-11-23", from); err != nil {
		h.fail(c, err)
		return
	}
	if to, err = timeQuery(c, "to", time.DateOnly, "a date like 2026-11-23", to); err != nil {
		h.fail(c, err)
		return
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		h.fail(c, badRequest{"to must be after from, at most a year later"})
		return
	}
	days, err := h.d.Activity.UploadsDaily(c.Request.Context(), from, to)
	if err != nil {
		h.fail(c, err)
		return
	}
	if days == nil {
		days = []ingest.DayCount{}
	}
	c.JSON(http.StatusOK, gin.H{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "days": days})
}

func (h *handlers) ingestStats(c *gin.Context) {
	st, err := h.d.Activity.Stats(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}
