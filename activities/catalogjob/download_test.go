package catalogjob_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/importer"
)

const moviesFile = "../../internal/importer/testdata/movie_metadata.csv"

// fastDownloads retries quickly and keeps downloads in a directory the test can inspect.
func fastDownloads(t *testing.T) catalogjob.Downloader {
	return catalogjob.Downloader{TempDir: t.TempDir(), Attempts: 3, Backoff: time.Millisecond, IdleTimeout: 2 * time.Second}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// wantMovies is what importing moviesFile yields: rows that parse and rows that do not.
func wantMovies(t *testing.T) catalogjob.ImportResult {
	t.Helper()
	var res catalogjob.ImportResult
	err := importer.ReadMoviesCSV(bytes.NewReader(readFile(t, moviesFile)), func(r domain.Record) error {
		if r.Err != nil {
			res.Failed++
		} else {
			res.OK++
		}
		return nil
	})
	if err != nil || res.OK == 0 {
		t.Fatalf("reference read: %+v, %v", res, err)
	}
	return res
}

// requests records what a test server was asked.
type requests struct {
	mu   sync.Mutex
	list []*http.Request
}

func (r *requests) add(req *http.Request) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, req.Clone(context.Background()))
	return len(r.list)
}

func (r *requests) all() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.list...)
}

// cutWriter sends the first n bytes of a body, then drops the connection.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		p = p[:w.left]
	}
	n, _ := w.ResponseWriter.Write(p)
	w.left -= n
	if w.left == 0 {
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	return n, nil
}

// rangeServer serves body with http.ServeContent (Range, If-Range with the ETag); the
// first response is cut after cut bytes.
func rangeServer(t *testing.T, body []byte, etag func(n int) string, cut int) (*httptest.Server, *requests) {
	reqs := &requests{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r)
		w.Header().Set("ETag", etag(n))
		if n == 1 {
			w = &cutWriter{ResponseWriter: w, left: cut}
		}
		http.ServeContent(w, r, "data", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv, reqs
}

func importURL(t *testing.T, in catalogjob.DatasetInput) (catalogjob.ImportResult, error) {
	t.Helper()
	a, env, _ := setup(t)
	a.Downloads = fastDownloads(t)
	val, err := env.ExecuteActivity(a.ImportDataset, in)
	var res catalogjob.ImportResult
	if err == nil {
		err = val.Get(&res)
	}
	if left, _ := os.ReadDir(a.Downloads.TempDir); len(left) != 0 {
		t.Errorf("downloads left behind: %v", left)
	}
	counts, cerr := a.Store.Counts(context.Background())
	if cerr != nil {
		t.Fatal(cerr)
	}
	if err == nil && counts.Movies != res.OK {
		t.Errorf("warehouse holds %d movies, import reports %d", counts.Movies, res.OK)
	}
	if err != nil && (counts.Movies != 0 || counts.Failed != 0) {
		t.Errorf("failed import wrote rows: %+v", counts)
	}
	return res, err
}

func checkResult(t *testing.T, got catalogjob.ImportResult, err error, want catalogjob.ImportResult) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if got.OK != want.OK || got.Failed != want.Failed || got.Dataset != "movies-csv" {
		t.Fatalf("import = %+v, want ok %d, failed %d", got, want.OK, want.Failed)
	}
}

func wantNonRetryable(t *testing.T, err error, parts ...string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != activities.ErrTypeBadInput {
		t.Fatalf("want non-retryable %s, got %v", activities.ErrTypeBadInput, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

func TestImportDatasetFromURL(t *testing.T) {
	body := readFile(t, moviesFile)
	want := wantMovies(t)

	t.Run("retries a 500 and a dropped connection, restarting without range support", func(t *testing.T) {
		reqs := &requests{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch reqs.add(r) {
			case 1:
				http.Error(w, "try later", http.StatusInternalServerError)
			case 2:
				w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				(&cutWriter{ResponseWriter: w, left: len(body) / 2}).Write(body)
			default:
				w.Write(body)
			}
		}))
		defer srv.Close()
		res, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{srv.URL + "/movie_metadata.csv"}})
		checkResult(t, res, err, want)
		got := reqs.all()
		if len(got) != 3 || got[2].Header.Get("Range") != "" {
			t.Fatalf("%d requests, last Range %q: want 3, the last from the first byte", len(got), got[len(got)-1].Header.Get("Range"))
		}
	})

	t.Run("resumes mid-file with Range and If-Range", func(t *testing.T) {
		srv, reqs := rangeServer(t, body, func(int) string { return `"v1"` }, 500)
		res, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{srv.URL + "/movie_metadata.csv"},
			SHA256: []string{sha(body)}})
		checkResult(t, res, err, want)
		got := reqs.all()
		if len(got) != 2 || got[1].Header.Get("Range") != "bytes=500-" || got[1].Header.Get("If-Range") != `"v1"` {
			t.Fatalf("%d requests; second: Range %q, If-Range %q", len(got), got[len(got)-1].Header.Get("Range"), got[len(got)-1].Header.Get("If-Range"))
		}
	})

	t.Run("checksum matches, gzip by suffix", func(t *testing.T) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(body)
		zw.Close()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(gz.Bytes()) }))
		defer srv.Close()
		res, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{srv.URL + "/movie_metadata.csv.gz"},
			SHA256: []string{strings.ToUpper(sha(gz.Bytes()))}})
		checkResult(t, res, err, want)
	})

	t.Run("gzip by Content-Encoding", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(body)
			zw.Close()
		}))
		defer srv.Close()
		res, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{srv.URL + "/movies"}})
		checkResult(t, res, err, want)
	})
}

