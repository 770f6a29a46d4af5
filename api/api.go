// Package api is Curio's HTTP API and web app server, a Gin engine built from explicit
// dependencies.
package api

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/serving"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// ItemReader reads published item details (MySQL in production).
type ItemReader interface {
	ItemsByID(ctx context.Context, ids []string) (map[string]mysql.Item, error)
}

// Deps are everything the API needs.
type Deps struct {
	Items ItemReader
	Index *serving.Holder
	// Activity serves trends, the uploads map and ingestion stats; nil leaves them out.
	Activity ActivityReader
	// Models serves published batch outputs (similar items, top pages, ads); nil leaves them out.
	Models ModelReader
	// Assets serves the asset graph and partition statuses; nil leaves them out.
	Assets assets.Store
	// AssetHistory serves each asset's materialization and check history; nil leaves it out.
	AssetHistory AssetHistoryReader
	// Runs lists recent runs from Temporal (/api/runs); nil answers 503.
	Runs RunLister
	// Pools reports the concurrency pools' usage (/api/pools); nil answers 503.
	Pools PoolReader
	// Definitions are the deployment's jobs and assets (the asset API, admin runs and
	// backfills read them); nil means the built-in ones.
	Definitions *pipeline.Definitions
	Ready       func(ctx context.Context) error // checks the databases; nil means always ready
	Static      fs.FS                           // the web app; nil serves none
	// ShardStats feeds batch shard durations to /metrics; nil leaves them out.
	ShardStats ShardStatsReader
	// Admin enables the token-guarded state-changing endpoints; nil disables them.
	Admin  *Admin
	Limits Limits
	// TemporalUIURL is shown in the web app's footer; empty hides the link.
	TemporalUIURL string
	// TemporalNamespace is the namespace the web app links runs in.
	TemporalNamespace string
	Logger            *slog.Logger
}

// Limits on search parameters.
const (
	MaxQueryLen = 256
	MaxLimit    = 100
	MaxOffset   = 10_000
)

// New builds the HTTP handler.
func New(d Deps) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	d.Limits = d.Limits.withDefaults()
	if d.Definitions == nil {
		defs, err := workflows.Definitions()
		if err != nil { // the built-in definitions are checked by their tests
			panic(fmt.Sprintf("built-in definitions: %v", err))
		}
		d.Definitions = defs
	}
	r := gin.New()
	// A path served for other methods answers 405 with an Allow header (NoMethod), not 404.
	r.HandleMethodNotAllowed = true
	// Without trusted proxies the client is the TCP peer: X-Forwarded-For cannot be spoofed
	// to dodge the rate limit.
	_ = r.SetTrustedProxies(validProxies(d.Limits.TrustedProxies, d.Logger))
	h := &handlers{d: d, metrics: newMetrics(d)}
	r.Use(gin.Recovery(), h.metrics.middleware(), requestLog(d.Logger), limitBody(d.Limits))
	var limiter *clientLimiter
	if d.Limits.SearchRate > 0 {
		limiter = newClientLimiter(d.Limits.SearchRate, d.Limits.SearchBurst)
	}
	r.GET("/healthz", h.health)
	r.GET("/readyz", h.health)
	r.GET("/livez", h.live)
	r.GET("/metrics", h.metrics.handler())
	r.GET("/api/search", h.rateLimited(limiter), h.search)
	r.GET("/api/suggest", h.rateLimited(limiter), h.suggest)
	r.GET("/api/config", h.config)
	r.GET("/api/items/:id", h.item)
	if d.Activity != nil {
		h.registerActivity(r)
	}
	if d.Models != nil {
		h.registerModels(r)
	}
	if d.Assets != nil {
		h.registerAssets(r)
	}
	r.GET("/api/runs", h.recentRuns)
	r.GET("/api/pools", h.poolUsage)
	h.registerAdmin(r)
	var files http.Handler
	if d.Static != nil {
		files = http.FileServer(http.FS(d.Static))
	}
	r.NoMethod(func(c *gin.Context) {
		// gin has set Allow to the methods the path is served for.
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method " + c.Request.Method + " not allowed on " +
			strconv.Quote(c.Request.URL.Path) + ": allowed are " + c.Writer.Header().Get("Allow")})
	})
	r.NoRoute(func(c *gin.Context) {
		static := files != nil && !strings.HasPrefix(c.Request.URL.Path, "/api/")
		switch {
		case static && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead):
			files.ServeHTTP(c.Writer, c.Request)
		case static: // the web app's files are only read
			c.Header("Allow", "GET, HEAD")
			c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method " + c.Request.Method + " not allowed on " +
				strconv.Quote(c.Request.URL.Path) + ": allowed are GET, HEAD"})
		default:
			c.JSON(http.StatusNotFound, gin.H{"error": "no such endpoint: " + c.Request.Method + " " + strconv.Quote(c.Request.URL.Path)})
		}
	})
	return r
}

