package postgres

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"time"
)

// RawPage is the latest fetch of one URL.
type RawPage struct {
	URL          string
	Source       string
	Status       int
	FetchedAt    time.Time
	Body         []byte // decompressed
	ContentType  string
	ETag         string
	LastModified string
	Attempts     int
	FetchError   string // why no usable response was obtained ("" when fetched)
	ParseError   string // why the body did not parse ("" when it did or was not parsed yet)
	Records      int    // records parsed from it
	RunKey       string // the crawl that last fetched it
}

func gz(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PutPage stores a fetch before it is parsed. A 304 (notModified) keeps the stored body and
// validators and only records the new fetch time and run.
func (s *Store) PutPage(ctx context.Context, p RawPage, notModified bool) error {
	var fetchErr *string
	if p.FetchError != "" {
		fetchErr = &p.FetchError
	}
	if notModified {
		_, err := s.pool.Exec(ctx, `UPDATE raw_pages SET status = 304, fetched_at = $2, attempts = $3, fetch_error = NULL, run_key = $4
			WHERE url = $1`, p.URL, p.FetchedAt, p.Attempts, p.RunKey)
		if err != nil {
			return fmt.Errorf("store page %s: %w", p.URL, err)
		}
		return nil
	}
	var body []byte
	if p.Body != nil {
		var err error
		if body, err = gz(p.Body); err != nil {
			return fmt.Errorf("compress page %s: %w", p.URL, err)
		}
	}
	// A failed refetch keeps the last good body, so a transient outage loses nothing.
	_, err := s.pool.Exec(ctx, `INSERT INTO raw_pages (url, source, status, fetched_at, body_gz, body_bytes, content_type, etag,
			last_modified, attempts, fetch_error, parse_error, records, run_key)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,NULL,0,$12)
		ON CONFLICT (url) DO UPDATE SET source = EXCLUDED.source, status = EXCLUDED.status, fetched_at = EXCLUDED.fetched_at,
			body_gz = COALESCE(EXCLUDED.body_gz, raw_pages.body_gz),
			body_bytes = CASE WHEN EXCLUDED.body_gz IS NULL THEN raw_pages.body_bytes ELSE EXCLUDED.body_bytes END,
			content_type = EXCLUDED.content_type,
			etag = CASE WHEN EXCLUDED.body_gz IS NULL THEN raw_pages.etag ELSE EXCLUDED.etag END,
			last_modified = CASE WHEN EXCLUDED.body_gz IS NULL THEN raw_pages.last_modified ELSE EXCLUDED.last_modified END,
			attempts = EXCLUDED.attempts, fetch_error = EXCLUDED.fetch_error,
			parse_error = CASE WHEN EXCLUDED.body_gz IS NULL THEN raw_pages.parse_error ELSE NULL END,
			run_key = EXCLUDED.run_key`,
		p.URL, p.Source, p.Status, p.FetchedAt, body, len(p.Body), p.ContentType, p.ETag, p.LastModified, p.Attempts, fetchErr, p.RunKey)
	if err != nil {
		return fmt.Errorf("store page %s: %w", p.URL, err)
	}
	return nil
}

// MarkParsed records the parse outcome of a stored page.
func (s *Store) MarkParsed(ctx context.Context, url string, records int, parseErr string) error {
	var pe *string
	if parseErr != "" {
		pe = &parseErr
	}
	if _, err := s.pool.Exec(ctx, `UPDATE raw_pages SET parse_error = $2, records = $3 WHERE url = $1`, url, pe, records); err != nil {
		return fmt.Errorf("mark page %s parsed: %w", url, err)
	}
	return nil
}

// GetPage returns the stored page for url, or ErrNotFound.
func (s *Store) GetPage(ctx context.Context, url string) (RawPage, error) {
	var p RawPage
	var body []byte
	var fetchErr, parseErr *string
	err := s.pool.QueryRow(ctx, `SELECT url, source, status, fetched_at, body_gz, content_type, etag, last_modified, attempts,
			fetch_error, parse_error, records, run_key FROM raw_pages WHERE url = $1`, url).
		Scan(&p.URL, &p.Source, &p.Status, &p.FetchedAt, &body, &p.ContentType, &p.ETag, &p.LastModified, &p.Attempts,
			&fetchErr, &parseErr, &p.Records, &p.RunKey)
	if err != nil {
		return p, fmt.Errorf("get page %s: %w", url, notFound(err))
	}
	if fetchErr != nil {
		p.FetchError = *fetchErr
	}
	if parseErr != nil {
		p.ParseError = *parseErr
	}
	if body != nil {
		r, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return p, fmt.Errorf("page %s body: %w", url, err)
		}
		if p.Body, err = io.ReadAll(r); err != nil {
			return p, fmt.Errorf("page %s body: %w", url, err)
		}
	}
	return p, nil
}

// PageStats counts a source's pages by outcome.
type PageStats struct {
	Pages       int64 `json:"pages"`
	FetchFailed int64 `json:"fetch_failed"`
	ParseFailed int64 `json:"parse_failed"`
}

// PageStats summarizes the raw zone for a source.
func (s *Store) PageStats(ctx context.Context, source string) (PageStats, error) {
	var st PageStats
	err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE fetch_error IS NOT NULL),
		count(*) FILTER (WHERE parse_error IS NOT NULL) FROM raw_pages WHERE source = $1`, source).
		Scan(&st.Pages, &st.FetchFailed, &st.ParseFailed)
	if err != nil {
		return st, fmt.Errorf("page stats of %s: %w", source, err)
	}
	return st, nil
}