func TestImportDatasetFailsWithoutRetry(t *testing.T) {
	body := readFile(t, moviesFile)

	t.Run("checksum mismatch imports nothing", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
		defer srv.Close()
		_, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{srv.URL + "/movie_metadata.csv"},
			SHA256: []string{sha([]byte("something else"))}})
		wantNonRetryable(t, err, "sha256 mismatch", sha(body))
	})

	t.Run("404 is not retried and the URL's secrets stay out of the error", func(t *testing.T) {
		reqs := &requests{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqs.add(r)
			http.NotFound(w, r)
		}))
		defer srv.Close()
		u := strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) + "/movies.csv?token=s3cr3t&v=1"
		_, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{u}})
		wantNonRetryable(t, err, "404", "/movies.csv?token=redacted&v=redacted")
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error leaks a secret: %v", err)
		}
		if n := len(reqs.all()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	t.Run("a path missing on the worker names the worker", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "y.csv")
		_, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{p}})
		wantNonRetryable(t, err, "dataset "+p+": not found on worker test-worker (paths are read on the worker's machine; use an http(s):// URL to import from any worker)")
	})

	t.Run("a local file's checksum is checked too", func(t *testing.T) {
		_, err := importURL(t, catalogjob.DatasetInput{Format: "movies-csv", Paths: []string{moviesFile}, SHA256: []string{sha(nil)}})
		wantNonRetryable(t, err, "sha256 mismatch")
	})

	t.Run("bad inputs", func(t *testing.T) {
		for _, in := range []catalogjob.DatasetInput{
			{Format: "movies-csv", Paths: []string{"ftp://host/movies.csv"}},
			{Format: "movies-csv", Paths: []string{"https:///movies.csv"}},
			{Format: "movies-csv", Paths: []string{moviesFile}, SHA256: []string{"abc"}},
			{Format: "movies-csv", Paths: []string{moviesFile}, SHA256: []string{"", ""}},
		} {
			err := in.Validate()
			if err == nil {
				t.Errorf("%+v: want an error", in)
			}
		}
	})
}

// The downloader on its own: no warehouse needed.
func TestDownloader(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096)

	t.Run("changed file restarts from the first byte", func(t *testing.T) {
		srv, reqs := rangeServer(t, body, func(n int) string { return fmt.Sprintf(`"v%d"`, n) }, 1000)
		d := fastDownloads(t)
		p, err := d.Download(ctx, srv.URL+"/f", sha(body))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, p), body) {
			t.Fatal("downloaded file differs")
		}
		if got := reqs.all(); len(got) != 2 || got[1].Header.Get("If-Range") != `"v1"` {
			t.Fatalf("%d requests", len(got))
		}
	})

	t.Run("honours Retry-After", func(t *testing.T) {
		reqs := &requests{}
		var first time.Time
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if reqs.add(r) == 1 {
				first = time.Now()
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			if since := time.Since(first); since < 900*time.Millisecond {
				t.Errorf("retried after %s, want about 1s", since)
			}
			w.Write(body)
		}))
		defer srv.Close()
		d := fastDownloads(t)
		if _, err := d.Download(ctx, srv.URL+"/f", ""); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("gives up when the server asks to wait too long", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		d := fastDownloads(t)
		_, err := d.Download(ctx, srv.URL+"/f", "")
		var se *catalogjob.StatusError
		if !errors.As(err, &se) || !se.Temporary() || !strings.Contains(err.Error(), "retry after 1h0m0s") {
			t.Fatalf("want a temporary 503, got %v", err)
		}
	})

	t.Run("stops after Attempts failures in a row", func(t *testing.T) {
		reqs := &requests{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqs.add(r)
			w.WriteHeader(http.StatusBadGateway)
		}))
		defer srv.Close()
		d := fastDownloads(t)
		_, err := d.Download(ctx, srv.URL+"/f", "")
		if n := len(reqs.all()); err == nil || n != d.Attempts {
			t.Fatalf("%d requests, err %v: want %d and an error", n, err, d.Attempts)
		}
		if left, _ := os.ReadDir(d.TempDir); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})

	t.Run("a stalled transfer is retried", func(t *testing.T) {
		reqs := &requests{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			if reqs.add(r) == 1 {
				w.Write(body[:100])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			w.Write(body)
		}))
		defer srv.Close()
		d := fastDownloads(t)
		d.IdleTimeout = 200 * time.Millisecond
		var progress []catalogjob.DownloadProgress
		d.Progress = func(p catalogjob.DownloadProgress) { progress = append(progress, p) }
		p, err := d.Download(ctx, srv.URL+"/f", sha(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs.all()) != 2 || !bytes.Equal(readFile(t, p), body) {
			t.Fatalf("%d requests", len(reqs.all()))
		}
		if last := progress[len(progress)-1]; last.Bytes != int64(len(body)) || last.Size != int64(len(body)) {
			t.Errorf("last progress %+v", last)
		}
	})
}
