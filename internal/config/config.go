// Package config reads Curio's configuration once, at the edge, from environment
// variables. Everything else receives the values it needs explicitly.
package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/curiodata/curio/internal/alerts"
)

// Config is the whole configuration of a Curio process.
type Config struct {
	DataDir string // CURIO_DATA_DIR: where embedded services keep state

	HTTPAddr string // CURIO_HTTP_ADDR: API and web app

	TemporalHostPort  string // CURIO_TEMPORAL_HOSTPORT: existing cluster; empty = embedded server
	TemporalAddr      string // CURIO_TEMPORAL_ADDR: embedded server's frontend address
	TemporalUIAddr    string // CURIO_TEMPORAL_UI_ADDR: embedded Temporal UI address
	TemporalNamespace string // CURIO_TEMPORAL_NAMESPACE
	TaskQueue         string // CURIO_TASK_QUEUE: shared queue for workflows and batch activities

	KafkaBrokers []string // CURIO_KAFKA_BROKERS: comma separated; empty = embedded broker
	KafkaAddr    string   // CURIO_KAFKA_ADDR: embedded broker's listen address

	MySQLDSN    string // CURIO_MYSQL_DSN: go-sql-driver DSN; empty = local server under DataDir
	PostgresDSN string // CURIO_POSTGRES_DSN: pgx DSN/URL; empty = local server under DataDir

	Workers       int           // CURIO_DEV_WORKERS: workers started by `curio dev`
	IndexShards   int           // CURIO_INDEX_SHARDS: 0 = chosen from corpus size
	ReloadEvery   time.Duration // CURIO_INDEX_RELOAD_INTERVAL: how often the API polls for a new version
	LogLevel      string        // CURIO_LOG_LEVEL: debug, info, warn, error
	LogFormat     string        // CURIO_LOG_FORMAT: text or json
	TemporalLog   string        // CURIO_TEMPORAL_LOG_LEVEL: embedded server's log level
	RunPipeline   bool          // CURIO_DEV_RUN_PIPELINE: run CatalogPipeline when `curio dev` starts
	DemoMovies    int           // CURIO_DEMO_MOVIES
	DemoArtworks  int           // CURIO_DEMO_ARTWORKS
	WorkerSlots   int           // CURIO_WORKER_ACTIVITIES: concurrent activities per worker
	ShutdownGrace time.Duration // CURIO_SHUTDOWN_GRACE

	EventRate       float64       // CURIO_DEV_EVENT_RATE: simulated events per second in `curio dev` (0: none)
	ScrapeUserAgent string        // CURIO_SCRAPE_USER_AGENT
	ScrapeDelay     time.Duration // CURIO_SCRAPE_DELAY: minimum gap between requests to one host
	ScrapeParallel  int           // CURIO_SCRAPE_PARALLELISM: concurrent requests per host

	// AdminToken guards the API's state-changing endpoints (CURIO_ADMIN_TOKEN, or the
	// file named by CURIO_ADMIN_TOKEN_FILE); empty disables them. Never logged.
	AdminToken     string
	SearchRate     float64       // CURIO_SEARCH_RATE: search requests per second per client (0: unlimited)
	SearchBurst    int           // CURIO_SEARCH_BURST
	HTTPTimeout    time.Duration // CURIO_HTTP_TIMEOUT: longest a request may take
	HTTPMaxBody    int64         // CURIO_HTTP_MAX_BODY: largest request body, bytes
	TrustedProxies []string      // CURIO_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For is believed
	HealthAddr     string        // CURIO_HEALTH_ADDR: workers' and the generator's probe/metrics address
	TemporalUIURL  string        // CURIO_TEMPORAL_UI_URL: Temporal UI the web app links to

	// BackfillMaxPartitions caps the partitions one backfill may plan
	// (CURIO_BACKFILL_MAX_PARTITIONS, 1 to assets.MaxBackfillPartitionsCeiling).
	BackfillMaxPartitions int

	// EventMaxFuture and EventMaxAge bound event times against the consumers' clock
	// (CURIO_EVENT_MAX_FUTURE, CURIO_EVENT_MAX_AGE; 0 = no bound). Events outside go to
	// dead letters; event ids are remembered for EventMaxAge to drop repeats.
	EventMaxFuture time.Duration
	EventMaxAge    time.Duration
	// IngestStuckAfter is how long a lagging partition may stand still before /readyz and
	// /metrics report it stuck (CURIO_INGEST_STUCK_AFTER).
	IngestStuckAfter time.Duration

	// AlertWebhooks receive alert notices (CURIO_ALERT_WEBHOOKS, or the file named by
	// CURIO_ALERT_WEBHOOKS_FILE when that is empty, as for the admin token): slack=URL and
	// generic=URL entries (alerts.ParseWebhooks). The URLs are secrets: never printed.
	AlertWebhooks []alerts.Webhook
	// AlertHMACSecret signs generic webhook notices (CURIO_ALERT_HMAC_SECRET, or the file
	// named by CURIO_ALERT_HMAC_SECRET_FILE when that is empty); empty: unsigned. Never logged.
	AlertHMACSecret string
	// AlertDeadLetterSpike is how many dead letters in 10 minutes open a dead-letter
	// incident (CURIO_ALERT_DEAD_LETTER_SPIKE; 0: no such alert).
	AlertDeadLetterSpike int
	// Automation runs the automation workflow (policies, sensors, alerts) in `curio dev`
	// (CURIO_AUTOMATION); AutomationInterval is how often it evaluates (CURIO_AUTOMATION_INTERVAL).
	Automation         bool
	AutomationInterval time.Duration
}

