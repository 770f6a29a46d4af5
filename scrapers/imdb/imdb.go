// Package imdb parses IMDb title and search (find) pages into Curio records.
//
// Parsing is pure (bytes in, values out: no network, no files) and tolerant. A title
// page is read through every layout IMDb has served, in this order: JSON-LD
// (<script type="application/ld+json">), the Next.js __NEXT_DATA__ blob, and the
// pre-2018 schema.org itemprop markup; each field is taken from the first layout that
// has it, and the page's <title>, canonical link and og: tags fill in what is still
// missing. A field the page does not carry stays empty (nil for pointer fields); only a
// page that is not an IMDb title page at all is an error. HTML entities are decoded
// everywhere, including inside JSON-LD strings, where IMDb sometimes escapes them twice.
package imdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/curiodata/curio/internal/domain"
)

// Source is the domain.Movie Source of records parsed from scraped IMDb pages.
const Source = "imdb-scrape"

// Layout names reported in Title.Layout.
const (
	LayoutJSONLD   = "json-ld"   // <script type="application/ld+json">
	LayoutNextData = "next-data" // <script id="__NEXT_DATA__">
	LayoutItemprop = "itemprop"  // pre-2018 schema.org microdata
	LayoutMeta     = "meta"      // only <title>/og:title and a canonical or og:url link
)

// ErrNotTitlePage is wrapped by every ParseTitle error: the page is not an IMDb title page.
var ErrNotTitlePage = errors.New("not an IMDb title page")

// Title is a parsed IMDb title page. Pointer fields are nil when the page does not say.
type Title struct {
	IMDbID         string   `json:"imdb_id"` // tt0133093
	Type           string   `json:"type"`    // "movie" or "series" (TVSeries, TVMiniSeries → series; Movie, TVMovie, Short... → movie)
	Title          string   `json:"title"`
	Year           *int     `json:"year"`
	Rating         *float64 `json:"rating"`
	Votes          *int     `json:"votes"`
	Genres         []string `json:"genres"`    // never nil in JSON output: [] when none
	Directors      []string `json:"directors"` // [] when none; a series' creators when it names no director
	Cast           []string `json:"cast"`      // [] when none
	RuntimeMinutes *int     `json:"runtime_minutes"`
	Plot           string   `json:"plot"`
	ContentRating  string   `json:"content_rating"`
	Layout         string   `json:"-"` // the first layout that yielded the title: json-ld, next-data, itemprop (or meta)
}

// MarshalJSON writes t with empty lists as [] rather than null.
func (t Title) MarshalJSON() ([]byte, error) {
	type plain Title // no methods: no recursion
	p := plain(t)
	for _, s := range []*[]string{&p.Genres, &p.Directors, &p.Cast} {
		if *s == nil {
			*s = []string{}
		}
	}
	return json.Marshal(p)
}

// Movie converts the title into the cleaned catalog type; nil fields become zero values.
func (t Title) Movie() domain.Movie {
	m := domain.Movie{
		ID:            t.IMDbID,
		Kind:          "movie",
		Title:         t.Title,
		Genres:        slices.Clone(t.Genres),
		Directors:     slices.Clone(t.Directors),
		Cast:          slices.Clone(t.Cast),
		Plot:          t.Plot,
		ContentRating: t.ContentRating,
		Source:        Source,
	}
	if t.Type == "series" {
		m.Kind = "series"
	}
	if t.Year != nil {
		m.Year = *t.Year
	}
	if t.Rating != nil {
		m.Rating = *t.Rating
	}
	if t.Votes != nil {
		m.Votes = *t.Votes
	}
	if t.RuntimeMinutes != nil {
		m.RuntimeMinutes = *t.RuntimeMinutes
	}
	return m
}

// SearchResult is one title listed on an IMDb find or search page.
type SearchResult struct {
	IMDbID string `json:"imdb_id"`
	Title  string `json:"title"`
	Year   *int   `json:"year"`
	Kind   string `json:"kind"` // "movie" or "series"
}

// TitleURL returns the title page URL of id under base (e.g. https://www.imdb.com).
func TitleURL(base, id string) string {
	return strings.TrimRight(base, "/") + "/title/" + id + "/"
}

// IDFromURL returns the title id (tt0133093) in an IMDb title URL or path such as
// https://www.imdb.com/title/tt0133093/?ref_=fn_al_tt_1, or in a bare id; "" if none.
func IDFromURL(u string) string {
	u = strings.TrimSpace(u)
	if id, ok := leadingID(u); ok && len(id) == len(u) {
		return id
	}
	const marker = "/title/"
	for rest := u; ; {
		i := strings.Index(rest, marker)
		if i < 0 {
			return ""
		}
		rest = rest[i+len(marker):]
		if id, ok := leadingID(rest); ok {
			if tail := rest[len(id):]; tail == "" || strings.IndexByte("/?#", tail[0]) >= 0 {
				return id
			}
		}
	}
}

// leadingID returns the title id at the start of s: "tt" and 7 to 12 digits.
func leadingID(s string) (string, bool) {
	if !strings.HasPrefix(s, "tt") {
		return "", false
	}
	n := 2
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if d := n - 2; d < 7 || d > 12 {
		return "", false
	}
	return s[:n], true
}