type handlers struct {
	d       Deps
	metrics *apiMetrics
}

// badRequest is an error whose message is safe and useful to show the client.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

// conflict is a request that clashes with the current state, such as starting a workflow
// id that is already running; its message and ids are safe to show.
type conflict struct{ msg, workflowID, runID string }

func (e conflict) Error() string { return e.msg }

// retryAfter is what 503 answers advise clients to wait, in seconds.
const retryAfter = "5"

// fail maps an error to a status in one place; internal errors are logged, never shown.
func (h *handlers) fail(c *gin.Context, err error) {
	var br badRequest
	var cf conflict
	switch {
	case errors.As(err, &br):
		c.JSON(http.StatusBadRequest, gin.H{"error": br.msg})
	case errors.As(err, &cf):
		c.JSON(http.StatusConflict, gin.H{"error": cf.msg, "workflow_id": cf.workflowID, "run_id": cf.runID})
	case errors.Is(err, serving.ErrNotReady):
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": err.Error()})
	case errors.Is(err, domain.ErrNotFound):
		// Stores and handlers wrap it with what was asked for, e.g. `movie "tt1" not found`.
		c.JSON(http.StatusNotFound, gin.H{"error": err.Error()})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		c.Header("Retry-After", retryAfter)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "request timed out"})
	case unavailable(err):
		h.d.Logger.Warn("a backend is unavailable", "path", c.Request.URL.Path, "err", err)
		c.Header("Retry-After", retryAfter)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "service unavailable"})
	default:
		h.d.Logger.Error("request failed", "path", c.Request.URL.Path, "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
	}
}

// unavailable reports whether err says a backend (MySQL, PostgreSQL, Temporal) cannot be
// reached right now, rather than that the request or the code is wrong: a refused or
// broken connection, a failed connect or name lookup.
func unavailable(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var pgConnect *pgconn.ConnectError
	var temporalDown *serviceerror.Unavailable
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, mysqldriver.ErrInvalidConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &pgConnect) ||
		errors.As(err, &temporalDown)
}

func (h *handlers) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if h.d.Ready != nil {
		if err := h.d.Ready(ctx); err != nil {
			h.d.Logger.Warn("health check failed", "err", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": "a dependency (a database or Temporal) is unreachable"})
			return
		}
	}
	snap, err := h.d.Index.Current()
	if err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "starting", "error": err.Error()})
		return
	}
	body := gin.H{"status": "ok", "version": snap.Version, "docs": snap.Index.Len(), "loaded_at": snap.LoadedAt}
	// Stuck ingestion is reported, not made a reason to stop serving searches: the API
	// stays ready, the body says "degraded" and /metrics raises curio_ingest_partition_stuck.
	if h.d.Activity != nil {
		lctx, lcancel := context.WithTimeout(ctx, time.Second) // Kafka must not hold up the probe
		lag, err := h.d.Activity.Lag(lctx)
		lcancel()
		switch {
		case err != nil:
			h.d.Logger.Warn("health check: consumer lag", "err", err)
			body["ingest"] = gin.H{"error": "consumer lag unavailable"}
		case lag != nil:
			var total int64
			for _, l := range lag {
				total += l.Lag
			}
			stuck := ingest.Stuck(lag)
			body["ingest"] = gin.H{"lag": total, "stuck_partitions": len(stuck)}
			if len(stuck) > 0 {
				body["status"] = "degraded"
				body["stuck"] = stuck
			}
		}
	}
	c.JSON(http.StatusOK, body)
}

func (h *handlers) config(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"temporal_ui_url": h.d.TemporalUIURL, "temporal_namespace": h.d.TemporalNamespace})
}

