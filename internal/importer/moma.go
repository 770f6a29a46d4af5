package importer

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/curiodata/curio/internal/domain"
)

// momaInput detects the form of a MoMA file by its first non-space byte
// (after an optional byte order mark) and streams its rows to fn: JSON (an
// array of objects, or newline-delimited objects) when it is '[' or '{',
// CSV otherwise. required lists the CSV columns that must be present.
func momaInput(r io.Reader, required []string, fn func(row, line int, f fieldSource, raw []byte, problem error) error) error {
	br, first, err := newBufReader(r)
	if err != nil {
		return err
	}
	switch first {
	case 0:
		return errors.New("empty input")
	case '[', '{':
		return jsonElements(br, func(n int, elem []byte) error {
			m, raw, err := decodeJSONRow(elem)
			if err != nil {
				return fn(n, n, nil, raw, err)
			}
			return fn(n, n, m, raw, nil)
		})
	}
	return csvRows(br, required, func(row, line int, f csvRow, problem error) error {
		return fn(row, line, f, rawObject(f), problem)
	})
}

// recordError formats a row problem: JSON elements are numbered, CSV rows
// get their row and file line.
func recordError(f fieldSource, row, line int, problem error) error {
	if _, ok := f.(csvRow); ok {
		return rowError(row, line, problem)
	}
	return elementError(row, problem)
}

// ReadMoMAArtists streams MoMA's Artists data, as CSV (header
// ConstituentID,DisplayName,ArtistBio,Nationality,Gender,BeginDate,EndDate,
// Wiki QID,ULAN; an optional UTF-8 byte order mark is dropped) or as the JSON
// array MoMA publishes with the same keys (numbers may be JSON numbers). The
// form is detected from the first non-space byte. IDs are "moma-a-" plus
// ConstituentID; a BeginDate or EndDate of 0 means unknown.
func ReadMoMAArtists(r io.Reader, emit func(domain.Record) error) error {
	const what = "read moma artists"
	err := momaInput(r, []string{"ConstituentID", "DisplayName"}, func(row, line int, f fieldSource, raw []byte, problem error) error {
		rec := domain.Record{Source: sourceMoMAArtists, Kind: domain.KindArtist, Line: row, Key: rowKey(row), Raw: raw}
		if problem == nil {
			var a *domain.Artist
			a, problem = parseMoMAArtist(f)
			if a != nil && a.ID != "" {
				rec.Key = a.ID
			}
			if problem == nil {
				rec.Artist = a
			}
		}
		if problem != nil {
			rec.Err = recordError(f, row, line, problem)
		}
		return emitRecord(emit, rec)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// momaID checks that a MoMA id is a non-negative integer and returns it in
// canonical form ("6210" from "6210", 6210 or 6210.0).
func momaID(name, s string) (string, error) {
	s = text(s)
	if s == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	n, err := parseInt(name, s)
	if err != nil || n < 0 {
		return "", fmt.Errorf("%s %q is not a number", name, s)
	}
	return strconv.Itoa(n), nil
}

// strs reads several text fields of f, trimmed, stopping at the first error.
func strs(f fieldSource, keys ...string) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		s, err := f.str(k)
		if err != nil {
			return nil, err
		}
		out[i] = text(s)
	}
	return out, nil
}

// parseMoMAArtist builds an artist from one CSV row or JSON object. On error
// the returned artist, if any, carries only the ID.
func parseMoMAArtist(f fieldSource) (*domain.Artist, error) {
	v, err := strs(f, "ConstituentID", "DisplayName", "ArtistBio", "Nationality", "Gender", "BeginDate", "EndDate", "Wiki QID", "ULAN")
	if err != nil {
		return nil, err
	}
	cid, err := momaID("ConstituentID", v[0])
	if err != nil {
		return nil, err
	}
	a := &domain.Artist{
		ID:          "moma-a-" + cid,
		Name:        v[1],
		Bio:         v[2],
		Nationality: v[3],
		Gender:      v[4],
		WikiQID:     v[7],
		ULAN:        v[8],
		Source:      sourceMoMAArtists,
	}
	var errs []error
	if a.Name == "" {
		errs = append(errs, errors.New("empty DisplayName"))
	}
	if a.BeginYear, err = parseInt("BeginDate", v[5]); err == nil {
		err = checkRange("BeginDate", float64(a.BeginYear), 1, 2100)
	}
	errs = append(errs, err)
	if a.EndYear, err = parseInt("EndDate", v[6]); err == nil {
		err = checkRange("EndDate", float64(a.EndYear), 1, 2100)
	}
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return &domain.Artist{ID: a.ID}, joinedError(err)
	}
	return a, nil
}

