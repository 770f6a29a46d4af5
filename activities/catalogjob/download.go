package catalogjob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// ErrChecksumMismatch is returned, wrapped, when a dataset file's SHA-256 is not the one
// given in DatasetInput.SHA256.
var ErrChecksumMismatch = errors.New("sha256 mismatch")

// StatusError is a download answered with an HTTP status other than success.
type StatusError struct {
	URL    string // redacted: no user info, no query values
	Code   int
	Status string
}

func (e *StatusError) Error() string { return fmt.Sprintf("download %s: %s", e.URL, e.Status) }

// Temporary reports whether retrying may help: 408, 429 and 5xx.
func (e *StatusError) Temporary() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// DownloadProgress is heartbeated while a dataset URL downloads.
type DownloadProgress struct {
	URL   string `json:"url"`            // redacted
	Bytes int64  `json:"bytes"`          // received so far (after a restart, of the current transfer)
	Size  int64  `json:"size,omitempty"` // total when the server told it; 0 when unknown
}

// Downloader fetches dataset files given as http(s) URLs into temporary files on the
// worker. Imports commit batch by batch as they read, so the whole file is downloaded (and
// checked against its SHA-256 when one is given) before the import reads a row: a download
// that fails or does not match never leaves a partial import. The cost is disk space in
// TempDir for the file as served (compressed, for a .gz), held until the import ends; memory
// stays at one copy buffer. The zero value is ready to use.
type Downloader struct {
	// Client sends the requests; nil means a client on http.DefaultTransport. It should have
	// no overall Timeout: IdleTimeout bounds a stalled transfer instead.
	Client *http.Client
	// TempDir holds downloads until the import ends; "" means os.TempDir().
	TempDir string
	// Attempts is how many tries in a row may fail without receiving new bytes before the
	// download gives up; 0 means 6.
	Attempts int
	// Backoff is the wait before the first retry, doubled after each failure (with jitter);
	// 0 means 1s.
	Backoff time.Duration
	// MaxWait caps one wait, a server's Retry-After included: a longer Retry-After ends the
	// download with a retryable error; 0 means 2 minutes.
	MaxWait time.Duration
	// IdleTimeout ends an attempt that receives nothing (headers or body) for this long;
	// 0 means 30s.
	IdleTimeout time.Duration
	// Progress, when set, is called about once a second during a download and its waits.
	Progress func(DownloadProgress)
	// Logger: nil means slog.Default().
	Logger *slog.Logger
}