// SearchResult is one hit with its details from MySQL.
type SearchResult struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	Title       string  `json:"title"`
	Year        int     `json:"year,omitempty"`
	Score       float64 `json:"score"`
	Subtitle    string  `json:"subtitle,omitempty"`
	Description string  `json:"description,omitempty"`
	ImageURL    string  `json:"image_url,omitempty"`
	URL         string  `json:"url,omitempty"`
	// Highlights are ranges [start, end) of matched words per field, in Unicode code points
	// (so a browser can slice Array.from(title)).
	Highlights map[string][][2]int `json:"highlights,omitempty"`
}

// SearchResponse is the body of GET /api/search.
type SearchResponse struct {
	Total     int                            `json:"total"`
	Version   string                         `json:"version"`
	Corrected bool                           `json:"corrected,omitempty"` // typo tolerance contributed matches
	Facets    map[string][]search.FacetCount `json:"facets,omitempty"`
	Results   []SearchResult                 `json:"results"`
}

// highlights returns the matched word ranges of each field in code points (fields without
// a match are left out).
func highlights(query string, fields map[string]string) map[string][][2]int {
	out := map[string][][2]int{}
	for name, text := range fields {
		if r := runeSpans(text, query); len(r) > 0 {
			out[name] = r
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// runeSpans converts search.Highlight's byte offsets into code point offsets.
func runeSpans(text, query string) [][2]int {
	var out [][2]int
	for _, sp := range search.Highlight(text, query) {
		start := utf8.RuneCountInString(text[:sp.Start])
		out = append(out, [2]int{start, start + utf8.RuneCountInString(text[sp.Start:sp.End])})
	}
	return out
}

// facetParams are the facets /api/search filters and counts on, besides type and decade.
func facetParams() []string { return []string{"genre", "medium", "nationality"} }

// searchParams are the query parameters /api/search accepts.
func searchParams() []string {
	return append([]string{"q", "type", "limit", "offset", "year_from", "year_to", "facets", "fuzzy"}, facetParams()...)
}

func parseSearch(c *gin.Context) (search.Query, error) {
	q := search.Query{Limit: 10}
	for name := range c.Request.URL.Query() {
		if !slices.Contains(searchParams(), name) {
			return q, badRequest{"unknown parameter " + strconv.Quote(name) + ": accepted are " + strings.Join(searchParams(), ", ")}
		}
	}
	var err error
	if q.Text, err = queryText(c, "the text to search for"); err != nil {
		return q, err
	}
	if q.Type, err = typeQuery(c); err != nil {
		return q, err
	}
	if q.Limit, err = intQuery(c, "limit", 1, MaxLimit, 10); err != nil {
		return q, err
	}
	if q.Offset, err = intQuery(c, "offset", 0, MaxOffset, 0); err != nil {
		return q, err
	}
	if q.YearFrom, err = intQuery(c, "year_from", 1800, 2100, 0); err != nil {
		return q, err
	}
	if q.YearTo, err = intQuery(c, "year_to", 1800, 2100, 0); err != nil {
		return q, err
	}
	if q.YearFrom > 0 && q.YearTo > 0 && q.YearFrom > q.YearTo {
		return q, badRequest{"year_from must not be after year_to"}
	}
	for _, f := range facetParams() {
		vals := c.QueryArray(f)
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 20 {
			return q, badRequest{"at most 20 values per filter"}
		}
		for _, v := range vals {
			if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > 100 || !utf8.ValidString(v) {
				return q, badRequest{f + " values must be 1 to 100 characters of valid UTF-8"}
			}
		}
		if q.Filters == nil {
			q.Filters = map[string][]string{}
		}
		q.Filters[f] = vals
	}
	if fs := c.Query("facets"); fs != "" {
		for _, f := range strings.Split(fs, ",") {
			if f != "type" && f != "decade" && !slices.Contains(facetParams(), f) {
				return q, badRequest{"unknown facet " + strconv.Quote(f) + ": facets are type, decade, " + strings.Join(facetParams(), ", ")}
			}
			q.Facets = append(q.Facets, f)
		}
	}
	if fz := c.Query("fuzzy"); fz != "" {
		b, err := strconv.ParseBool(fz)
		if err != nil {
			return q, badRequest{"fuzzy must be true or false"}
		}
		q.Fuzzy = &b
	}
	return q, nil
}

// queryText reads the required q parameter: non-blank, valid UTF-8, at most MaxQueryLen
// characters. what says what q should hold, for the error.
func queryText(c *gin.Context, what string) (string, error) {
	text := c.Query("q")
	switch {
	case strings.TrimSpace(text) == "":
		return "", badRequest{"q is required: " + what}
	case !utf8.ValidString(text):
		return "", badRequest{"q must be valid UTF-8"}
	case utf8.RuneCountInString(strings.TrimSpace(text)) > MaxQueryLen:
		return "", badRequest{"q is too long: at most " + strconv.Itoa(MaxQueryLen) + " characters"}
	}
	return text, nil
}

// typeQuery reads the optional item type filter: "", movie or artwork.
func typeQuery(c *gin.Context) (string, error) {
	t := c.Query("type")
	if t != "" && !domain.ItemType(t).Valid() {
		return "", badRequest{"type must be movie or artwork, got " + strconv.Quote(t)}
	}
	return t, nil
}

// intQuery reads an optional integer query parameter within [lo, hi].
func intQuery(c *gin.Context, name string, lo, hi, def int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest{name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + ", got " + strconv.Quote(s)}
	}
	return n, nil
}

func (h *handlers) search(c *gin.Context) {
	q, err := parseSearch(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	snap, err := h.d.Index.Current()
	if err != nil {
		h.fail(c, err)
		return
	}
	res := snap.Index.Search(q)
	disjunctiveFacets(snap.Index, q, res.Facets)
	ids := make([]string, len(res.Hits))
	for i, hit := range res.Hits {
		ids[i] = hit.ID
	}
	items, err := h.d.Items.ItemsByID(c.Request.Context(), ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := SearchResponse{Total: res.Total, Version: snap.Version, Results: make([]SearchResult, 0, len(res.Hits)),
		Facets: res.Facets, Corrected: res.Corrected}
	for _, hit := range res.Hits {
		it, ok := items[hit.ID]
		if !ok { // indexed but not (yet) published: skip rather than show an empty row
			continue
		}
		out.Results = append(out.Results, SearchResult{ID: it.ID, Type: it.Type, Title: it.Title, Year: it.Year,
			Score: hit.Score, Subtitle: it.Subtitle, Description: it.Description, ImageURL: it.ImageURL, URL: it.URL,
			Highlights: highlights(q.Text, map[string]string{"title": it.Title, "subtitle": it.Subtitle})})
	}
	c.JSON(http.StatusOK, out)
}

// disjunctiveFacets recounts each requested facet that the query also filters on without
// that facet's own filter, so the counts show what ticking another value (OR within a
// facet) would add, not only the values already chosen.
func disjunctiveFacets(ix *search.Index, q search.Query, facets map[string][]search.FacetCount) {
	for _, f := range q.Facets {
		alt := q
		alt.Facets, alt.Limit, alt.Offset = []string{f}, 1, 0
		switch {
		case f == "type" && q.Type != "":
			alt.Type = ""
		case f == "decade" && (q.YearFrom > 0 || q.YearTo > 0):
			alt.YearFrom, alt.YearTo = 0, 0
		case len(q.Filters[f]) > 0:
			alt.Filters = maps.Clone(q.Filters)
			delete(alt.Filters, f)
		default:
			continue
		}
		facets[f] = ix.Search(alt).Facets[f]
	}
}

// Suggestion is one completion of GET /api/suggest.
type Suggestion struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Highlights [][2]int `json:"highlights,omitempty"`
}

func (h *handlers) suggest(c *gin.Context) {
	text, err := queryText(c, "the beginning of a title")
	if err != nil {
		h.fail(c, err)
		return
	}
	typ, err := typeQuery(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	limit, err := intQuery(c, "limit", 1, 20, 8)
	if err != nil {
		h.fail(c, err)
		return
	}
	snap, err := h.d.Index.Current()
	if err != nil {
		h.fail(c, err)
		return
	}
	out := []Suggestion{}
	for _, s := range snap.Index.Suggest(text, typ, limit) {
		out = append(out, Suggestion{ID: s.ID, Type: s.Type, Title: s.Title, Highlights: runeSpans(s.Title, text)})
	}
	c.JSON(http.StatusOK, gin.H{"suggestions": out})
}

func requestLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		logger.Debug("http request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "took", time.Since(start))
	}
}
