package catalogjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/scrapers"
	"github.com/curiodata/curio/scrapers/artsy"
	"github.com/curiodata/curio/scrapers/imdb"
)

// Scrape sources.
const (
	SourceIMDb  = "imdb"
	SourceArtsy = "artsy"
)

// ScrapeInput is one batch of URLs of a crawl.
type ScrapeInput struct {
	Source  string   `json:"source"`
	BaseURL string   `json:"base_url"`
	RunKey  string   `json:"run_key"` // the crawl's id: pages it already fetched are not refetched
	URLs    []string `json:"urls"`
}

// ScrapeOutput reports a batch.
type ScrapeOutput struct {
	Fetched     int      `json:"fetched"`
	Reused      int      `json:"reused"` // fetched earlier by the same crawl (a restart)
	NotModified int      `json:"not_modified"`
	FetchFailed int      `json:"fetch_failed"`
	ParseFailed int      `json:"parse_failed"`
	Records     int      `json:"records"`
	Next        []string `json:"next,omitempty"` // URLs discovered: search hits, next pages, artworks of an artist
}

// Add accumulates p into o.
func (o *ScrapeOutput) Add(p ScrapeOutput) {
	o.Fetched += p.Fetched
	o.Reused += p.Reused
	o.NotModified += p.NotModified
	o.FetchFailed += p.FetchFailed
	o.ParseFailed += p.ParseFailed
	o.Records += p.Records
	o.Next = append(o.Next, p.Next...)
}

// ScrapePages fetches a batch of URLs politely (robots.txt, rate limit, retries, conditional
// GET), stores every fetch in raw_pages before parsing, parses each page and upserts the
// records into the cleaned tables. A page that fails to fetch or parse is recorded with its
// reason and never fails the batch.
func (a *Activities) ScrapePages(ctx context.Context, in ScrapeInput) (ScrapeOutput, error) {
	if in.Source != SourceIMDb && in.Source != SourceArtsy {
		return ScrapeOutput{}, activities.BadInput(fmt.Errorf("unknown scrape source %q: want imdb or artsy", in.Source))
	}
	if a.Fetcher == nil {
		return ScrapeOutput{}, activities.BadInput(errors.New("worker has no fetcher configured"))
	}
	var (
		mu    sync.Mutex
		total ScrapeOutput
		wg    sync.WaitGroup
		errs  []error
		sem   = make(chan struct{}, 4) // the fetcher's per-host limits still apply
	)
	for _, u := range in.URLs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := a.scrapeOne(ctx, in, u)
			mu.Lock()
			defer mu.Unlock()
			total.Add(out)
			if err != nil {
				errs = append(errs, err)
			}
			activity.RecordHeartbeat(ctx, total.Fetched+total.Reused+total.NotModified+total.FetchFailed)
		})
	}
	wg.Wait()
	// Only infrastructure failures (warehouse down) fail the batch; the retry reuses what
	// this attempt stored.
	return total, errors.Join(errs...)
}

// page returns the body of u, fetching it unless this crawl already has it.
func (a *Activities) page(ctx context.Context, in ScrapeInput, u string, out *ScrapeOutput) ([]byte, bool, error) {
	stored, err := a.Store.GetPage(ctx, u)
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		return nil, false, err
	}
	have := err == nil && stored.Body != nil
	if have && in.RunKey != "" && stored.RunKey == in.RunKey && stored.FetchError == "" {
		out.Reused++
		return stored.Body, true, nil
	}
	var prev *scrapers.Validators
	if have {
		prev = &scrapers.Validators{ETag: stored.ETag, LastModified: stored.LastModified}
	}
	p := a.Fetcher.Fetch(ctx, u, prev)
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	rp := postgres.RawPage{URL: u, Source: in.Source, Status: p.Status, FetchedAt: p.FetchedAt, ContentType: p.ContentType,
		ETag: p.ETag, LastModified: p.LastModified, Attempts: p.Attempts, RunKey: in.RunKey}
	switch {
	case p.NotModified && have:
		out.NotModified++
		return stored.Body, true, a.Store.PutPage(ctx, rp, true)
	case p.Err != nil || p.Status != http.StatusOK:
		rp.FetchError = "fetch failed"
		if p.Err != nil {
			rp.FetchError = p.Err.Error()
		}
		out.FetchFailed++
		activities.Logger(ctx, a.Logger).Warn("fetch failed", "url", u, "status", p.Status, "attempts", p.Attempts, "err", rp.FetchError)
		return nil, false, a.Store.PutPage(ctx, rp, false)
	}
	rp.Body = p.Body
	out.Fetched++
	return p.Body, true, a.Store.PutPage(ctx, rp, false)
}

