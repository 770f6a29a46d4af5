package scrapers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func fast() Options {
	return Options{Delay: time.Millisecond, RetryBase: 5 * time.Millisecond, MaxAttempts: 3, Timeout: 2 * time.Second, MaxRetryAfter: 2 * time.Second}
}

func TestFetchRetriesAndConditionalGet(t *testing.T) {
	var flaky, limited atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("User-agent: *\nDisallow: /private/\n"))
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, _ *http.Request) {
		if flaky.Add(1) < 3 {
			http.Error(w, "oops", http.StatusBadGateway)
			return
		}
		w.Write([]byte("finally"))
	})
	mux.HandleFunc("/limited", func(w http.ResponseWriter, _ *http.Request) {
		if limited.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte("body"))
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/ua", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.UserAgent())) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f, err := NewFetcher(fast())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	p := f.Fetch(ctx, srv.URL+"/flaky", nil)
	if !p.OK() || string(p.Body) != "finally" || p.Attempts != 3 {
		t.Errorf("flaky: %+v", p)
	}
	start := time.Now()
	p = f.Fetch(ctx, srv.URL+"/limited", nil)
	if !p.OK() || p.Attempts != 2 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("429 with Retry-After must wait and retry: %+v after %v", p, time.Since(start))
	}
	p = f.Fetch(ctx, srv.URL+"/cached", nil)
	if !p.OK() || p.ETag != `"v1"` {
		t.Fatalf("cached: %+v", p)
	}
	p = f.Fetch(ctx, srv.URL+"/cached", &Validators{ETag: p.ETag})
	if !p.OK() || !p.NotModified || p.Status != http.StatusNotModified {
		t.Errorf("conditional GET: %+v", p)
	}
	p = f.Fetch(ctx, srv.URL+"/missing", nil)
	if p.OK() || p.Status != 404 || p.Attempts != 1 || p.Err == nil {
		t.Errorf("404 is final: %+v", p)
	}
	p = f.Fetch(ctx, srv.URL+"/private/x", nil)
	if !errors.Is(p.Err, ErrBlocked) || p.Attempts != 1 {
		t.Errorf("robots.txt: %+v", p)
	}
	p = f.Fetch(ctx, srv.URL+"/ua", nil)
	if string(p.Body) != DefaultUserAgent {
		t.Errorf("user agent %q", p.Body)
	}
	p = f.Fetch(ctx, "http://127.0.0.1:1/closed", nil)
	if p.OK() || p.Err == nil || p.Attempts != 3 {
		t.Errorf("connection refused: %+v", p)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "junk": 0, "Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second, "-1": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}
