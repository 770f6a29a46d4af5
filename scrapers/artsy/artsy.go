// Package artsy reads responses of the Artsy public API v2, a HAL+JSON API
// (https://developers.artsy.net/v2). Artsy retired that API in 2025, so Curio
// talks to a server at a configurable base URL (a local server in tests and
// demos) that answers with documents of the same shape; Rebase moves the
// api.artsy.net links found in them onto that base.
//
// Parse is pure (bytes in, records out) and tolerant: a missing field, or one
// of an unexpected JSON type, reads as the empty value (a number where text
// is expected reads as its digits), and list elements that are not objects
// are skipped. It fails only when the bytes are not JSON, or are JSON but not
// an Artsy HAL document at all.
// Artist.Record and Artwork.Record turn what Parse found into Curio's
// domain records.
package artsy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Error is the type of the package's sentinel errors. Parse wraps them, so
// callers can test a failure with errors.Is.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// Sentinel errors wrapped by Parse.
const (
	// ErrNotJSON reports a body that is not one well-formed JSON value.
	ErrNotJSON Error = "artsy: body is not JSON"
	// ErrNotHAL reports JSON that is not an Artsy HAL document: not an object,
	// or an object with neither a _links nor an _embedded object.
	ErrNotHAL Error = "artsy: body is not an Artsy HAL document"
)

// Document is what one Artsy API response holds: a single artist, artwork or
// gene, or a list page of them (_embedded.artists, _embedded.artworks,
// _embedded.genes).
type Document struct {
	Artists  []Artist
	Artworks []Artwork
	Genes    []Gene
	Next     string // _links.next.href of a list page, "" when last page
	Total    int    // total_count when present
}

// Link is one HAL link. A templated href is an RFC 6570 URI template; see
// ExpandLink.
type Link struct {
	Href      string
	Templated bool
}

// Artist is an Artsy artist. Text fields are trimmed; absent ones are "".
type Artist struct {
	ID, Slug, Name, SortableName, Gender, Birthday, Deathday, Hometown, Location, Nationality, Biography string
	// Links are the artist's _links by relation (self, permalink, artworks,
	// image ...); nil when there are none.
	Links map[string]Link
	// Raw is the artist's own JSON object, compacted and copied out of the
	// response (never a slice of the body passed to Parse).
	Raw json.RawMessage
}

// Artwork is an Artsy artwork. Text fields are trimmed; absent ones are "".
type Artwork struct {
	ID, Slug, Title, Category, Medium, Date, CollectingInstitution, ImageRights, Website, AdditionalInformation string
	// Dimensions is dimensions.in.text when present, else dimensions.cm.text
	// (or dimensions itself when it is a string).
	Dimensions string
	// Links are the artwork's _links by relation (self, permalink, thumbnail,
	// image, artists ...); nil when there are none.
	Links map[string]Link
	// Raw is the artwork's own JSON object, compacted and copied out of the
	// response.
	Raw json.RawMessage
}

// Gene is an Artsy gene: a category such as a movement, medium or subject.
type Gene struct {
	ID, Name, Description string
	// Links are the gene's _links by relation; nil when there are none.
	Links map[string]Link
	// Raw is the gene's own JSON object, compacted and copied out of the
	// response.
	Raw json.RawMessage
}

// resource kinds a document or link can name.
type kind int

const (
	kindNone kind = iota
	kindArtist
	kindArtwork
	kindGene
)

// collectionKind maps the API's collection names to kinds.
func collectionKind(seg string) kind {
	switch seg {
	case "artists":
		return kindArtist
	case "artworks":
		return kindArtwork
	case "genes":
		return kindGene
	}
	return kindNone
}

// text is a tolerant JSON text field: a string (trimmed) or a number (its
// literal text); any other value reads as "". set records that the key was
// present at all.
type text struct {
	s   string
	set bool
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (t *text) UnmarshalJSON(b []byte) error {
	t.set = true
	t.s = ""
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		t.s = strings.TrimSpace(unquote(b))
	case c == '-' || c >= '0' && c <= '9':
		t.s = string(b)
	}
	return nil
}

