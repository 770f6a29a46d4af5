package sensors

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// object is an HTTP object that changes, served with the validators of one mode: "etag",
// "last-modified" or "none". http.ServeContent answers the conditional requests.
type object struct {
	mode string

	mu       sync.Mutex
	body     string
	modified time.Time
	status   int // when not 0, answer with it instead
	headers  []http.Header
}

func (o *object) set(body string, modified time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.body, o.modified = body, modified
}

func (o *object) fail(status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status = status
}

func (o *object) lastRequest() http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.headers[len(o.headers)-1]
}

func (o *object) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	body, modified, status := o.body, o.modified, o.status
	o.headers = append(o.headers, r.Header.Clone())
	o.mu.Unlock()
	if status != 0 {
		http.Error(w, "broken", status)
		return
	}
	switch o.mode {
	case "etag":
		w.Header().Set("ETag", etagOf(body))
		modified = time.Time{}
	case "none":
		modified = time.Time{}
	}
	http.ServeContent(w, r, "", modified, strings.NewReader(body))
}

func etagOf(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + hex.EncodeToString(sum[:6]) + `"`
}

func TestURL(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		mode        string
		version     func(body string, modified time.Time) string
		conditional string // the request header that carries the previous version
	}{
		{"etag", func(b string, _ time.Time) string { return etagOf(b) }, "If-None-Match"},
		{"last-modified", func(_ string, m time.Time) string { return m.Format(http.TimeFormat) }, "If-Modified-Since"},
		{"none", func(b string, _ time.Time) string {
			sum := sha256.Sum256([]byte(b))
			return "sha256:" + hex.EncodeToString(sum[:])
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			obj := &object{mode: tc.mode}
			obj.set("v1", t0)
			srv := httptest.NewServer(obj)
			defer srv.Close()
			url := srv.URL + "/exports/items.csv"
			s := URL("items-export", url, func(u, v string) any { return map[string]string{"url": u, "version": v} })
			if s.Interval != time.Minute || !strings.Contains(s.Description, url) {
				t.Errorf("defaults: interval %s, description %q", s.Interval, s.Description)
			}
			env := pipeline.SensorEnv{}

			// The first evaluation fires for the current version.
			res, cursor := evaluate(t, s, env, "")
			want := tc.version("v1", t0)
			if len(res.Runs) != 1 || res.Runs[0].Key != want {
				t.Fatalf("first evaluation %v, want one run keyed %q", keys(res), want)
			}
			if in := res.Runs[0].Input.(map[string]string); in["url"] != url || in["version"] != want {
				t.Errorf("input %v", in)
			}

			// Unchanged: a 304 where the server has validators.
			res, cursor = evaluate(t, s, env, cursor)
			if len(res.Runs) != 0 || !strings.HasPrefix(res.Skip, "unchanged") {
				t.Fatalf("unchanged object: runs %v, skip %q", keys(res), res.Skip)
			}
			if tc.conditional != "" {
				if got := obj.lastRequest().Get(tc.conditional); got != want {
					t.Errorf("%s: %q, want %q", tc.conditional, got, want)
				}
				if !strings.Contains(res.Skip, "304") {
					t.Errorf("skip %q, want a 304", res.Skip)
				}
			}

			// Changed: a new version and a new key.
			obj.set("v2", t0.Add(time.Minute))
			res, cursor = evaluate(t, s, env, cursor)
			want2 := tc.version("v2", t0.Add(time.Minute))
			if len(res.Runs) != 1 || res.Runs[0].Key != want2 || want2 == want {
				t.Fatalf("changed object: %v, want one run keyed %q", keys(res), want2)
			}
			if res, _ = evaluate(t, s, env, cursor); len(res.Runs) != 0 {
				t.Errorf("after the change: runs %v, want none", keys(res))
			}

			// A server error fails the evaluation and names the status.
			obj.fail(http.StatusInternalServerError)
			_, err := s.Evaluate(context.Background(), env, cursor)
			if err == nil || !strings.Contains(err.Error(), "500") {
				t.Errorf("server error: %v, want an error with the status", err)
			}
		})
	}
}

// TestURLIgnoresConditionalHeaders: a server that always answers 200 with the same ETag
// does not fire again.
func TestURLIgnoresConditionalHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ETag", `W/"same"`)
		fmt.Fprint(w, "body")
	}))
	defer srv.Close()
	s := URL("stubborn", srv.URL, nil)
	res, cursor := evaluate(t, s, pipeline.SensorEnv{}, "")
	if len(res.Runs) != 1 || res.Runs[0].Key != `W/"same"` || res.Runs[0].Input != nil {
		t.Fatalf("first: %+v", res.Runs)
	}
	if res, _ = evaluate(t, s, pipeline.SensorEnv{}, cursor); len(res.Runs) != 0 || res.Skip != "unchanged" {
		t.Errorf("second: runs %v, skip %q", keys(res), res.Skip)
	}
}

func TestURLErrors(t *testing.T) {
	_, err := URL("ftp", "ftp://example.com/x", nil).Evaluate(context.Background(), pipeline.SensorEnv{}, "")
	if err == nil || !strings.Contains(err.Error(), "ftp") {
		t.Errorf("ftp url: %v, want an error", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = URL("slow", srv.URL, nil).Evaluate(ctx, pipeline.SensorEnv{}, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: %v, want the context's deadline", err)
	}

	srv404 := httptest.NewServer(http.NotFoundHandler())
	defer srv404.Close()
	_, err = URL("missing", srv404.URL, nil).Evaluate(context.Background(), pipeline.SensorEnv{}, "")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v, want an error with the status", err)
	}
}

// TestURLRedactsPassword: the description and errors never show a URL's password.
func TestURLRedactsPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	s := URL("private", url, nil)
	_, err := s.Evaluate(context.Background(), pipeline.SensorEnv{}, "")
	var buf bytes.Buffer
	fmt.Fprint(&buf, s.Description, err)
	if err == nil || strings.Contains(buf.String(), "s3cret") {
		t.Errorf("description %q, error %v: want an error and no password", s.Description, err)
	}
}