// String describes c without secrets: the admin token is left out and DSN passwords are
// masked (see RedactDSN).
func (c Config) String() string {
	c.AdminToken = redacted(c.AdminToken)
	c.AlertHMACSecret = redacted(c.AlertHMACSecret) // AlertWebhooks print redacted (alerts.Webhook.String)
	c.PostgresDSN = RedactDSN(c.PostgresDSN)
	c.MySQLDSN = RedactDSN(c.MySQLDSN)
	type plain Config
	return fmt.Sprintf("%+v", plain(c))
}

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "(redacted)"
}

// Secret reports whether the variable holds a secret that must never be printed.
func Secret(name string) bool {
	return name == "CURIO_ADMIN_TOKEN" || name == "CURIO_ALERT_WEBHOOKS" || name == "CURIO_ALERT_HMAC_SECRET" ||
		strings.HasSuffix(name, "_DSN")
}

// Shown is how a variable's value may be printed (`curio config`): DSNs with their
// passwords masked, other secrets not at all, everything else as it is.
func Shown(name, value string) string {
	switch {
	case value == "" || !Secret(name):
		return value
	case strings.HasSuffix(name, "_DSN"):
		return RedactDSN(value)
	default:
		return "(set, not shown)"
	}
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable FromEnv reads, with defaults; README's table mirrors it.
func Vars() []Var {
	return []Var{
		{"CURIO_DATA_DIR", "./.curio", "state of embedded services (Temporal SQLite file, local databases)"},
		{"CURIO_HTTP_ADDR", "127.0.0.1:8080", "API and web app listen address"},
		{"CURIO_TEMPORAL_HOSTPORT", "", "existing Temporal frontend (host:port); empty starts an embedded server"},
		{"CURIO_TEMPORAL_ADDR", "127.0.0.1:7233", "embedded Temporal frontend gRPC address"},
		{"CURIO_TEMPORAL_UI_ADDR", "127.0.0.1:8233", "embedded Temporal UI address"},
		{"CURIO_TEMPORAL_NAMESPACE", "default", "Temporal namespace"},
		{"CURIO_TASK_QUEUE", "curio-batch", "shared task queue for workflows and batch activities"},
		{"CURIO_KAFKA_BROKERS", "", "Kafka bootstrap brokers, comma separated; empty starts an embedded broker"},
		{"CURIO_KAFKA_ADDR", "127.0.0.1:9092", "embedded Kafka-protocol broker address"},
		{"CURIO_MYSQL_DSN", "", "serving database (go-sql-driver DSN); empty starts a local MariaDB/MySQL under the data dir"},
		{"CURIO_POSTGRES_DSN", "", "warehouse database (pgx DSN or URL); empty starts a local PostgreSQL under the data dir"},
		{"CURIO_DEV_WORKERS", "3", "workers `curio dev` starts, each with its own identity"},
		{"CURIO_WORKER_ACTIVITIES", "4", "concurrent activities per worker"},
		{"CURIO_INDEX_SHARDS", "0", "search index shards; 0 picks from the corpus size"},
		{"CURIO_INDEX_RELOAD_INTERVAL", "2s", "how often the API checks MySQL for a newly published index"},
		{"CURIO_DEV_RUN_PIPELINE", "true", "run CatalogPipeline once when `curio dev` starts"},
		{"CURIO_DEMO_MOVIES", "2000", "generated movies in the demo catalog"},
		{"CURIO_DEMO_ARTWORKS", "3000", "generated artworks in the demo catalog"},
		{"CURIO_LOG_LEVEL", "info", "debug, info, warn or error"},
		{"CURIO_LOG_FORMAT", "text", "text or json"},
		{"CURIO_TEMPORAL_LOG_LEVEL", "warn", "log level of the embedded Temporal server"},
		{"CURIO_SHUTDOWN_GRACE", "20s", "how long a stop waits for in-flight work"},
		{"CURIO_DEV_EVENT_RATE", "5", "simulated user events per second `curio dev` produces (0 turns the generator off)"},
		{"CURIO_SCRAPE_USER_AGENT", "CurioBot/1.0 (+https://github.com/curiodata/curio)", "User-Agent of the crawler"},
		{"CURIO_SCRAPE_DELAY", "1s", "minimum gap between two requests to one host"},
		{"CURIO_SCRAPE_PARALLELISM", "2", "concurrent requests per host"},
		{"CURIO_ADMIN_TOKEN", "", "bearer token for the API's state-changing endpoints (start runs, backfills, schedules); empty disables them"},
		{"CURIO_ADMIN_TOKEN_FILE", "", "file holding the admin token (e.g. a Docker secret); used when CURIO_ADMIN_TOKEN is empty"},
		{"CURIO_SEARCH_RATE", "20", "search and suggest requests per second per client IP (0: unlimited)"},
		{"CURIO_SEARCH_BURST", "40", "requests a client may make at once before the rate applies"},
		{"CURIO_HTTP_TIMEOUT", "10s", "longest an API request may take"},
		{"CURIO_HTTP_MAX_BODY", "1048576", "largest accepted request body in bytes"},
		{"CURIO_HEALTH_ADDR", "", "where `curio worker` and `curio events generate` serve /livez, /readyz and /metrics; empty: off"},
		{"CURIO_TEMPORAL_UI_URL", "", "Temporal UI address the web app links runs to (curio dev fills it in)"},
		{"CURIO_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted; empty trusts none"},
		{"CURIO_BACKFILL_MAX_PARTITIONS", "10000", "most partitions one backfill may plan (1 to 50000); larger ranges are refused"},
		{"CURIO_EVENT_MAX_FUTURE", "15m", "events dated further ahead of the consumer's clock go to dead letters (future_ts); 0: no bound"},
		{"CURIO_EVENT_MAX_AGE", "168h", "events older than this go to dead letters (expired_ts); event ids are remembered this long to drop repeats; 0: no bound"},
		{"CURIO_INGEST_STUCK_AFTER", "2m", "a partition whose consumer has lag but commits nothing for this long is reported stuck (/readyz, /metrics)"},
		{"CURIO_ALERT_WEBHOOKS", "", "alert receivers, comma or newline separated: slack=URL (Slack-compatible) or generic=URL (signed JSON); empty: incidents are only tracked"},
		{"CURIO_ALERT_WEBHOOKS_FILE", "", "file holding the alert webhooks, one per line, # comments allowed (e.g. a Docker secret); used when CURIO_ALERT_WEBHOOKS is empty"},
		{"CURIO_ALERT_HMAC_SECRET", "", "key of the X-Curio-Signature HMAC-SHA256 on generic webhook notices; empty: unsigned"},
		{"CURIO_ALERT_HMAC_SECRET_FILE", "", "file holding the alert HMAC secret; used when CURIO_ALERT_HMAC_SECRET is empty"},
		{"CURIO_ALERT_DEAD_LETTER_SPIKE", "100", "dead letters within 10 minutes that open a dead-letter incident (0: no such alert)"},
		{"CURIO_AUTOMATION", "true", "curio dev starts the automation workflow (eager/cron/missing/freshness policies, sensors, alerts)"},
		{"CURIO_AUTOMATION_INTERVAL", "15s", "how often the automation workflow evaluates policies, sensors and alerts"},
	}
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup reads the configuration through lookup (os.LookupEnv in production, a map in tests).
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		if v, ok := lookup(name); ok {
			return strings.TrimSpace(v)
		}
		for _, v := range Vars() {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []string
	atoi := func(name string) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < 0 {
			errs = append(errs, fmt.Sprintf("%s=%q: want a non-negative integer", name, get(name)))
		}
		return n
	}
	dur := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s=%q: want a positive duration like 2s", name, get(name)))
		}
		return d
	}
	durOrZero := func(name string) time.Duration {
		if get(name) == "0" {
			return 0
		}
		return dur(name)
	}
	float := func(name string) float64 {
		f, err := strconv.ParseFloat(get(name), 64)
		if err != nil || f < 0 {
			errs = append(errs, fmt.Sprintf("%s=%q: want a non-negative number", name, get(name)))
		}
		return f
	}
	boolean := func(name string) bool {
		b, err := strconv.ParseBool(get(name))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: want true or false", name, get(name)))
		}
		return b
	}
	c := Config{
		DataDir:           get("CURIO_DATA_DIR"),
		HTTPAddr:          get("CURIO_HTTP_ADDR"),
		TemporalHostPort:  get("CURIO_TEMPORAL_HOSTPORT"),
		TemporalAddr:      get("CURIO_TEMPORAL_ADDR"),
		TemporalUIAddr:    get("CURIO_TEMPORAL_UI_ADDR"),
		TemporalNamespace: get("CURIO_TEMPORAL_NAMESPACE"),
		TaskQueue:         get("CURIO_TASK_QUEUE"),
		KafkaAddr:         get("CURIO_KAFKA_ADDR"),
		MySQLDSN:          get("CURIO_MYSQL_DSN"),
		PostgresDSN:       get("CURIO_POSTGRES_DSN"),
		Workers:           atoi("CURIO_DEV_WORKERS"),
		WorkerSlots:       atoi("CURIO_WORKER_ACTIVITIES"),
		IndexShards:       atoi("CURIO_INDEX_SHARDS"),
		ReloadEvery:       dur("CURIO_INDEX_RELOAD_INTERVAL"),
		RunPipeline:       boolean("CURIO_DEV_RUN_PIPELINE"),
		DemoMovies:        atoi("CURIO_DEMO_MOVIES"),
		DemoArtworks:      atoi("CURIO_DEMO_ARTWORKS"),
		LogLevel:          strings.ToLower(get("CURIO_LOG_LEVEL")),
		LogFormat:         strings.ToLower(get("CURIO_LOG_FORMAT")),
		TemporalLog:       strings.ToLower(get("CURIO_TEMPORAL_LOG_LEVEL")),
		ShutdownGrace:     dur("CURIO_SHUTDOWN_GRACE"),
		EventRate:         float("CURIO_DEV_EVENT_RATE"),
		ScrapeUserAgent:   get("CURIO_SCRAPE_USER_AGENT"),
		ScrapeDelay:       dur("CURIO_SCRAPE_DELAY"),
		ScrapeParallel:    atoi("CURIO_SCRAPE_PARALLELISM"),
		AdminToken:        get("CURIO_ADMIN_TOKEN"),
		SearchRate:        float("CURIO_SEARCH_RATE"),
		SearchBurst:       atoi("CURIO_SEARCH_BURST"),
		HTTPTimeout:       dur("CURIO_HTTP_TIMEOUT"),
		HTTPMaxBody:       int64(atoi("CURIO_HTTP_MAX_BODY")),
		HealthAddr:        get("CURIO_HEALTH_ADDR"),
		TemporalUIURL:     get("CURIO_TEMPORAL_UI_URL"),

		BackfillMaxPartitions: atoi("CURIO_BACKFILL_MAX_PARTITIONS"),
		EventMaxFuture:        durOrZero("CURIO_EVENT_MAX_FUTURE"),
		EventMaxAge:           durOrZero("CURIO_EVENT_MAX_AGE"),
		IngestStuckAfter:      dur("CURIO_INGEST_STUCK_AFTER"),
		AlertHMACSecret:       get("CURIO_ALERT_HMAC_SECRET"),
		AlertDeadLetterSpike:  atoi("CURIO_ALERT_DEAD_LETTER_SPIKE"),
		Automation:            boolean("CURIO_AUTOMATION"),
		AutomationInterval:    dur("CURIO_AUTOMATION_INTERVAL"),
	}
	// secretFile fills *v from the file named by name (a Docker secret, say) when *v is unset.
	secretFile := func(name string, v *string) {
		f := get(name)
		if f == "" || *v != "" {
			return
		}
		b, err := os.ReadFile(f)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("%s: %v", name, err))
		case strings.TrimSpace(string(b)) == "":
			errs = append(errs, fmt.Sprintf("%s: %s is empty", name, f))
		default:
			*v = strings.TrimSpace(string(b))
		}
	}
	secretFile("CURIO_ADMIN_TOKEN_FILE", &c.AdminToken)
	secretFile("CURIO_ALERT_HMAC_SECRET_FILE", &c.AlertHMACSecret)
	alertHooks := get("CURIO_ALERT_WEBHOOKS")
	alertHooksVar := "CURIO_ALERT_WEBHOOKS"
	if f := get("CURIO_ALERT_WEBHOOKS_FILE"); f != "" && alertHooks == "" {
		alertHooksVar = "CURIO_ALERT_WEBHOOKS_FILE"
		if b, err := os.ReadFile(f); err != nil {
			errs = append(errs, fmt.Sprintf("CURIO_ALERT_WEBHOOKS_FILE: %v", err))
		} else {
			alertHooks = string(b)
		}
	}
	if hooks, err := alerts.ParseWebhooks(alertHooks); err != nil { // errors show no URL
		errs = append(errs, fmt.Sprintf("%s: %s", alertHooksVar, strings.ReplaceAll(err.Error(), "\n", "; ")))
	} else {
		c.AlertWebhooks = hooks
	}
	if c.AlertHMACSecret != "" && len(c.AlertHMACSecret) < 16 {
		errs = append(errs, "CURIO_ALERT_HMAC_SECRET: use at least 16 characters (e.g. openssl rand -hex 32)")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, "CURIO_ADMIN_TOKEN: use at least 16 characters (e.g. openssl rand -hex 24)")
	}
	// 50000 is assets.MaxBackfillPartitionsCeiling: a plan must fit one Temporal payload.
	if c.BackfillMaxPartitions < 1 || c.BackfillMaxPartitions > 50_000 {
		errs = append(errs, fmt.Sprintf("CURIO_BACKFILL_MAX_PARTITIONS=%q: want an integer from 1 to 50000", get("CURIO_BACKFILL_MAX_PARTITIONS")))
	}
	if c.HTTPMaxBody == 0 {
		errs = append(errs, "CURIO_HTTP_MAX_BODY must be positive")
	}
	for _, p := range strings.Split(get("CURIO_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				errs = append(errs, fmt.Sprintf("CURIO_TRUSTED_PROXIES: %q is not a CIDR or IP", p))
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	for _, b := range strings.Split(get("CURIO_KAFKA_BROKERS"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.KafkaBrokers = append(c.KafkaBrokers, b)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("CURIO_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Sprintf("CURIO_LOG_FORMAT=%q: want text or json", c.LogFormat))
	}
	if c.TaskQueue == "" || c.TemporalNamespace == "" {
		errs = append(errs, "CURIO_TASK_QUEUE and CURIO_TEMPORAL_NAMESPACE must not be empty")
	}
	if c.Workers == 0 {
		c.Workers = 1
	}
	if c.WorkerSlots == 0 {
		c.WorkerSlots = 1
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c, nil
}
