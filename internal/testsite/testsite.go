// Package testsite serves small fake IMDb-like and Artsy-like sites for crawl tests:
// linked pages written for Curio (invented titles and people), with the failure modes a
// crawler meets in the wild: robots.txt rules, 404s, 429 with Retry-After, slow responses,
// malformed pages and ETag revalidation.
package testsite

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Site is a running fake site.
type Site struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

// Hits returns how many times path was requested (robots.txt included).
func (s *Site) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// TotalHits returns all requests except robots.txt.
func (s *Site) TotalHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.hits {
		if p != "/robots.txt" {
			n += c
		}
	}
	return n
}

func (s *Site) count(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[r.URL.Path]++
	return s.hits[r.URL.Path]
}

// Movie is a title the fake IMDb serves.
type Movie struct {
	ID, Title, Director, Actor, Genre, Plot string
	Year                                    int
}

// Movies are the fake IMDb's good titles.
func Movies() []Movie {
	return []Movie{
		{"tt9000001", "The Harbor of Glass", "Ines Calder", "Tomas Reyna", "Drama", "A lighthouse keeper counts ships that never arrive.", 1987},
		{"tt9000002", "Harbor Lights Over Velmora", "Ines Calder", "Aoife Brannigan", "Romance", "Two rival ferry captains share one harbor.", 1994},
		{"tt9000003", "Return to the Harbor", "Milo Ferrant", "Tomas Reyna", "Thriller", "A smuggler comes home for one last crossing.", 2003},
		{"tt9000004", "Harbor Zero", "Dana Okafor", "Léa Moreau", "Sci-Fi", "The last port city floats above a drowned world.", 2019},
	}
}

func moviePage(m Movie) string {
	return fmt.Sprintf(`<!DOCTYPE html><html><head><title>%[2]s (%[7]d) - IMDb</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Movie","url":"/title/%[1]s/","name":"%[2]s",
"datePublished":"%[7]d-05-01","genre":["%[5]s"],"director":[{"@type":"Person","name":"%[3]s"}],
"actor":[{"@type":"Person","name":"%[4]s"}],"description":"%[6]s","duration":"PT1H47M",
"aggregateRating":{"@type":"AggregateRating","ratingCount":1234,"ratingValue":7.1},"contentRating":"PG-13"}</script>
</head><body><h1>%[2]s</h1></body></html>`, m.ID, m.Title, m.Director, m.Actor, m.Genre, m.Plot, m.Year)
}