func (a *Activities) scrapeOne(ctx context.Context, in ScrapeInput, u string) (ScrapeOutput, error) {
	var out ScrapeOutput
	body, ok, err := a.page(ctx, in, u, &out)
	if err != nil || !ok {
		return out, err
	}
	var recs []domain.Record
	var perr error
	switch in.Source {
	case SourceIMDb:
		recs, out.Next, perr = parseIMDb(in.BaseURL, u, body)
	case SourceArtsy:
		recs, out.Next, perr = a.parseArtsy(ctx, in, body, &out)
	}
	if perr != nil {
		out.ParseFailed++
		activities.Logger(ctx, a.Logger).Warn("page did not parse", "url", u, "err", perr)
		return out, a.Store.MarkParsed(ctx, u, 0, perr.Error())
	}
	if _, err := a.Store.WriteRecords(ctx, "scrape/"+in.RunKey, recs); err != nil {
		return out, err
	}
	out.Records += len(recs)
	return out, a.Store.MarkParsed(ctx, u, len(recs), "")
}

func parseIMDb(base, u string, body []byte) ([]domain.Record, []string, error) {
	if strings.Contains(u, "/find") || strings.Contains(u, "/search/") {
		hits, err := imdb.ParseSearch(body)
		if err != nil {
			return nil, nil, err
		}
		next := make([]string, 0, len(hits))
		for _, h := range hits {
			next = append(next, imdb.TitleURL(base, h.IMDbID))
		}
		return nil, next, nil
	}
	t, err := imdb.ParseTitle(body, u)
	if err != nil {
		return nil, nil, err
	}
	m := t.Movie()
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, nil, fmt.Errorf("encode title: %w", err)
	}
	return []domain.Record{{Source: m.Source, Kind: domain.KindMovie, Key: m.ID, Raw: raw, Movie: &m}}, nil, nil
}

func (a *Activities) parseArtsy(ctx context.Context, in ScrapeInput, body []byte, out *ScrapeOutput) ([]domain.Record, []string, error) {
	doc, err := artsy.Parse(body)
	if err != nil {
		return nil, nil, err
	}
	var recs []domain.Record
	var next []string
	if doc.Next != "" {
		next = append(next, artsy.Rebase(doc.Next, in.BaseURL))
	}
	for _, ar := range doc.Artists {
		recs = append(recs, ar.Record(nil)) // nil: the record keeps the artist's own JSON
		if l, ok := ar.Links["artworks"]; ok && l.Href != "" {
			next = append(next, artsy.Rebase(artsy.ExpandLink(l, nil), in.BaseURL))
		}
	}
	for _, w := range doc.Artworks {
		// Attach the artwork's artists by following its _links.artists (stored like any page).
		var artists []artsy.Artist
		if l, ok := w.Links["artists"]; ok && l.Href != "" {
			au := artsy.Rebase(artsy.ExpandLink(l, nil), in.BaseURL)
			ab, ok, err := a.page(ctx, in, au, out)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				if ad, err := artsy.Parse(ab); err == nil {
					artists = ad.Artists
					for _, ar := range ad.Artists {
						recs = append(recs, ar.Record(nil))
					}
				}
			}
		}
		recs = append(recs, w.Record(nil, artists))
	}
	return recs, next, nil
}

// SeedURLs turns a crawl's seeds and search terms into its first URLs.
func SeedURLs(source, base string, seeds, search []string) []string {
	base = strings.TrimRight(base, "/")
	var out []string
	for _, s := range seeds {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
			out = append(out, s)
		case source == SourceIMDb:
			out = append(out, imdb.TitleURL(base, s))
		default:
			out = append(out, base+"/api/artists/"+url.PathEscape(s))
		}
	}
	for _, q := range search {
		if q = strings.TrimSpace(q); q == "" {
			continue
		}
		if source == SourceIMDb {
			out = append(out, base+"/find/?q="+url.QueryEscape(q)+"&s=tt")
		} else {
			out = append(out, base+"/api/search?q="+url.QueryEscape(q)+"&type=artist")
		}
	}
	return out
}