// unquote decodes a JSON string literal; the common case, no escapes and
// valid UTF-8, is a plain copy.
func unquote(b []byte) string {
	if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return string(b[1 : len(b)-1])
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return ""
	}
	return s
}

// dims reads Artsy's {"in": {"text": ...}, "cm": {"text": ...}}, preferring
// inches; a plain string is taken as is.
type dims struct {
	s   string
	set bool
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (d *dims) UnmarshalJSON(b []byte) error {
	d.set = true
	d.s = ""
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		d.s = strings.TrimSpace(unquote(b))
	case '{':
		var v struct {
			In struct{ Text text } `json:"in"`
			Cm struct{ Text text } `json:"cm"`
		}
		_ = json.Unmarshal(b, &v) // type errors leave fields empty
		d.s = v.In.Text.s
		if d.s == "" {
			d.s = v.Cm.Text.s
		}
	}
	return nil
}

// link is one _links entry: a link object, or (HAL) an array of them, of
// which the first counts.
type link struct{ Link }

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (l *link) UnmarshalJSON(b []byte) error {
	l.Link = Link{}
	if len(b) == 0 {
		return nil
	}
	var v struct {
		Href      json.RawMessage `json:"href"`
		Templated bool            `json:"templated"`
	}
	switch b[0] {
	case '{':
		_ = json.Unmarshal(b, &v) // type errors leave fields empty
	case '[':
		var all []link
		_ = json.Unmarshal(b, &all)
		if len(all) > 0 {
			l.Link = all[0].Link
		}
		return nil
	default:
		return nil
	}
	if len(v.Href) > 0 && v.Href[0] == '"' {
		l.Href = strings.TrimSpace(unquote(v.Href))
	}
	l.Templated = v.Templated
	return nil
}

// links is a HAL _links object; it stays nil when _links is absent or not an
// object.
type links map[string]link

// toMap returns the links that have an href, or nil when none has.
func (ls links) toMap() map[string]Link {
	var m map[string]Link
	for rel, l := range ls {
		if l.Href == "" {
			continue
		}
		if m == nil {
			m = make(map[string]Link, len(ls))
		}
		m[rel] = l.Link
	}
	return m
}

// fields are the fields of an artist, artwork or gene, decoded tolerantly.
type fields struct {
	ID                    text  `json:"id"`
	Slug                  text  `json:"slug"`
	Name                  text  `json:"name"`
	SortableName          text  `json:"sortable_name"`
	Gender                text  `json:"gender"`
	Birthday              text  `json:"birthday"`
	Deathday              text  `json:"deathday"`
	Hometown              text  `json:"hometown"`
	Location              text  `json:"location"`
	Nationality           text  `json:"nationality"`
	Biography             text  `json:"biography"`
	Title                 text  `json:"title"`
	Category              text  `json:"category"`
	Medium                text  `json:"medium"`
	Date                  text  `json:"date"`
	CollectingInstitution text  `json:"collecting_institution"`
	ImageRights           text  `json:"image_rights"`
	Website               text  `json:"website"`
	AdditionalInformation text  `json:"additional_information"`
	Description           text  `json:"description"`
	DisplayName           text  `json:"display_name"`
	Dimensions            dims  `json:"dimensions"`
	Links                 links `json:"_links"`
}

// element is one embedded resource with its own JSON; ok is false for
// elements that are not objects (null, strings, numbers ...).
type element struct {
	f   fields
	raw json.RawMessage
	ok  bool
}

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (e *element) UnmarshalJSON(b []byte) error {
	*e = element{}
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	_ = json.Unmarshal(b, &e.f) // type errors leave fields empty
	e.raw, e.ok = ownJSON(b), true
	return nil
}

// elements is an embedded list: a JSON array of resources or, as HAL also
// allows, a single resource object; anything else is an empty list.
type elements []element