// validID reports whether s is exactly a title id.
func validID(s string) bool {
	id, ok := leadingID(s)
	return ok && len(id) == len(s)
}

// partial is what one layout found on a page.
type partial struct {
	Title
	creators []string // Person creators: a series' directors when it names none
	found    bool     // the layout is present and names the title (id or name)
	problem  string   // why a present layout could not be read, for the error message
}

// ParseTitle parses an IMDb title page. url is where the page came from; its id is used
// when the page itself names none. The error, which wraps ErrNotTitlePage, says why the
// page is not a title page: no title markup in any layout, no title id, or no title name.
func ParseTitle(page []byte, url string) (Title, error) {
	s := scanPage(page)
	var (
		t        Title
		creators []string
		problems []string
	)
	layouts := []struct {
		name string
		read func() partial
	}{
		{LayoutJSONLD, func() partial { return fromJSONLD(s.ld) }},
		{LayoutNextData, func() partial { return fromNextData(s.next, s.hasNext) }},
		{LayoutItemprop, func() partial { return fromItemprop(page) }},
	}
	for _, l := range layouts {
		if complete(t) {
			break
		}
		p := l.read()
		if p.problem != "" {
			problems = append(problems, p.problem)
		}
		if !p.found {
			continue
		}
		if t.Layout == "" {
			t.Layout = l.name
		}
		merge(&t, p.Title)
		if len(creators) == 0 {
			creators = p.creators
		}
	}
	if m := fromMeta(s); m.found || t.Layout != "" {
		merge(&t, m.Title)
		if t.Layout == "" {
			t.Layout = LayoutMeta
		}
	}
	switch {
	case t.Layout == "":
		msg := "no JSON-LD, __NEXT_DATA__ or itemprop title markup found"
		if len(problems) > 0 {
			msg += " (" + strings.Join(problems, "; ") + ")"
		}
		return Title{}, fmt.Errorf("%w: %s", ErrNotTitlePage, msg)
	case t.Title == "":
		return Title{}, fmt.Errorf("%w: %s markup names no title", ErrNotTitlePage, t.Layout)
	}
	if t.IMDbID == "" {
		t.IMDbID = IDFromURL(url)
	}
	if t.IMDbID == "" {
		return Title{}, fmt.Errorf("%w: no title id (tt…) in the page or in url %q", ErrNotTitlePage, url)
	}
	if t.Type != "series" {
		t.Type = "movie"
	}
	if t.Type == "series" && len(t.Directors) == 0 {
		t.Directors = creators
	}
	t.Genres = cleanList(t.Genres)
	t.Directors = cleanList(t.Directors)
	t.Cast = cleanList(t.Cast)
	return t, nil
}

// complete reports whether every field of t is set, so later layouts have nothing to add.
func complete(t Title) bool {
	return t.IMDbID != "" && t.Type != "" && t.Title != "" && t.Year != nil && t.Rating != nil &&
		t.Votes != nil && len(t.Genres) > 0 && len(t.Directors) > 0 && len(t.Cast) > 0 &&
		t.RuntimeMinutes != nil && t.Plot != "" && t.ContentRating != ""
}

// merge fills each empty field of dst from src.
func merge(dst *Title, src Title) {
	fill := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	fill(&dst.IMDbID, src.IMDbID)
	fill(&dst.Type, src.Type)
	fill(&dst.Title, src.Title)
	fill(&dst.Plot, src.Plot)
	fill(&dst.ContentRating, src.ContentRating)
	if dst.Year == nil {
		dst.Year = src.Year
	}
	if dst.Rating == nil {
		dst.Rating = src.Rating
	}
	if dst.Votes == nil {
		dst.Votes = src.Votes
	}
	if dst.RuntimeMinutes == nil {
		dst.RuntimeMinutes = src.RuntimeMinutes
	}
	for _, f := range []struct{ d, s *[]string }{{&dst.Genres, &src.Genres}, {&dst.Directors, &src.Directors}, {&dst.Cast, &src.Cast}} {
		if len(*f.d) == 0 {
			*f.d = *f.s
		}
	}
}

// kindOf maps a schema.org @type or an IMDb title type id to "series" or "movie".
func kindOf(typ string) string {
	typ = strings.ToLower(strings.TrimSpace(typ))
	switch {
	case typ == "":
		return ""
	case strings.HasSuffix(typ, "series"): // TVSeries, TVMiniSeries, tvSeries, podcastSeries
		return "series"
	}
	return "movie"
}

// Plausibility bounds for parsed values.
const (
	minYear = 1870
	maxYear = 2100
)

func yearPtr(y int) *int {
	if y < minYear || y > maxYear {
		return nil
	}
	return &y
}

func ratingPtr(r float64) *float64 {
	if !(r > 0 && r <= 10) { // also rejects NaN
		return nil
	}
	return &r
}

func votesPtr(v float64) *int {
	if !(v >= 1 && v < 1e12) {
		return nil
	}
	n := int(v)
	return &n
}

func minutesPtr(m int) *int {
	if m <= 0 {
		return nil
	}
	return &m
}