// ReadMoMAArtworks streams MoMA's Artworks data, as a JSON array of objects
// (multi-valued fields such as Artist, ConstituentID and Nationality are
// arrays) or as CSV (the same fields as strings: "Otto Wagner, Emil Hoppe",
// "6210, 7605", "(Austrian) (Austrian)"). The form is detected from the
// first non-space byte. IDs are "moma-aw-" plus ObjectID, artist ids
// "moma-a-" plus each ConstituentID. Year is the first four-digit year
// (1000–2100) in the free-text Date, which is kept as DateText.
func ReadMoMAArtworks(r io.Reader, emit func(domain.Record) error) error {
	const what = "read moma artworks"
	err := momaInput(r, []string{"Title", "ObjectID"}, func(row, line int, f fieldSource, raw []byte, problem error) error {
		rec := domain.Record{Source: sourceMoMAArtworks, Kind: domain.KindArtwork, Line: row, Key: rowKey(row), Raw: raw}
		if problem == nil {
			var a *domain.Artwork
			a, problem = parseMoMAArtwork(f)
			if a != nil && a.ID != "" {
				rec.Key = a.ID
			}
			if problem == nil {
				rec.Artwork = a
			}
		}
		if problem != nil {
			rec.Err = recordError(f, row, line, problem)
		}
		return emitRecord(emit, rec)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// parseMoMAArtwork builds an artwork from one CSV row or JSON object. On
// error the returned artwork, if any, carries only the ID.
func parseMoMAArtwork(f fieldSource) (*domain.Artwork, error) {
	v, err := strs(f, "ObjectID", "Title", "Date", "Medium", "Dimensions", "Classification", "Department", "CreditLine", "URL", "ImageURL", "ThumbnailURL")
	if err != nil {
		return nil, err
	}
	oid, err := momaID("ObjectID", v[0])
	if err != nil {
		return nil, err
	}
	a := &domain.Artwork{
		ID:             "moma-aw-" + oid,
		Title:          v[1],
		Year:           domain.FirstYear(v[2]),
		DateText:       v[2],
		Medium:         v[3],
		Dimensions:     v[4],
		Classification: v[5],
		Department:     v[6],
		CreditLine:     v[7],
		URL:            v[8],
		ImageURL:       v[9],
		Source:         sourceMoMAArtworks,
	}
	if a.ImageURL == "" {
		a.ImageURL = v[10]
	}
	fail := func(err error) (*domain.Artwork, error) { return &domain.Artwork{ID: a.ID}, err }
	if a.Title == "" {
		return fail(errors.New("empty Title"))
	}
	if a.Artists, err = f.list("Artist", func(s string) []string { return splitList(s, ", ") }); err != nil {
		return fail(err)
	}
	ids, err := f.list("ConstituentID", func(s string) []string { return splitList(s, ",") })
	if err != nil {
		return fail(err)
	}
	for _, id := range ids {
		cid, err := momaID("ConstituentID", id)
		if err != nil {
			return fail(err)
		}
		a.ArtistIDs = append(a.ArtistIDs, "moma-a-"+cid)
	}
	if a.Nationalities, err = f.list("Nationality", parenthesized); err != nil {
		return fail(err)
	}
	return a, nil
}

// parenthesized splits MoMA's CSV nationality text "(Austrian) (French)"
// into its non-empty parts; text without parentheses is one part.
func parenthesized(s string) []string {
	if !strings.Contains(s, "(") {
		return splitList(s, "\x00")
	}
	var out []string
	for {
		i := strings.IndexByte(s, '(')
		if i < 0 {
			return out
		}
		s = s[i+1:]
		j := strings.IndexByte(s, ')')
		if j < 0 {
			j = len(s)
		}
		if p := text(s[:j]); p != "" {
			out = append(out, p)
		}
		s = s[j:]
	}
}