// UnmarshalJSON implements json.Unmarshaler and never fails. The decoder
// has validated b, so the array is split without decoding it twice.
func (es *elements) UnmarshalJSON(b []byte) error {
	*es = nil
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '{':
		*es = make(elements, 1)
		return (*es)[0].UnmarshalJSON(b)
	case '[':
		for i := 1; i < len(b); {
			i = skipSpace(b, i)
			if i >= len(b) || b[i] == ']' {
				break
			}
			end := valueEnd(b, i)
			var e element
			_ = e.UnmarshalJSON(b[i:end])
			*es = append(*es, e)
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i++
			}
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the end of the valid JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return min(i+1, len(b))
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing array: a scalar ends here
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return len(b)
}

// document is a whole response: a resource's own fields, and those of a list
// page.
type document struct {
	fields
	TotalCount text                `json:"total_count"`
	Embedded   map[string]elements `json:"_embedded"`
}

// Parse reads one Artsy API response. A single resource is recognised by the
// path of its _links.self.href (/artists/ID, /artworks/ID, /genes/ID); a list
// page by _embedded.artists, _embedded.artworks or _embedded.genes. When there
// is no self link, the permalink (www.artsy.net/artist/..., /artwork/...,
// /gene/...) and then characteristic fields decide (title, medium, category
// ... for an artwork; birthday, nationality, sortable_name ... for an artist;
// description, display_name for a gene; a bare name reads as an artist). A HAL
// document that is none of these parses to an empty Document.
//
// The error wraps ErrNotJSON when body is not JSON (a leading UTF-8 byte
// order mark is allowed) and ErrNotHAL when it is JSON but not an Artsy HAL
// document.
func Parse(body []byte) (Document, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	var top document
	if err := json.Unmarshal(body, &top); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return Document{}, fmt.Errorf("%w: %w", ErrNotJSON, err)
		}
		// A value of an unexpected type somewhere: it reads as empty.
	}
	if v := bytes.TrimSpace(body); len(v) == 0 || v[0] != '{' {
		return Document{}, fmt.Errorf("%w: top-level value is %s, want an object", ErrNotHAL, jsonType(v))
	}
	if top.Links == nil && top.Embedded == nil {
		return Document{}, fmt.Errorf("%w: no _links or _embedded object", ErrNotHAL)
	}

	doc := Document{Next: top.Links["next"].Href, Total: count(top.TotalCount.s)}
	self := top.Links["self"].Href
	if k, single := apiKind(self); single {
		doc.add(k, &top.fields, ownJSON(body))
		return doc, nil
	}
	if list := doc.addEmbedded(top.Embedded); list || self != "" {
		// A list page, or a document whose self link names something else
		// (a collection with nothing embedded, a partner, a show ...).
		return doc, nil
	}
	k := permalinkKind(top.Links["permalink"].Href)
	if k == kindNone {
		k = top.fields.kind()
	}
	if k != kindNone {
		doc.add(k, &top.fields, ownJSON(body))
	}
	return doc, nil
}

// addEmbedded adds the artists, artworks and genes embedded in a list page and
// reports whether there were any such lists (even empty ones).
func (d *Document) addEmbedded(embedded map[string]elements) bool {
	found := false
	for _, name := range [...]string{"artists", "artworks", "genes"} {
		elems, ok := embedded[name]
		if !ok {
			continue
		}
		found = true
		for i := range elems {
			if elems[i].ok {
				d.add(collectionKind(name), &elems[i].f, elems[i].raw)
			}
		}
	}
	return found
}