// IMDb starts a fake IMDb. /find/?q=harbor lists the four good titles plus tt9000404 (404)
// and tt9000005 (a page that is not a title page). tt9000003 answers 429 with Retry-After: 1
// on its first request; tt9000004 is slow; every title page carries an ETag and honours
// If-None-Match; /private/ is disallowed by robots.txt.
func IMDb() *Site {
	s := &Site{hits: map[string]int{}}
	movies := Movies()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/find/", func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		var rows strings.Builder
		for _, m := range movies {
			fmt.Fprintf(&rows, `<tr class="findResult"><td class="result_text"><a href="/title/%s/?ref_=fn_al_tt_1">%s</a> (%d)</td></tr>`, m.ID, m.Title, m.Year)
		}
		rows.WriteString(`<tr class="findResult"><td class="result_text"><a href="/title/tt9000404/">Lost Harbor</a> (2001)</td></tr>`)
		rows.WriteString(`<tr class="findResult"><td class="result_text"><a href="/title/tt9000005/">Broken Harbor</a> (2002)</td></tr>`)
		fmt.Fprintf(w, `<html><body><table class="findList">%s</table></body></html>`, rows.String())
	})
	mux.HandleFunc("/title/", func(w http.ResponseWriter, r *http.Request) {
		n := s.count(r)
		id := strings.Trim(strings.TrimPrefix(r.URL.Path, "/title/"), "/")
		switch id {
		case "tt9000003":
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "rate limited", http.StatusTooManyRequests)
				return
			}
		case "tt9000004":
			time.Sleep(300 * time.Millisecond)
		case "tt9000005":
			fmt.Fprint(w, "<html><body><div>Service temporarily <b>unavail")
			return
		}
		for _, m := range movies {
			if m.ID == id {
				etag := `"` + id + `-v1"`
				if r.Header.Get("If-None-Match") == etag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", etag)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, moviePage(m))
				return
			}
		}
		http.NotFound(w, r)
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// Artsy starts a fake Artsy API v2 with one artist (id "4d8b92b34eb68a1b2c0003f4", slug
// "vera-lind"), whose artworks come in two list pages of two artworks each; every artwork
// links to its artists. Links are absolute https://api.artsy.net URLs, as the real API
// wrote them, so the crawler must rebase them onto its configured base URL.
func Artsy() *Site {
	s := &Site{hits: map[string]int{}}
	const api = "https://api.artsy.net/api"
	artist := func(id, slug, name, nat string) string {
		return fmt.Sprintf(`{"id":"%[1]s","slug":"%[2]s","name":"%[3]s","nationality":"%[4]s","birthday":"1901","deathday":"1977",
"gender":"female","biography":"","hometown":"Bergen","_links":{"self":{"href":"%[5]s/artists/%[1]s"},
"artworks":{"href":"%[5]s/artworks?artist_id=%[1]s"},"permalink":{"href":"https://www.artsy.net/artist/%[2]s"}}}`, id, slug, name, nat, api)
	}
	vera := artist("4d8b92b34eb68a1b2c0003f4", "vera-lind", "Vera Lind", "Norwegian")
	artwork := func(id, title, date, medium string) string {
		return fmt.Sprintf(`{"id":"%[1]s","slug":"vera-lind-%[1]s","title":"%[2]s","category":"Painting","medium":"%[4]s","date":"%[3]s",
"dimensions":{"in":{"text":"20 × 30 in"},"cm":{"text":"50.8 × 76.2 cm"}},"collecting_institution":"Curio Test Museum",
"_links":{"self":{"href":"%[5]s/artworks/%[1]s"},"artists":{"href":"%[5]s/artists?artwork_id=%[1]s"},
"thumbnail":{"href":"https://img.example.org/%[1]s/medium.jpg"},"permalink":{"href":"https://www.artsy.net/artwork/vera-lind-%[1]s"}}}`,
			id, title, date, medium, api)
	}
	pages := map[string]string{
		"1": fmt.Sprintf(`{"total_count":4,"_links":{"self":{"href":"%[1]s/artworks?artist_id=4d8b92b34eb68a1b2c0003f4"},
"next":{"href":"%[1]s/artworks?artist_id=4d8b92b34eb68a1b2c0003f4&cursor=p2"}},"_embedded":{"artworks":[%[2]s,%[3]s]}}`,
			api, artwork("aw1", "Fjord at Dawn", "1931", "Oil on canvas"), artwork("aw2", "Harbor with Red Sails", "c. 1935", "Oil on board")),
		"p2": fmt.Sprintf(`{"total_count":4,"_links":{"self":{"href":"%[1]s/artworks?cursor=p2"}},"_embedded":{"artworks":[%[2]s,%[3]s]}}`,
			api, artwork("aw3", "Study of Gulls", "1940", "Charcoal on paper"), artwork("aw4", "Winter Quay", "1948-49", "Oil on canvas")),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { s.count(r); http.NotFound(w, r) })
	mux.HandleFunc("/api/artists/", func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		id := strings.TrimPrefix(r.URL.Path, "/api/artists/")
		if id != "4d8b92b34eb68a1b2c0003f4" && id != "vera-lind" {
			http.Error(w, `{"type":"error","message":"Artist Not Found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/hal+json")
		fmt.Fprint(w, vera)
	})
	mux.HandleFunc("/api/artworks", func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		cursor := r.URL.Query().Get("cursor")
		if cursor == "" {
			cursor = "1"
		}
		w.Header().Set("Content-Type", "application/hal+json")
		fmt.Fprint(w, pages[cursor])
	})
	mux.HandleFunc("/api/artists", func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		w.Header().Set("Content-Type", "application/hal+json")
		fmt.Fprintf(w, `{"total_count":1,"_links":{"self":{"href":"%s/artists?artwork_id=%s"}},"_embedded":{"artists":[%s]}}`,
			api, r.URL.Query().Get("artwork_id"), vera)
	})
	s.Server = httptest.NewServer(mux)
	return s
}
