package scrapers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crawl benchmarks fetch a 20 KB page from a local server with 4 concurrent callers:
// the Fetcher (colly, robots.txt, limits, retries) next to plain net/http as the peer.
func benchServer() *httptest.Server {
	page := strings.Repeat("<p>Curio benchmark page</p>\n", 700)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			io.WriteString(w, "User-agent: *\nAllow: /\n")
			return
		}
		io.WriteString(w, page)
	}))
}

func parallel(b *testing.B, workers int, fetch func() error) {
	var wg sync.WaitGroup
	ch := make(chan struct{})
	go func() {
		for b.Loop() {
			ch <- struct{}{}
		}
		close(ch)
	}()
	for range workers {
		wg.Go(func() {
			for range ch {
				if err := fetch(); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

func BenchmarkCrawlFetcher(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	f, err := NewFetcher(Options{Delay: time.Nanosecond, Parallelism: 4})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	parallel(b, 4, func() error {
		p := f.Fetch(ctx, srv.URL+"/title/tt1/", nil)
		return p.Err
	})
}

func BenchmarkCrawlRawHTTP(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	parallel(b, 4, func() error {
		resp, err := c.Get(srv.URL + "/title/tt1/")
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	})
}
