package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/curiodata/curio/internal/storage/postgres"
)

// Limits protect the API. Zero values take the defaults in parentheses.
type Limits struct {
	SearchRate  float64       // search/suggest requests per second per client; < 0 disables (20)
	SearchBurst int           // (40)
	Timeout     time.Duration // per request (10s)
	MaxBody     int64         // bytes (1 MiB)
	// TrustedProxies are the CIDRs whose X-Forwarded-For names the client; none by default,
	// so a client cannot dodge the rate limit by sending the header.
	TrustedProxies []string
}

func (l Limits) withDefaults() Limits {
	if l.SearchRate == 0 {
		l.SearchRate = 20
	}
	if l.SearchBurst <= 0 {
		l.SearchBurst = 40
	}
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 1 << 20
	}
	return l
}

// ShardStatsReader reads batch shard timings (PostgreSQL in production).
type ShardStatsReader interface {
	ShardDurations(ctx context.Context) ([]postgres.JobDuration, error)
}

// apiMetrics are the Prometheus metrics the API serves at /metrics.
type apiMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	limited  prometheus.Counter
}

func newMetrics(d Deps) *apiMetrics {
	reg := prometheus.NewRegistry()
	m := &apiMetrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "curio_http_requests_total",
			Help: "HTTP requests served, by method, route and status code."}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "curio_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}},
			[]string{"route"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{Name: "curio_http_rate_limited_total",
			Help: "Requests refused by the per-client search rate limit."}),
	}
	reg.MustRegister(m.requests, m.latency, m.limited, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &stateCollector{d: d})
	return m
}

func (m *apiMetrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "static"
			if st := c.Writer.Status(); st == http.StatusNotFound || st == http.StatusMethodNotAllowed {
				route = "unmatched"
			}
		}
		m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

func (m *apiMetrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// stateCollector reports the served index and the warehouse's pipeline counters at scrape
// time. Warehouse figures are read at most every 10 s, so frequent scrapes cost nothing.
type stateCollector struct {
	d      Deps
	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

var (
	descIndexDocs   = prometheus.NewDesc("curio_search_index_docs", "Documents in the served search index.", nil, nil)
	descIndexInfo   = prometheus.NewDesc("curio_search_index_info", "The served search index version (value 1).", []string{"version"}, nil)
	descIndexLoaded = prometheus.NewDesc("curio_search_index_loaded_timestamp_seconds", "When the served index was loaded.", nil, nil)
	descLag         = prometheus.NewDesc("curio_ingest_consumer_lag", "Messages a consumer has yet to commit, by consumer and partition.",
		[]string{"consumer", "partition"}, nil)
	descStuck = prometheus.NewDesc("curio_ingest_partition_stuck",
		"1 while a partition has lag and its consumer has committed nothing for CURIO_INGEST_STUCK_AFTER: alert on it.",
		[]string{"consumer", "partition"}, nil)
	descLanded    = prometheus.NewDesc("curio_events_landed_total", "Events landed in the warehouse (raw_events).", nil, nil)
	descDead      = prometheus.NewDesc("curio_dead_letters_total", "Messages dead-lettered, by reason.", []string{"reason"}, nil)
	descStream    = prometheus.NewDesc("curio_stream_events_total", "Events counted by the speed line.", nil, nil)
	descLate      = prometheus.NewDesc("curio_stream_late_events_total", "Events that arrived after their window closed.", nil, nil)
	descShards    = prometheus.NewDesc("curio_batch_shard_duration_seconds", "Duration of finished batch shard attempts, by job.", []string{"job"}, nil)
	descScrapeErr = prometheus.NewDesc("curio_metrics_warehouse_up", "1 when the last read of warehouse metrics succeeded.", nil, nil)
)

// Describe sends nothing: the collector is unchecked (its label values vary).
func (s *stateCollector) Describe(chan<- *prometheus.Desc) {}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if s.d.Index != nil {
		if snap, err := s.d.Index.Current(); err == nil {
			ch <- prometheus.MustNewConstMetric(descIndexDocs, prometheus.GaugeValue, float64(snap.Index.Len()))
			ch <- prometheus.MustNewConstMetric(descIndexInfo, prometheus.GaugeValue, 1, snap.Version)
			ch <- prometheus.MustNewConstMetric(descIndexLoaded, prometheus.GaugeValue, float64(snap.LoadedAt.Unix()))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.at) > 10*time.Second {
		s.cached, s.at = s.readWarehouse(), time.Now()
	}
	for _, m := range s.cached {
		ch <- m
	}
}

func (s *stateCollector) readWarehouse() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out []prometheus.Metric
	up := 1.0
	if s.d.Activity != nil {
		st, err := s.d.Activity.Stats(ctx)
		if err != nil {
			up = 0
			s.d.Logger.Warn("metrics: ingest stats", "err", err)
		} else {
			out = append(out, stat(descLanded, st.Landed), stat(descStream, st.StreamEvents), stat(descLate, st.LateEvents))
			for reason, n := range st.DeadLetters {
				out = append(out, prometheus.MustNewConstMetric(descDead, prometheus.CounterValue, float64(n), reason))
			}
			for _, p := range st.Partitions {
				part := strconv.Itoa(int(p.Partition))
				stuck := 0.0
				if p.Stuck {
					stuck = 1
				}
				out = append(out, prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(p.Lag), p.Consumer, part),
					prometheus.MustNewConstMetric(descStuck, prometheus.GaugeValue, stuck, p.Consumer, part))
			}
		}
	}
	if s.d.ShardStats != nil {
		jobs, err := s.d.ShardStats.ShardDurations(ctx)
		if err != nil {
			up = 0
			s.d.Logger.Warn("metrics: shard durations", "err", err)
		}
		for _, j := range jobs {
			out = append(out, prometheus.MustNewConstSummary(descShards, uint64(j.Count), j.Seconds, nil, j.Job))
		}
	}
	return append(out, prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, up))
}