func (d *Downloader) attempts() int {
	if d.Attempts > 0 {
		return d.Attempts
	}
	return 6
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func (d *Downloader) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// Download fetches rawURL into a new file in TempDir and returns its path; the caller
// removes it. When wantSHA256 is not "" the file must have that hex SHA-256, or the
// error wraps ErrChecksumMismatch. Network errors, 408, 429 and 5xx are retried with
// backoff (honouring Retry-After), resuming with a Range request when the server allows it
// and the file has a strong validator (If-Range), restarting from the first byte
// otherwise. Other statuses are a *StatusError. A body sent with Content-Encoding: gzip is
// stored as is and the returned path ends in ".gz" so that it is decompressed on import;
// the checksum is of the bytes as served. Errors name the URL without user info or query
// values.
func (d *Downloader) Download(ctx context.Context, rawURL, wantSHA256 string) (string, error) {
	u, err := parseDatasetURL(rawURL)
	if err != nil {
		return "", err
	}
	name := redactURL(u)
	f, err := os.CreateTemp(d.TempDir, "curio-dataset-*-"+tempName(u))
	if err != nil {
		return "", fmt.Errorf("download %s: %w", name, err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	start := time.Now()
	t := &transfer{name: name, size: -1}
	if err := d.fetch(ctx, u, f, t); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("download %s: %w", name, err)
	}
	if wantSHA256 != "" {
		if err := verifySHA256(f.Name(), name, wantSHA256); err != nil {
			return "", err
		}
	}
	p := f.Name()
	if t.gzip && !isGzipName(p) {
		if err := os.Rename(p, p+".gz"); err != nil {
			return "", fmt.Errorf("download %s: %w", name, err)
		}
		p += ".gz"
	}
	keep = true
	d.logger().Info("dataset downloaded", "url", name, "bytes", t.written, "file", p,
		"checksum_verified", wantSHA256 != "", "took", time.Since(start).Round(time.Millisecond))
	return p, nil
}

// transfer is the state of one URL's download across attempts.
type transfer struct {
	name      string // redacted URL
	written   int64  // bytes in the file
	size      int64  // expected total, -1 when unknown
	ranges    bool   // the server accepts byte ranges
	validator string // strong ETag or Last-Modified, for If-Range
	gzip      bool   // Content-Encoding: gzip
	reported  time.Time
}

func (d *Downloader) report(t *transfer, force bool) {
	if d.Progress == nil || (!force && time.Since(t.reported) < time.Second) {
		return
	}
	t.reported = time.Now()
	d.Progress(DownloadProgress{URL: t.name, Bytes: t.written, Size: max(t.size, 0)})
}

// fetch runs attempts until the file is complete, a failure is permanent or the attempts
// run out. The failure count restarts whenever an attempt gets further into the file than
// any before it, so a long download on a flaky link keeps going while it makes progress.
func (d *Downloader) fetch(ctx context.Context, u *url.URL, f *os.File, t *transfer) error {
	var furthest int64
	failures := 0
	for {
		retryAfter, retry, err := d.try(ctx, u, f, t)
		if err == nil {
			d.report(t, true)
			return nil
		}
		if !retry || ctx.Err() != nil {
			return err
		}
		if t.written > furthest {
			furthest, failures = t.written, 0
		}
		failures++
		if failures >= d.attempts() {
			return fmt.Errorf("%w (gave up after %d failed attempts)", err, failures)
		}
		wait := d.backoff(failures)
		if retryAfter > 0 {
			wait = retryAfter
		}
		if wait > orDefault(d.MaxWait, 2*time.Minute) {
			return fmt.Errorf("%w (server asks to retry after %s)", err, wait)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return fmt.Errorf("%w (no time left to retry)", err)
		}
		d.logger().Warn("dataset download failed; retrying", "url", t.name, "error", err, "retry_in", wait,
			"bytes", t.written, "failures", failures)
		if err := d.sleep(ctx, wait, t); err != nil {
			return fmt.Errorf("download %s: %w", t.name, err)
		}
	}
}

// backoff is the wait after the n-th failure in a row: Backoff doubled n-1 times, capped
// at MaxWait, less up to half at random so that workers do not retry in step.
func (d *Downloader) backoff(n int) time.Duration {
	w := orDefault(d.Backoff, time.Second) << min(n-1, 20)
	w = min(w, orDefault(d.MaxWait, 2*time.Minute))
	return w/2 + rand.N(w/2+1)
}

// sleep waits for dur, reporting progress (a heartbeat) every few seconds meanwhile.
func (d *Downloader) sleep(ctx context.Context, dur time.Duration, t *transfer) error {
	timer := time.NewTimer(dur)
	defer timer.Stop()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		case <-tick.C:
			d.report(t, true)
		}
	}
}

var errStalled = errors.New("stalled")

