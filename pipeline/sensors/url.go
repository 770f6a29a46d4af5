package sensors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// MaxURLBody is the largest body a URL sensor hashes, for a server that sends neither an
// ETag nor a Last-Modified header; a larger body makes the evaluation fail.
const MaxURLBody = 64 << 20

// URLTimeout bounds one request of a URL sensor, body included.
const URLTimeout = 30 * time.Second

// URL returns a sensor that starts its job when the object at an http or https URL
// changes. It checks every 60 seconds with a conditional GET (If-None-Match and
// If-Modified-Since from the previous response), so an unchanged object usually costs a
// 304 and no body.
//
// The object's version is its ETag (as the server sends it, quotes included), else its
// Last-Modified header, else "sha256:" and the hex SHA-256 of the body (at most
// MaxURLBody bytes, streamed). The version is the run's key, so each version starts one
// run, ever: an object that reverts to an earlier version does not trigger again.
//
// The first evaluation fires for the object's current version: a new sensor runs its job
// once for what is there now. A 304, or a version equal to the previous one, skips with
// "unchanged"; any other status outside 2xx, or a failed request, fails the evaluation.
// Redirects are followed.
//
// input builds the job's input from the URL and the new version; nil runs the job with
// its default input.
func URL(name, url string, input func(url, version string) any) pipeline.Sensor {
	u, urlErr := neturl.Parse(url)
	if urlErr == nil && u.Scheme != "http" && u.Scheme != "https" {
		urlErr = fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	shown := url // never log a password the URL may carry
	if urlErr == nil {
		shown = u.Redacted()
	}
	client := &http.Client{Timeout: URLTimeout}
	return pipeline.Sensor{
		Name:        name,
		Description: "changes to " + shown,
		Interval:    60 * time.Second,
		Evaluate: func(ctx context.Context, env pipeline.SensorEnv, cursor string) (pipeline.SensorResult, error) {
			if urlErr != nil {
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: url %q: %w", name, shown, urlErr)
			}
			return evaluateURL(ctx, env, client, name, url, shown, input, cursor)
		},
	}
}

// urlCursor is a URL sensor's state: the last version seen and the validators that came
// with it.
type urlCursor struct {
	Version      string `json:"version"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

func evaluateURL(ctx context.Context, env pipeline.SensorEnv, client *http.Client, name, url, shown string, input func(string, string) any, cursor string) (pipeline.SensorResult, error) {
	prev, _ := readCursor[urlCursor](env, name, cursor)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, err)
	}
	req.Header.Set("User-Agent", "curio-sensor")
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, err) // *url.Error: names the URL, password redacted
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return pipeline.SensorResult{Skip: "unchanged (304 Not Modified)"}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return pipeline.SensorResult{}, fmt.Errorf("sensor %s: GET %s: %s", name, shown, resp.Status)
	}

	next := urlCursor{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch {
	case next.ETag != "":
		next.Version = next.ETag
	case next.LastModified != "":
		next.Version = next.LastModified
	default:
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(resp.Body, MaxURLBody+1))
		if err != nil {
			return pipeline.SensorResult{}, fmt.Errorf("sensor %s: read %s: %w", name, shown, err)
		}
		if n > MaxURLBody {
			return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %s sends no ETag or Last-Modified and its body is over %d bytes, too large to hash", name, shown, MaxURLBody)
		}
		next.Version = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	c, err := writeCursor(name, next)
	if err != nil {
		return pipeline.SensorResult{}, err
	}
	if next.Version == prev.Version {
		// The server ignored the conditional headers, or sends none.
		return pipeline.SensorResult{Cursor: c, Skip: "unchanged"}, nil
	}
	var in any
	if input != nil {
		in = input(url, next.Version)
	}
	reason := fmt.Sprintf("%s changed: version %s", shown, next.Version)
	if prev.Version == "" {
		reason = fmt.Sprintf("%s: first version seen, %s", shown, next.Version)
	}
	return pipeline.SensorResult{
		Runs:   []pipeline.RunRequest{{Key: next.Version, Input: in, Reason: reason}},
		Cursor: c,
	}, nil
}
