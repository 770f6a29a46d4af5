// Package domain holds the catalog types shared by importers, scrapers, storage,
// activities and the API. It has no dependencies on I/O packages.
package domain

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrNotFound is the one error every store returns, wrapped with %w, when a requested
// item, model row, topic, version or asset does not exist. The API answers it with 404.
var ErrNotFound = errors.New("not found")

// ItemType names the kind of a catalog item.
type ItemType string

// Item types served by search.
const (
	TypeMovie   ItemType = "movie"
	TypeArtwork ItemType = "artwork"
)

// Valid reports whether t is a known item type.
func (t ItemType) Valid() bool { return t == TypeMovie || t == TypeArtwork }

// Movie is a cleaned movie or series record. Zero values mean "unknown".
type Movie struct {
	ID             string   `json:"id"`   // IMDb tconst (tt0133093) or a source-prefixed id
	Kind           string   `json:"kind"` // movie, series, short, tvMovie ...
	Title          string   `json:"title"`
	OriginalTitle  string   `json:"original_title,omitempty"`
	Year           int      `json:"year,omitempty"`
	EndYear        int      `json:"end_year,omitempty"`
	Genres         []string `json:"genres,omitempty"`
	Directors      []string `json:"directors,omitempty"`
	Cast           []string `json:"cast,omitempty"`
	RuntimeMinutes int      `json:"runtime_minutes,omitempty"`
	Rating         float64  `json:"rating,omitempty"`
	Votes          int      `json:"votes,omitempty"`
	Plot           string   `json:"plot,omitempty"`
	ContentRating  string   `json:"content_rating,omitempty"`
	Country        string   `json:"country,omitempty"`
	Language       string   `json:"language,omitempty"`
	Source         string   `json:"source"` // demo, imdb-5000, imdb-tsv, imdb-scrape ...
}

// Artist is a cleaned artist record.
type Artist struct {
	ID          string `json:"id"` // source-prefixed, e.g. moma-a-6210
	Name        string `json:"name"`
	Bio         string `json:"bio,omitempty"`
	Nationality string `json:"nationality,omitempty"`
	Gender      string `json:"gender,omitempty"`
	BeginYear   int    `json:"begin_year,omitempty"`
	EndYear     int    `json:"end_year,omitempty"`
	WikiQID     string `json:"wiki_qid,omitempty"`
	ULAN        string `json:"ulan,omitempty"`
	Source      string `json:"source"`
}

// Artwork is a cleaned artwork record.
type Artwork struct {
	ID             string   `json:"id"` // source-prefixed, e.g. moma-aw-2
	Title          string   `json:"title"`
	ArtistIDs      []string `json:"artist_ids,omitempty"`
	Artists        []string `json:"artists,omitempty"` // display names, same order as ArtistIDs
	Nationalities  []string `json:"nationalities,omitempty"`
	Year           int      `json:"year,omitempty"`
	DateText       string   `json:"date_text,omitempty"`
	Medium         string   `json:"medium,omitempty"`
	Dimensions     string   `json:"dimensions,omitempty"`
	Classification string   `json:"classification,omitempty"`
	Department     string   `json:"department,omitempty"`
	CreditLine     string   `json:"credit_line,omitempty"`
	Description    string   `json:"description,omitempty"`
	URL            string   `json:"url,omitempty"`
	ImageURL       string   `json:"image_url,omitempty"`
	Source         string   `json:"source"`
}

// RecordKind names what a Record carries.
type RecordKind string

// Record kinds.
const (
	KindMovie   RecordKind = "movie"
	KindArtist  RecordKind = "artist"
	KindArtwork RecordKind = "artwork"
)

// Record is one row read from a dataset or page: the raw source row (kept in the
// raw zone) and, when it parsed, exactly one typed item. Err is set, and no item,
// when the row could not be parsed; the raw row is still kept with the reason.
type Record struct {
	Source  string     // dataset name: demo, imdb-5000, imdb-tsv, moma-artists, moma-artworks
	Kind    RecordKind // what the row describes
	Key     string     // stable key of the row in its source (id or line number)
	Line    int        // 1-based line or element number in the input, for error messages
	Raw     []byte     // the source row as a JSON object
	Movie   *Movie
	Artist  *Artist
	Artwork *Artwork
	Err     error
}

// FirstYear returns the first run of exactly four digits in a free-text date that is a
// year from 1000 to 2100, or 0: "c. 1917" is 1917, "1865-1866" is 1865, "n.d." is 0.
func FirstYear(s string) int {
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i == 4 {
			y := int(s[i]-'0')*1000 + int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if y >= 1000 && y <= 2100 {
				return y
			}
		}
		i = j
	}
	return 0
}

// StorableText makes s storable in a PostgreSQL text column and short: valid UTF-8, NUL
// written as the four characters \x00, at most n bytes (cut at a rune boundary, with an
// ellipsis) — for error details and reasons kept next to the data.
func StorableText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\x00`)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
