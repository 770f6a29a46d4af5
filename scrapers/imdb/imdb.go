// Package imdb parses IMDb title and search pages. Parsing is pure (bytes in, records
// out) and tolerant: every layout IMDb has served is read (JSON-LD first, then
// __NEXT_DATA__, then the pre-2018 itemprop markup), a missing field stays empty, and only
// a page that is not a title page at all is an error.
package imdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/curiodata/curio/internal/domain"
)

// Title is a parsed IMDb title page. Pointer fields are nil when the page does not say.
type Title struct {
	IMDbID         string   `json:"imdb_id"`
	Type           string   `json:"type"` // "movie" or "series"
	Title          string   `json:"title"`
	Year           *int     `json:"year"`
	Rating         *float64 `json:"rating"`
	Votes          *int     `json:"votes"`
	Genres         []string `json:"genres"`
	Directors      []string `json:"directors"`
	Cast           []string `json:"cast"`
	RuntimeMinutes *int     `json:"runtime_minutes"`
	Plot           string   `json:"plot"`
	ContentRating  string   `json:"content_rating"`
	Layout         string   `json:"-"` // the first layout that yielded the title: json-ld, next-data or itemprop
}

// ErrNotTitlePage is returned when a page carries no title markup of any known layout.
var ErrNotTitlePage = errors.New("not an IMDb title page: no JSON-LD, __NEXT_DATA__ or itemprop title markup found")

var idRe = regexp.MustCompile(`tt\d{5,10}`)

// IDFromURL returns the title id in an IMDb URL or path, or "".
func IDFromURL(u string) string {
	if i := strings.Index(u, "/title/"); i >= 0 {
		return idRe.FindString(u[i:])
	}
	return ""
}

// TitleURL is the URL of a title page under base (e.g. https://www.imdb.com).
func TitleURL(base, id string) string { return strings.TrimRight(base, "/") + "/title/" + id + "/" }

// ParseTitle parses a title page fetched from url (used for the id when the page lacks one).
func ParseTitle(page []byte, url string) (Title, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return Title{}, fmt.Errorf("parse html: %w", err)
	}
	var t Title
	for _, layout := range []struct {
		name string
		fn   func(*goquery.Document, *Title) bool
	}{{"json-ld", fromJSONLD}, {"next-data", fromNextData}, {"itemprop", fromItemprop}} {
		if layout.fn(doc, &t) && t.Layout == "" {
			t.Layout = layout.name
		}
	}
	if t.IMDbID == "" {
		t.IMDbID = IDFromURL(url)
	}
	if t.Title == "" || t.Layout == "" {
		return Title{}, ErrNotTitlePage
	}
	if t.Type == "" {
		t.Type = "movie"
	}
	for _, s := range []*[]string{&t.Genres, &t.Directors, &t.Cast} {
		*s = dedupe(*s)
	}
	return t, nil
}

