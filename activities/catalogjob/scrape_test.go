package catalogjob_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/curiodata/curio/activities/catalogjob"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testsite"
	"github.com/curiodata/curio/scrapers"
)

func withFetcher(t *testing.T, a *catalogjob.Activities) {
	f, err := scrapers.NewFetcher(scrapers.Options{Delay: 5 * time.Millisecond, RetryBase: 10 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	a.Fetcher = f
}

func TestScrapeIMDbSite(t *testing.T) {
	ctx := context.Background()
	a, env, _ := setup(t)
	withFetcher(t, a)
	site := testsite.IMDb()
	defer site.Close()

	// The search page yields the title URLs to crawl next.
	val, err := env.ExecuteActivity(a.ScrapePages, catalogjob.ScrapeInput{Source: "imdb", BaseURL: site.URL, RunKey: "crawl-1",
		URLs: catalogjob.SeedURLs("imdb", site.URL, nil, []string{"harbor"})})
	if err != nil {
		t.Fatal(err)
	}
	var out catalogjob.ScrapeOutput
	_ = val.Get(&out)
	if out.Fetched != 1 || len(out.Next) != 6 {
		t.Fatalf("search page: %+v", out)
	}
	titles := append(out.Next, site.URL+"/private/tt1/")
	val, err = env.ExecuteActivity(a.ScrapePages, catalogjob.ScrapeInput{Source: "imdb", BaseURL: site.URL, RunKey: "crawl-1", URLs: titles})
	if err != nil {
		t.Fatal(err)
	}
	_ = val.Get(&out)
	// 4 good titles (one after a 429, one slow), a 404, a malformed page, a robots.txt-blocked URL.
	if out.Fetched != 5 || out.Records != 4 || out.FetchFailed != 2 || out.ParseFailed != 1 {
		t.Fatalf("titles: %+v", out)
	}
	if site.Hits("/title/tt9000003/") != 2 {
		t.Errorf("429 page hits = %d, want 2 (one retry)", site.Hits("/title/tt9000003/"))
	}
	if site.Hits("/private/tt1/") != 0 {
		t.Error("robots.txt-disallowed URL was fetched")
	}
	for _, u := range []struct{ url, fetchErr, parseErr string }{
		{site.URL + "/title/tt9000404/", "HTTP 404", ""},
		{site.URL + "/title/tt9000005/", "", "no"},
		{site.URL + "/private/tt1/", "robots.txt", ""},
	} {
		p, err := a.Store.GetPage(ctx, u.url)
		if err != nil {
			t.Fatalf("%s not recorded: %v", u.url, err)
		}
		if !strings.Contains(p.FetchError, u.fetchErr) || (u.parseErr != "" && p.ParseError == "") {
			t.Errorf("%s: fetch_error=%q parse_error=%q", u.url, p.FetchError, p.ParseError)
		}
	}
	good, err := a.Store.GetPage(ctx, site.URL+"/title/tt9000001/")
	if err != nil || !strings.Contains(string(good.Body), "The Harbor of Glass") || good.ETag == "" || good.Records != 1 {
		t.Fatalf("stored page: %+v %v", good.URL, err)
	}
	var movies []domain.Movie
	_ = a.Store.ShardMovies(ctx, postgres.Shard{Index: 0, Of: 1}, func(m domain.Movie) error { movies = append(movies, m); return nil })
	if len(movies) != 4 || movies[0].ID != "tt9000001" || movies[0].Year != 1987 || movies[0].RuntimeMinutes != 107 ||
		len(movies[0].Directors) != 1 || movies[0].Source != "imdb-scrape" {
		t.Fatalf("movies: %+v", movies)
	}

	// A restarted crawl (same run key) refetches nothing it already has.
	before := site.TotalHits()
	val, err = env.ExecuteActivity(a.ScrapePages, catalogjob.ScrapeInput{Source: "imdb", BaseURL: site.URL, RunKey: "crawl-1", URLs: titles[:4]})
	if err != nil {
		t.Fatal(err)
	}
	_ = val.Get(&out)
	if site.TotalHits() != before || out.Reused != 4 {
		t.Errorf("restart refetched: hits %d → %d, %+v", before, site.TotalHits(), out)
	}
	// A new crawl revalidates with If-None-Match and gets 304s.
	val, err = env.ExecuteActivity(a.ScrapePages, catalogjob.ScrapeInput{Source: "imdb", BaseURL: site.URL, RunKey: "crawl-2", URLs: titles[:2]})
	if err != nil {
		t.Fatal(err)
	}
	_ = val.Get(&out)
	if out.NotModified != 2 || out.Records != 2 {
		t.Errorf("conditional GET: %+v", out)
	}
	c, _ := a.Store.Counts(ctx)
	if c.Movies != 4 {
		t.Errorf("movies after recrawl = %d, want 4 (no duplicates)", c.Movies)
	}
}

func TestScrapeArtsySite(t *testing.T) {
	ctx := context.Background()
	a, env, _ := setup(t)
	withFetcher(t, a)
	site := testsite.Artsy()
	defer site.Close()
	frontier := catalogjob.SeedURLs("artsy", site.URL, []string{"vera-lind"}, nil)
	total := catalogjob.ScrapeOutput{}
	for i := 0; len(frontier) > 0 && i < 10; i++ {
		val, err := env.ExecuteActivity(a.ScrapePages, catalogjob.ScrapeInput{Source: "artsy", BaseURL: site.URL, RunKey: "artsy-1", URLs: frontier})
		if err != nil {
			t.Fatal(err)
		}
		var out catalogjob.ScrapeOutput
		_ = val.Get(&out)
		frontier = out.Next
		total.Add(out)
	}
	c, err := a.Store.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Artworks != 4 || c.Artists != 1 || total.FetchFailed != 0 || total.ParseFailed != 0 {
		t.Fatalf("counts %+v, totals %+v", c, total)
	}
	var works []domain.Artwork
	_ = a.Store.ShardArtworks(ctx, postgres.Shard{Index: 0, Of: 1}, func(w domain.Artwork) error { works = append(works, w); return nil })
	for _, w := range works {
		if len(w.Artists) != 1 || w.Artists[0] != "Vera Lind" || w.ArtistIDs[0] != "artsy-a-4d8b92b34eb68a1b2c0003f4" || w.Year == 0 {
			t.Errorf("artwork %+v", w)
		}
	}
}