// add appends the resource f, whose JSON is raw, as a record of kind k;
// kindNone adds nothing.
func (d *Document) add(k kind, f *fields, raw json.RawMessage) {
	switch k {
	case kindArtist:
		d.Artists = append(d.Artists, Artist{
			ID:           f.ID.s,
			Slug:         f.Slug.s,
			Name:         f.Name.s,
			SortableName: f.SortableName.s,
			Gender:       f.Gender.s,
			Birthday:     f.Birthday.s,
			Deathday:     f.Deathday.s,
			Hometown:     f.Hometown.s,
			Location:     f.Location.s,
			Nationality:  f.Nationality.s,
			Biography:    f.Biography.s,
			Links:        f.Links.toMap(),
			Raw:          raw,
		})
	case kindArtwork:
		d.Artworks = append(d.Artworks, Artwork{
			ID:                    f.ID.s,
			Slug:                  f.Slug.s,
			Title:                 f.Title.s,
			Category:              f.Category.s,
			Medium:                f.Medium.s,
			Date:                  f.Date.s,
			CollectingInstitution: f.CollectingInstitution.s,
			ImageRights:           f.ImageRights.s,
			Website:               f.Website.s,
			AdditionalInformation: f.AdditionalInformation.s,
			Dimensions:            f.Dimensions.s,
			Links:                 f.Links.toMap(),
			Raw:                   raw,
		})
	case kindGene:
		d.Genes = append(d.Genes, Gene{
			ID:          f.ID.s,
			Name:        f.Name.s,
			Description: f.Description.s,
			Links:       f.Links.toMap(),
			Raw:         raw,
		})
	}
}

// kind guesses the kind of a resource without a self or permalink link from
// the fields it has.
func (f *fields) kind() kind {
	switch {
	case f.Title.set || f.Medium.set || f.Category.set || f.CollectingInstitution.set || f.Dimensions.set ||
		f.AdditionalInformation.set || f.ImageRights.set:
		return kindArtwork
	case f.SortableName.set || f.Birthday.set || f.Deathday.set || f.Nationality.set || f.Hometown.set ||
		f.Biography.set || f.Gender.set:
		return kindArtist
	case f.Description.set || f.DisplayName.set:
		return kindGene
	case f.Name.set:
		return kindArtist
	}
	return kindNone
}

// ownJSON returns a compact copy of raw, a valid JSON value, with any invalid
// UTF-8 replaced by U+FFFD so that it can be stored as JSON text anywhere.
func ownJSON(raw []byte) json.RawMessage {
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if json.Compact(&buf, raw) != nil {
		return nil
	}
	out := buf.Bytes()
	if !utf8.Valid(out) {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return json.RawMessage(out)
}

// count reads a non-negative integer count (total_count); anything else,
// including null and fractions, is 0.
func count(s string) int {
	i, err := json.Number(s).Int64()
	if err != nil || i < 0 || i > math.MaxInt32 {
		return 0
	}
	return int(i)
}

// apiKind tells what an API href names: single reports a single resource
// (/artists/ID, /artworks/ID, /genes/ID); a collection (/artworks?artist_id=)
// has single false and its kind; anything else is kindNone.
func apiKind(href string) (k kind, single bool) {
	segs := pathSegments(href)
	n := len(segs)
	if n >= 2 {
		if k := collectionKind(segs[n-2]); k != kindNone && segs[n-1] != "" {
			return k, true
		}
	}
	if n >= 1 {
		return collectionKind(segs[n-1]), false
	}
	return kindNone, false
}

// permalinkKind tells what a www.artsy.net permalink (/artist/SLUG,
// /artwork/SLUG, /gene/SLUG) names.
func permalinkKind(href string) kind {
	segs := pathSegments(href)
	if n := len(segs); n >= 2 && segs[n-1] != "" {
		switch segs[n-2] {
		case "artist":
			return kindArtist
		case "artwork":
			return kindArtwork
		case "gene":
			return kindGene
		}
	}
	return kindNone
}

// pathSegments splits the path of href (without scheme, host, query or
// fragment; a trailing slash ignored) into its segments.
func pathSegments(href string) []string {
	if href == "" {
		return nil
	}
	p := href
	if i := strings.IndexAny(p, "?#{"); i >= 0 {
		p = p[:i]
	}
	if u, err := url.Parse(p); err == nil {
		p = u.Path
	}
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// jsonType names the type of a valid JSON value for error messages.
func jsonType(v []byte) string {
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