// Movie converts the title into the cleaned catalog type.
func (t Title) Movie() domain.Movie {
	m := domain.Movie{ID: t.IMDbID, Kind: t.Type, Title: t.Title, Genres: t.Genres, Directors: t.Directors, Cast: t.Cast,
		Plot: t.Plot, ContentRating: t.ContentRating, Source: "imdb-scrape"}
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

// clean decodes HTML entities (twice: IMDb's JSON-LD sometimes double-escapes them) and
// collapses whitespace.
func clean(s string) string {
	s = html.UnescapeString(html.UnescapeString(s))
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
}

func dedupe(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range in {
		if s = clean(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func setYear(t *Title, y int) {
	if t.Year == nil && y >= 1870 && y <= 2100 {
		t.Year = &y
	}
}

func kindOf(typ string) string {
	switch strings.ToLower(typ) {
	case "tvseries", "tvminiseries":
		return "series"
	case "":
		return ""
	}
	return "movie"
}

// --- JSON-LD -------------------------------------------------------------------------

type ldPerson struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

// ldPeople accepts a person object, an array of them, or a bare name.
type ldPeople []ldPerson

func (p *ldPeople) UnmarshalJSON(b []byte) error {
	var many []ldPerson
	if json.Unmarshal(b, &many) == nil {
		*p = many
		return nil
	}
	var one ldPerson
	if json.Unmarshal(b, &one) == nil {
		*p = ldPeople{one}
		return nil
	}
	var name string
	if json.Unmarshal(b, &name) == nil {
		*p = ldPeople{{Type: "Person", Name: name}}
	}
	return nil
}

func (p ldPeople) names() []string {
	var out []string
	for _, x := range p {
		if x.Type == "" || x.Type == "Person" {
			out = append(out, x.Name)
		}
	}
	return out
}

// ldStrings accepts a string or an array of strings.
type ldStrings []string

func (s *ldStrings) UnmarshalJSON(b []byte) error {
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*s = many
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = ldStrings{one}
	}
	return nil
}

// ldNumber accepts a number or a numeric string.
type ldNumber struct {
	v  float64
	ok bool
}

func (n *ldNumber) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if f, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64); err == nil {
		n.v, n.ok = f, true
	}
	return nil
}

type ldMovie struct {
	Type          ldStrings `json:"@type"`
	URL           string    `json:"url"`
	Name          string    `json:"name"`
	DatePublished string    `json:"datePublished"`
	Genre         ldStrings `json:"genre"`
	Director      ldPeople  `json:"director"`
	Creator       ldPeople  `json:"creator"`
	Actor         ldPeople  `json:"actor"`
	Description   string    `json:"description"`
	Duration      string    `json:"duration"`
	ContentRating string    `json:"contentRating"`
	Rating        struct {
		Value ldNumber `json:"ratingValue"`
		Count ldNumber `json:"ratingCount"`
	} `json:"aggregateRating"`
	Graph []json.RawMessage `json:"@graph"`
}

func isTitleType(types []string) bool {
	for _, t := range types {
		switch t {
		case "Movie", "TVSeries", "TVMiniSeries", "TVMovie", "TVEpisode", "VideoGame", "CreativeWork", "ShortFilm", "TVSpecial":
			return true
		}
	}
	return false
}

func fromJSONLD(doc *goquery.Document, t *Title) bool {
	found := false
	doc.Find(`script[type="application/ld+json"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		var candidates []json.RawMessage
		raw := []byte(strings.TrimSpace(s.Text()))
		if json.Unmarshal(raw, &candidates) != nil {
			candidates = []json.RawMessage{raw}
		}
		for len(candidates) > 0 {
			var m ldMovie
			err := json.Unmarshal(candidates[0], &m)
			candidates = candidates[1:]
			if err != nil {
				continue
			}
			candidates = append(candidates, m.Graph...)
			if !isTitleType(m.Type) || m.Name == "" {
				continue
			}
			applyLD(t, m)
			found = true
			return false
		}
		return true
	})
	return found
}

func applyLD(t *Title, m ldMovie) {
	if t.IMDbID == "" {
		t.IMDbID = IDFromURL(m.URL)
	}
	if t.Title == "" {
		t.Title = clean(m.Name)
	}
	if t.Type == "" && len(m.Type) > 0 {
		t.Type = kindOf(m.Type[0])
	}
	if len(m.DatePublished) >= 4 {
		if y, err := strconv.Atoi(m.DatePublished[:4]); err == nil {
			setYear(t, y)
		}
	}
	if t.Rating == nil && m.Rating.Value.ok {
		v := m.Rating.Value.v
		t.Rating = &v
	}
	if t.Votes == nil && m.Rating.Count.ok {
		v := int(m.Rating.Count.v)
		t.Votes = &v
	}
	if len(t.Genres) == 0 {
		t.Genres = m.Genre
	}
	if len(t.Directors) == 0 {
		t.Directors = m.Director.names()
	}
	if len(t.Cast) == 0 {
		t.Cast = m.Actor.names()
	}
	if t.Plot == "" {
		t.Plot = clean(m.Description)
	}
	if t.RuntimeMinutes == nil {
		if d, ok := ISODurationMinutes(m.Duration); ok {
			t.RuntimeMinutes = &d
		}
	}
	if t.ContentRating == "" {
		t.ContentRating = clean(m.ContentRating)
	}
}

var isoRe = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ISODurationMinutes converts an ISO 8601 duration (PT2H16M, PT45M, P0DT2H16M0S) to minutes.
func ISODurationMinutes(s string) (int, bool) {
	m := isoRe.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, false
	}
	n := func(i int) float64 { f, _ := strconv.ParseFloat(m[i], 64); return f }
	mins := n(1)*24*60 + n(2)*60 + n(3) + n(4)/60
	if mins <= 0 {
		return 0, false
	}
	return int(mins + 0.5), true
}

// --- __NEXT_DATA__ ---------------------------------------------------------------------

type nextName struct {
	Name struct {
		NameText struct{ Text string } `json:"nameText"`
	} `json:"name"`
}

type nextCredits struct {
	Category struct{ ID, Text string } `json:"category"`
	Credits  []nextName                `json:"credits"`
}

type nextTitle struct {
	ID        string `json:"id"`
	TitleText *struct {
		Text string `json:"text"`
	} `json:"titleText"`
	TitleType *struct {
		ID       string `json:"id"`
		IsSeries bool   `json:"isSeries"`
	} `json:"titleType"`
	ReleaseYear *struct {
		Year int `json:"year"`
	} `json:"releaseYear"`
	RatingsSummary *struct {
		AggregateRating *float64 `json:"aggregateRating"`
		VoteCount       *int     `json:"voteCount"`
	} `json:"ratingsSummary"`
	Genres *struct {
		Genres []struct{ Text string } `json:"genres"`
	} `json:"genres"`
	Plot *struct {
		PlotText *struct {
			PlainText string `json:"plainText"`
		} `json:"plotText"`
	} `json:"plot"`
	Runtime *struct {
		Seconds int `json:"seconds"`
	} `json:"runtime"`
	Certificate *struct {
		Rating string `json:"rating"`
	} `json:"certificate"`
	PrincipalCredits []nextCredits `json:"principalCredits"`
}

type nextData struct {
	Props struct {
		PageProps struct {
			AboveTheFold *nextTitle      `json:"aboveTheFoldData"`
			TitleResults json.RawMessage `json:"titleResults"`
		} `json:"pageProps"`
	} `json:"props"`
}

func readNextData(doc *goquery.Document) (nextData, bool) {
	var nd nextData
	s := doc.Find(`script#__NEXT_DATA__`).First()
	if s.Length() == 0 {
		return nd, false
	}
	return nd, json.Unmarshal([]byte(s.Text()), &nd) == nil
}

func fromNextData(doc *goquery.Document, t *Title) bool {
	nd, ok := readNextData(doc)
	a := nd.Props.PageProps.AboveTheFold
	if !ok || a == nil || a.TitleText == nil || a.TitleText.Text == "" {
		return false
	}
	if t.IMDbID == "" {
		t.IMDbID = idRe.FindString(a.ID)
	}
	if t.Title == "" {
		t.Title = clean(a.TitleText.Text)
	}
	// The GraphQL title type is more specific than JSON-LD's @type (series are sometimes
	// tagged Movie there).
	if a.TitleType != nil && (a.TitleType.IsSeries || strings.HasPrefix(a.TitleType.ID, "tvSeries") || a.TitleType.ID == "tvMiniSeries") {
		t.Type = "series"
	} else if t.Type == "" && a.TitleType != nil {
		t.Type = kindOf(a.TitleType.ID)
	}
	if a.ReleaseYear != nil {
		setYear(t, a.ReleaseYear.Year)
	}
	if r := a.RatingsSummary; r != nil {
		if t.Rating == nil && r.AggregateRating != nil {
			t.Rating = r.AggregateRating
		}
		if t.Votes == nil && r.VoteCount != nil && *r.VoteCount > 0 {
			t.Votes = r.VoteCount
		}
	}
	if len(t.Genres) == 0 && a.Genres != nil {
		for _, g := range a.Genres.Genres {
			t.Genres = append(t.Genres, g.Text)
		}
	}
	if t.Plot == "" && a.Plot != nil && a.Plot.PlotText != nil {
		t.Plot = clean(a.Plot.PlotText.PlainText)
	}
	if t.RuntimeMinutes == nil && a.Runtime != nil && a.Runtime.Seconds > 0 {
		m := (a.Runtime.Seconds + 30) / 60
		t.RuntimeMinutes = &m
	}
	if t.ContentRating == "" && a.Certificate != nil {
		t.ContentRating = clean(a.Certificate.Rating)
	}
	for _, pc := range a.PrincipalCredits {
		var names []string
		for _, c := range pc.Credits {
			names = append(names, c.Name.NameText.Text)
		}
		cat := strings.ToLower(pc.Category.ID + " " + pc.Category.Text)
		switch {
		case strings.Contains(cat, "director") && len(t.Directors) == 0:
			t.Directors = names
		case (strings.Contains(cat, "cast") || strings.Contains(cat, "star")) && len(t.Cast) == 0:
			t.Cast = names
		}
	}
	return true
}

// --- pre-2018 itemprop markup ------------------------------------------------------------

func fromItemprop(doc *goquery.Document, t *Title) bool {
	scope := doc.Find(`[itemtype*="schema.org/Movie"], [itemtype*="schema.org/TVSeries"]`).First()
	if scope.Length() == 0 {
		return false
	}
	name := scope.Find(`[itemprop="name"]`).First()
	if name.Length() == 0 {
		return false
	}
	if t.IMDbID == "" {
		for _, sel := range []string{`link[rel="canonical"]`, `meta[property="og:url"]`, `meta[property="pageId"]`} {
			attr := "href"
			if strings.HasPrefix(sel, "meta") {
				attr = "content"
			}
			if v, ok := doc.Find(sel).First().Attr(attr); ok && idRe.MatchString(v) {
				t.IMDbID = idRe.FindString(v)
				break
			}
		}
	}
	if strings.Contains(scope.AttrOr("itemtype", ""), "TVSeries") && t.Type == "" {
		t.Type = "series"
	}
	yearText := name.Find("#titleYear").Text()
	title := name.Clone()
	title.Find("#titleYear").Remove()
	if t.Title == "" {
		t.Title = clean(title.Text())
	}
	if y := regexp.MustCompile(`\d{4}`).FindString(yearText); y != "" {
		n, _ := strconv.Atoi(y)
		setYear(t, n)
	}
	text := func(sel string) string {
		s := scope.Find(sel).First()
		if v, ok := s.Attr("content"); ok {
			return clean(v)
		}
		return clean(s.Text())
	}
	if t.Rating == nil {
		if v, err := strconv.ParseFloat(text(`[itemprop="ratingValue"]`), 64); err == nil {
			t.Rating = &v
		}
	}
	if t.Votes == nil {
		if v, err := strconv.Atoi(strings.ReplaceAll(text(`[itemprop="ratingCount"]`), ",", "")); err == nil {
			t.Votes = &v
		}
	}
	if len(t.Genres) == 0 {
		scope.Find(`[itemprop="genre"]`).Each(func(_ int, s *goquery.Selection) { t.Genres = append(t.Genres, s.Text()) })
	}
	people := func(prop string) []string {
		var out []string
		scope.Find(prop).Each(func(_ int, s *goquery.Selection) {
			if n := s.Find(`[itemprop="name"]`).First(); n.Length() > 0 {
				out = append(out, n.Text())
			} else {
				out = append(out, s.Text())
			}
		})
		return out
	}
	if len(t.Directors) == 0 {
		t.Directors = people(`[itemprop="director"]`)
	}
	if len(t.Cast) == 0 {
		t.Cast = people(`[itemprop="actors"], [itemprop="actor"]`)
	}
	if t.Plot == "" {
		t.Plot = text(`[itemprop="description"]`)
	}
	if t.RuntimeMinutes == nil {
		if d, ok := ISODurationMinutes(scope.Find(`[itemprop="duration"]`).First().AttrOr("datetime", "")); ok {
			t.RuntimeMinutes = &d
		}
	}
	if t.ContentRating == "" {
		t.ContentRating = text(`[itemprop="contentRating"]`)
	}
	return true
}
