package imdb

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// clean decodes HTML entities, repeatedly because IMDb sometimes escapes them twice
// ("Schindler&amp;apos;s List"), and collapses whitespace, no-break spaces included.
func clean(s string) string {
	for i := 0; i < 3 && strings.IndexByte(s, '&') >= 0; i++ {
		u := html.UnescapeString(s)
		if u == s {
			break
		}
		s = u
	}
	return strings.Join(strings.Fields(s), " ")
}

// cleanList cleans each name, drops empty ones and duplicates, and never returns nil.
func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = clean(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// firstYear returns the first run of exactly four digits in s that is a plausible year.
func firstYear(s string) *int {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i == 4 {
			y, _ := strconv.Atoi(s[i:j])
			if p := yearPtr(y); p != nil {
				return p
			}
		}
		i = j
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseNumber reads a number written as 8.7, "8.7", "1,956,171" or "1 956 171".
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ',', ' ', '\u00a0', '\u202f', '\'':
			return -1
		}
		return r
	}, s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(n), true
	}
	return 0, false
}

// splitTitleSuffix splits a trailing IMDb qualifier such as "(1999)", "(TV Series
// 2009–2023)" or "(Video Game 2004)" off a display title. The qualifier is kept as part
// of the name when it names neither a year nor a title type.
func splitTitleSuffix(s string) (name string, year *int, series bool) {
	name = clean(s)
	if !strings.HasSuffix(name, ")") {
		return name, nil, false
	}
	open := strings.LastIndexByte(name, '(')
	if open < 0 {
		return name, nil, false
	}
	inner := name[open+1 : len(name)-1]
	year = firstYear(inner)
	lower := strings.ToLower(inner)
	typed := false
	for _, w := range []string{"tv series", "tv mini", "mini-series", "tv movie", "tv episode", "tv special", "tv short", "video", "short", "podcast"} {
		if strings.Contains(lower, w) {
			typed = true
			break
		}
	}
	if year == nil && !typed {
		return name, nil, false
	}
	return strings.TrimSpace(name[:open]), year, strings.Contains(lower, "series")
}

// ISODurationMinutes converts an ISO 8601 duration (PT2H16M, PT45M, PT1H, P0DT2H16M0S,
// PT136M, PT1.5H) to whole minutes, rounding seconds to the nearest minute. ok is false
// for a malformed, negative, calendar (years or months) or zero duration.
func ISODurationMinutes(s string) (minutes int, ok bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	rest, found := strings.CutPrefix(s, "P")
	if !found || rest == "" {
		return 0, false
	}
	var total float64 // seconds
	inTime, parts := false, 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime, rest = true, rest[1:]
			if rest == "" {
				return 0, false
			}
			continue
		}
		n := 0
		for n < len(rest) && (isDigit(rest[n]) || rest[n] == '.' || rest[n] == ',') {
			n++
		}
		if n == 0 || n == len(rest) {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.Replace(rest[:n], ",", ".", 1), 64)
		if err != nil {
			return 0, false
		}
		var unit float64
		switch u := rest[n]; {
		case !inTime && u == 'W':
			unit = 7 * 24 * 3600
		case !inTime && u == 'D':
			unit = 24 * 3600
		case inTime && u == 'H':
			unit = 3600
		case inTime && u == 'M':
			unit = 60
		case inTime && u == 'S':
			unit = 1
		default: // years, months or garbage: not a runtime
			return 0, false
		}
		total += v * unit
		parts++
		rest = rest[n+1:]
	}
	mins := math.Floor(total/60 + 0.5)
	if parts == 0 || !(mins >= 1 && mins <= math.MaxInt32) {
		return 0, false
	}
	return int(mins), true
}

// textMinutes reads a displayed runtime: "136 min", "2h 16min", "2h 16m", "1h".
func textMinutes(s string) (int, bool) {
	s = strings.ToLower(s)
	total, seen := 0, false
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) && j-i < 6 {
			j++
		}
		n, _ := strconv.Atoi(s[i:j])
		k := j
		for k < len(s) && s[k] == ' ' {
			k++
		}
		switch {
		case strings.HasPrefix(s[k:], "h"):
			total, seen = total+60*n, true
		case strings.HasPrefix(s[k:], "m"):
			total, seen = total+n, true
		}
		i = j
	}
	return total, seen && total > 0
}