func stat(d *prometheus.Desc, n int64) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n))
}

// limitBody caps request bodies and bounds each request's time through its context.
func limitBody(l Limits) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > l.MaxBody {
			c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": "request body too large: at most " + strconv.FormatInt(l.MaxBody, 10) + " bytes"})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, l.MaxBody)
		ctx, cancel := context.WithTimeout(c.Request.Context(), l.Timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// clientLimiter is a token bucket per client IP. Idle clients are forgotten.
type clientLimiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	seen  map[string]*clientBucket
	swept time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newClientLimiter(perSecond float64, burst int) *clientLimiter {
	return &clientLimiter{rate: rate.Limit(perSecond), burst: burst, seen: map[string]*clientBucket{}, swept: time.Now()}
}

func (l *clientLimiter) allow(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.seen {
			if now.Sub(b.last) > 10*time.Minute {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	b, ok := l.seen[client]
	if !ok {
		b = &clientBucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.seen[client] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (h *handlers) rateLimited(l *clientLimiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l == nil {
			return
		}
		ok, wait := l.allow(c.ClientIP(), time.Now())
		if !ok {
			h.metrics.limited.Inc()
			c.Header("Retry-After", strconv.Itoa(max(1, int(wait.Seconds()+0.999))))
			c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "too many requests: at most " +
				strconv.FormatFloat(float64(l.rate), 'f', -1, 64) + " searches per second per client; retry later"})
		}
	}
}

// live answers as long as the process serves HTTP: restart it when this fails.
func (h *handlers) live(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "alive"})
}

// validProxies drops entries that are neither CIDRs nor IPs (config validates them first).
func validProxies(ps []string, logger *slog.Logger) []string {
	var out []string
	for _, p := range ps {
		if _, _, err := net.ParseCIDR(p); err == nil || net.ParseIP(p) != nil {
			out = append(out, p)
		} else {
			logger.Warn("ignoring trusted proxy", "value", p)
		}
	}
	return out
}

// NewServer wraps h in an http.Server with time limits derived from l: a slow client
// cannot hold a connection open, and no response is written after the request's budget.
func NewServer(h http.Handler, l Limits) *http.Server {
	l = l.withDefaults()
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: l.Timeout,
		WriteTimeout: l.Timeout + 5*time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// LimitsFrom maps the process configuration onto Limits.
func LimitsFrom(rate float64, burst int, timeout time.Duration, maxBody int64, proxies []string) Limits {
	if rate == 0 {
		rate = -1 // configured 0 means unlimited
	}
	return Limits{SearchRate: rate, SearchBurst: burst, Timeout: timeout, MaxBody: maxBody, TrustedProxies: proxies}
}