// try makes one request and copies its body to f. It reports whether a failure may be
// retried and how long the server asked to wait (0: not said).
func (d *Downloader) try(ctx context.Context, u *url.URL, f *os.File, t *transfer) (retryAfter time.Duration, retry bool, err error) {
	idle := orDefault(d.IdleTimeout, 30*time.Second)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(idle, func() { cancel(fmt.Errorf("nothing received for %s: %w", idle, errStalled)) })
	defer timer.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, false, fmt.Errorf("download %s: %w", t.name, err)
	}
	// The bytes as stored: offsets for Range and the checksum refer to them, and Go's
	// transparent gzip would hide both.
	req.Header.Set("Accept-Encoding", "identity")
	resume := t.written > 0 && t.ranges && t.validator != ""
	if resume {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(t.written, 10)+"-")
		req.Header.Set("If-Range", t.validator)
	}
	client := d.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, true, transportError(actx, t.name, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
		if t.written > 0 {
			d.logger().Info("dataset download restarts from the first byte", "url", t.name, "discarded_bytes", t.written)
			if err := restart(f); err != nil {
				return 0, false, fmt.Errorf("download %s: %w", t.name, err)
			}
			t.written = 0
		}
		t.size = resp.ContentLength
		t.ranges = resp.Header.Get("Accept-Ranges") == "bytes"
		t.validator = validator(resp.Header)
		t.gzip = strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip")
	case resp.StatusCode == http.StatusPartialContent && resume:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != t.written {
			t.ranges = false // start over next time
			return 0, true, fmt.Errorf("download %s: asked for bytes from %d, got range %q", t.name, t.written, resp.Header.Get("Content-Range"))
		}
		t.size = total
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && resume:
		t.ranges = false
		return 0, true, fmt.Errorf("download %s: resume at byte %d: %s", t.name, t.written, resp.Status)
	default:
		se := &StatusError{URL: t.name, Code: resp.StatusCode, Status: resp.Status}
		if se.Temporary() {
			return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), true, se
		}
		return 0, false, se
	}

	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			timer.Reset(idle)
			if _, err := f.Write(buf[:n]); err != nil {
				return 0, false, fmt.Errorf("download %s: %w", t.name, err)
			}
			t.written += int64(n)
			d.report(t, false)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return 0, true, transportError(actx, t.name, rerr)
		}
	}
	if t.size >= 0 && t.written != t.size {
		return 0, true, fmt.Errorf("download %s: body ended at byte %d of %d", t.name, t.written, t.size)
	}
	return 0, false, nil
}

// transportError describes a failed request or body read without the URL that net/http
// puts in its errors (it keeps the query, which may hold a signature or a token).
func transportError(ctx context.Context, name string, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
		err = cause
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("download %s: %w", name, err)
}

func restart(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// validator returns what If-Range can carry: a strong ETag, else Last-Modified.
func validator(h http.Header) string {
	if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		return et
	}
	return h.Get("Last-Modified")
}

// parseContentRange parses "bytes START-END/TOTAL"; total is -1 for "*".
func parseContentRange(s string) (start, total int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, size, found := strings.Cut(spec, "/")
	first, _, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if size == "*" {
		return start, -1, true
	}
	total, err = strconv.ParseInt(size, 10, 64)
	return start, total, err == nil
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}

// verifySHA256 checks the file at p against a hex digest; name is what errors call it.
func verifySHA256(p, name, want string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("dataset %s: checksum: %w", name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("dataset %s: %w: got %s, want %s", name, ErrChecksumMismatch, got, strings.ToLower(want))
	}
	return nil
}

// isURL reports whether a DatasetInput path is an http(s) URL.
func isURL(p string) bool {
	l := strings.ToLower(p)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// parseDatasetURL accepts absolute http and https URLs with a host.
func parseDatasetURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return nil, fmt.Errorf("dataset URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("dataset URL %s: want http:// or https:// and a host", redactURL(u))
	}
	return u, nil
}

// redactURL writes u for errors, logs and heartbeats. User info and query values often
// carry credentials (basic auth, tokens, signed-URL signatures), so they are replaced; the
// query keys stay to tell URLs apart.
func redactURL(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User("redacted")
	}
	if r.RawQuery != "" {
		parts := strings.Split(r.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=redacted"
			} else {
				parts[i] = "redacted"
			}
		}
		r.RawQuery = strings.Join(parts, "&")
	}
	r.Fragment, r.RawFragment = "", ""
	return r.String()
}

// tempName is the URL's file name made safe for a temporary file name, so that the
// download keeps its suffix (".gz" decides decompression).
func tempName(u *url.URL) string {
	base := path.Base(u.Path)
	if base == "/" || base == "." {
		base = "download"
	}
	base = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, base)
	if len(base) > 80 {
		base = base[len(base)-80:]
	}
	return base
}

func isGzipName(p string) bool { return strings.HasSuffix(strings.ToLower(p), ".gz") }
