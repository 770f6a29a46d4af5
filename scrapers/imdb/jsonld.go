package imdb

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// isTitleType reports whether a schema.org @type is a kind of title IMDb describes.
func isTitleType(t string) bool {
	switch t {
	case "Movie", "TVSeries", "TVMiniSeries", "TVMovie", "TVEpisode", "TVSeason", "TVSpecial", "TVShort",
		"Short", "ShortFilm", "Video", "VideoGame", "MusicVideo", "MusicVideoObject", "CreativeWork",
		"CreativeWorkSeries", "Episode", "PodcastSeries", "PodcastEpisode":
		return true
	}
	return false
}

// decodeLD decodes a JSON-LD block. Raw control characters, which some pages leave in
// their strings, are turned into spaces and the block is read again.
func decodeLD(body []byte) (any, bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, false
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		return v, true
	}
	fixed := bytes.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, body)
	if json.Unmarshal(fixed, &v) == nil {
		return v, true
	}
	return nil, false
}

// ldObjects lists the top-level objects of a decoded JSON-LD block: the block itself,
// the elements of an array, and the members of @graph.
func ldObjects(v any, depth int, out []map[string]any) []map[string]any {
	if depth > 4 {
		return out
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = ldObjects(e, depth+1, out)
		}
	case map[string]any:
		out = append(out, x)
		if g, ok := x["@graph"]; ok {
			out = ldObjects(g, depth+1, out)
		}
	}
	return out
}

// ldTypes returns an object's @type values.
func ldTypes(o map[string]any) []string {
	switch t := o["@type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ldString reads a string (or a number, written plainly) and cleans it.
func ldString(v any) string {
	switch x := v.(type) {
	case string:
		return clean(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// ldNumber reads a number or a numeric string.
func ldNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		return parseNumber(clean(x))
	}
	return 0, false
}

// ldStrings reads a string or a list of strings.
func ldStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s := ldString(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ldPeople reads the names of the people in a person object, a list of them, or a bare
// name. Organizations (and anything else that is not a Person) are skipped.
func ldPeople(v any) []string {
	var out []string
	var add func(v any, depth int)
	add = func(v any, depth int) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			if depth > 2 {
				return
			}
			for _, e := range x {
				add(e, depth+1)
			}
		case map[string]any:
			types := ldTypes(x)
			if len(types) > 0 && !slicesHasField(strings.Join(types, " "), "Person") {
				return
			}
			if n := ldString(x["name"]); n != "" {
				out = append(out, n)
			}
		}
	}
	add(v, 0)
	return out
}

// fromJSONLD reads the first title object of the page's JSON-LD blocks.
func fromJSONLD(blocks [][]byte) partial {
	var p partial
	bad := 0
	var fallback map[string]any // an untyped object with a title url and a name
	for _, b := range blocks {
		v, ok := decodeLD(b)
		if !ok {
			bad++
			continue
		}
		for _, o := range ldObjects(v, 0, nil) {
			types := ldTypes(o)
			for _, t := range types {
				if isTitleType(t) {
					if p = ldTitle(o, t); p.found {
						return p
					}
				}
			}
			if fallback == nil && len(types) == 0 && IDFromURL(ldString(o["url"])) != "" && ldString(o["name"]) != "" {
				fallback = o
			}
		}
	}
	if fallback != nil {
		return ldTitle(fallback, "")
	}
	if bad > 0 {
		p.problem = strconv.Itoa(bad) + " JSON-LD block(s) are not valid JSON, the page may be truncated"
	}
	return p
}

func ldTitle(o map[string]any, typ string) partial {
	var p partial
	p.IMDbID = IDFromURL(ldString(o["url"]))
	if p.IMDbID == "" {
		p.IMDbID = IDFromURL(ldString(o["@id"]))
	}
	p.Type = kindOf(typ)
	p.Title.Title = ldString(o["name"])
	for _, k := range []string{"datePublished", "startDate", "dateCreated"} {
		if d := ldString(o[k]); d != "" {
			p.Year = firstYear(d)
			break
		}
	}
	if r, ok := o["aggregateRating"].(map[string]any); ok {
		if v, ok := ldNumber(r["ratingValue"]); ok {
			p.Rating = ratingPtr(v)
		}
		if v, ok := ldNumber(r["ratingCount"]); ok {
			p.Votes = votesPtr(v)
		}
	}
	p.Genres = ldStrings(o["genre"])
	p.Directors = ldPeople(o["director"])
	p.Cast = ldPeople(o["actor"])
	if len(p.Cast) == 0 {
		p.Cast = ldPeople(o["actors"])
	}
	p.creators = ldPeople(o["creator"])
	p.Plot = ldString(o["description"])
	if m, ok := ISODurationMinutes(ldString(o["duration"])); ok {
		p.RuntimeMinutes = minutesPtr(m)
	}
	p.ContentRating = ldString(o["contentRating"])
	p.found = p.IMDbID != "" || p.Title.Title != ""
	return p
}
