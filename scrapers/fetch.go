// Package scrapers holds the crawling plumbing shared by Curio's sources: a polite,
// retrying, conditional-GET fetcher built on colly. Parsing lives in one package per
// source (scrapers/imdb, scrapers/artsy) and is pure: bytes in, records out.
package scrapers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"
)

// Options configure a Fetcher. Zero values get polite defaults.
type Options struct {
	UserAgent     string        // default DefaultUserAgent
	Delay         time.Duration // minimum gap between requests to one host; default 1s
	Parallelism   int           // concurrent requests per host; default 2
	MaxAttempts   int           // tries per URL for retryable failures; default 4
	RetryBase     time.Duration // first backoff, doubled each try, with jitter; default 500ms
	MaxRetryAfter time.Duration // cap on a server's Retry-After; default 60s
	Timeout       time.Duration // per request; default 30s
	IgnoreRobots  bool          // robots.txt is honoured unless this is set
	MaxBodyBytes  int           // default 10 MiB
}

// DefaultUserAgent identifies Curio's crawler.
const DefaultUserAgent = "CurioBot/1.0 (+https://github.com/curiodata/curio)"

func (o Options) withDefaults() Options {
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Delay <= 0 {
		o.Delay = time.Second
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 2
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 500 * time.Millisecond
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	return o
}

// Validators are a previous fetch's cache validators, sent as a conditional GET.
type Validators struct {
	ETag, LastModified string
}

// Page is the outcome of fetching one URL. Err is set when no usable response was
// obtained after all attempts; Status is then the last HTTP status seen (0 if none).
type Page struct {
	URL          string
	Status       int
	Body         []byte
	ContentType  string
	ETag         string
	LastModified string
	NotModified  bool // 304: the caller's stored body is still current
	Attempts     int
	FetchedAt    time.Time
	Err          error

	retryAfter time.Duration
}

// OK reports whether the page has a usable body (200) or is unchanged (304).
func (p Page) OK() bool { return p.Err == nil && (p.Status == http.StatusOK || p.NotModified) }

// ErrBlocked is returned (in Page.Err) for URLs robots.txt disallows; they are not retried.
var ErrBlocked = errors.New("disallowed by robots.txt")

// Fetcher fetches pages politely. It is safe for concurrent use; rate limits and
// parallelism are shared by all callers.
type Fetcher struct {
	base *colly.Collector
	opts Options
}

// NewFetcher returns a Fetcher.
func NewFetcher(opts Options) (*Fetcher, error) {
	opts = opts.withDefaults()
	c := colly.NewCollector(
		colly.UserAgent(opts.UserAgent),
		colly.AllowURLRevisit(),
		colly.ParseHTTPErrorResponse(),
		colly.MaxBodySize(opts.MaxBodyBytes),
	)
	c.IgnoreRobotsTxt = opts.IgnoreRobots
	c.SetRequestTimeout(opts.Timeout)
	if err := c.Limit(&colly.LimitRule{DomainGlob: "*", Delay: opts.Delay, RandomDelay: opts.Delay / 4, Parallelism: opts.Parallelism}); err != nil {
		return nil, fmt.Errorf("fetcher rate limit: %w", err)
	}
	return &Fetcher{base: c, opts: opts}, nil
}

// Fetch gets url, retrying network errors, 429 and 5xx with exponential backoff (honouring
// Retry-After), and sends prev as If-None-Match / If-Modified-Since when given.
func (f *Fetcher) Fetch(ctx context.Context, url string, prev *Validators) Page {
	var p Page
	for attempt := 1; ; attempt++ {
		p = f.once(ctx, url, prev)
		p.Attempts = attempt
		retry, wait := f.retryable(p, attempt)
		if !retry || attempt >= f.opts.MaxAttempts {
			if p.Err == nil && !p.OK() {
				p.Err = fmt.Errorf("HTTP %d %s", p.Status, http.StatusText(p.Status))
			}
			return p
		}
		select {
		case <-ctx.Done():
			p.Err = fmt.Errorf("fetch %s: %w", url, ctx.Err())
			return p
		case <-time.After(wait):
		}
	}
}

func (f *Fetcher) retryable(p Page, attempt int) (bool, time.Duration) {
	backoff := f.opts.RetryBase << (attempt - 1)
	backoff += time.Duration(rand.Int64N(int64(backoff)/2 + 1))
	switch {
	case errors.Is(p.Err, ErrBlocked), errors.Is(p.Err, context.Canceled), errors.Is(p.Err, context.DeadlineExceeded):
		return false, 0
	case p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable:
		if p.retryAfter > 0 {
			return true, min(p.retryAfter, f.opts.MaxRetryAfter)
		}
		return true, backoff
	case p.Status >= 500:
		return true, backoff
	case p.Err != nil && p.Status == 0:
		return true, backoff // network error or timeout
	}
	return false, 0
}

func (f *Fetcher) once(ctx context.Context, url string, prev *Validators) Page {
	c := f.base.Clone() // shares the HTTP backend, limits and robots.txt cache
	c.Context = ctx
	p := Page{URL: url}
	c.OnResponse(func(r *colly.Response) {
		p.Status = r.StatusCode
		p.Body = r.Body
		p.ContentType = r.Headers.Get("Content-Type")
		p.ETag = r.Headers.Get("ETag")
		p.LastModified = r.Headers.Get("Last-Modified")
		p.NotModified = r.StatusCode == http.StatusNotModified
		p.retryAfter = parseRetryAfter(r.Headers.Get("Retry-After"), time.Now())
	})
	c.OnError(func(r *colly.Response, err error) {
		if r != nil && r.StatusCode != 0 {
			p.Status = r.StatusCode
		}
		p.Err = err
	})
	hdr := http.Header{}
	if prev != nil {
		if prev.ETag != "" {
			hdr.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			hdr.Set("If-Modified-Since", prev.LastModified)
		}
	}
	err := c.Request(http.MethodGet, url, nil, nil, hdr)
	p.FetchedAt = time.Now().UTC()
	switch {
	case errors.Is(err, colly.ErrRobotsTxtBlocked):
		p.Err = fmt.Errorf("%s: %w", url, ErrBlocked)
	case err != nil && p.Err == nil:
		p.Err = err
	}
	if p.Err != nil && ctx.Err() != nil {
		p.Err = fmt.Errorf("fetch %s: %w", url, ctx.Err())
	}
	if p.Status != 0 && p.Err != nil && !errors.Is(p.Err, ErrBlocked) && ctx.Err() == nil {
		p.Err = nil // an HTTP response: its status says what happened
	}
	return p
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
