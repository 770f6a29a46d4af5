package imdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ErrNotSearchPage is wrapped by ParseSearch errors: the page is not an IMDb find or search page.
var ErrNotSearchPage = errors.New("not an IMDb search page")

// searchList collects results in page order without duplicate ids.
type searchList struct {
	out []SearchResult
	idx map[string]int
}

func (l *searchList) add(r SearchResult) {
	if !validID(r.IMDbID) {
		return
	}
	r.Title = clean(r.Title)
	if r.Kind != "series" {
		r.Kind = "movie"
	}
	if i, dup := l.idx[r.IMDbID]; dup {
		old := &l.out[i]
		if old.Title == "" {
			old.Title = r.Title
		}
		if old.Year == nil {
			old.Year = r.Year
		}
		return
	}
	l.idx[r.IMDbID] = len(l.out)
	l.out = append(l.out, r)
}

// ParseSearch reads the title results of an IMDb find or search page: the old layout's
// table.findList rows (td.result_text), the 2022 layout's li.find-title-result items,
// __NEXT_DATA__'s props.pageProps.titleResults and a JSON-LD ItemList. Name, keyword
// and company results are skipped. Results keep page order, without duplicate ids; a
// search page with no title results gives an empty list. The error, which wraps
// ErrNotSearchPage, says the page has none of these layouts.
func ParseSearch(page []byte) ([]SearchResult, error) {
	l := &searchList{out: []SearchResult{}, idx: map[string]int{}}
	s := scanPage(page)
	marked, problem := false, ""
	if hasFindMarkup(page) {
		doc, err := html.Parse(bytes.NewReader(page))
		if err != nil { // x/net/html rejects pages nested deeper than 512 elements
			problem = " (find markup not read: " + err.Error() + ")"
		} else {
			marked = searchHTML(doc, l)
		}
	}
	if s.hasNext && searchNextData(s.next, l) {
		marked = true
	}
	if searchJSONLD(s.ld, l) {
		marked = true
	}
	if !marked {
		return nil, fmt.Errorf("%w: no findList table, find-result list, __NEXT_DATA__ titleResults or JSON-LD ItemList found%s", ErrNotSearchPage, problem)
	}
	return l.out, nil
}

// hasFindMarkup is a cheap test for the class names searchHTML looks for, so that pages
// without them are never parsed into a tree.
func hasFindMarkup(page []byte) bool {
	for _, c := range []string{"findList", "find-result-item", "findHeader", "findNoResults", "findSection"} {
		if bytes.Contains(page, []byte(c)) {
			return true
		}
	}
	return false
}

// searchHTML reads the find page markup and reports whether the page has any.
func searchHTML(doc *html.Node, l *searchList) bool {
	marked := false
	walk(doc, func(n *html.Node) bool {
		switch {
		case n.DataAtom == atom.Table && hasClass(n, "findList"):
			marked = true
			walk(n, func(td *html.Node) bool {
				if td.DataAtom == atom.Td && hasClass(td, "result_text") {
					findListRow(td, l)
					return false
				}
				return true
			})
			return false
		case n.DataAtom == atom.Li && hasClass(n, "find-result-item"):
			marked = true
			if hasClass(n, "find-title-result") {
				findItem(n, l)
			}
			return false
		case hasClass(n, "findHeader") || hasClass(n, "findNoResults") || hasClass(n, "findSection"):
			marked = true
		}
		return true
	})
	return marked
}

// findListRow reads `<a href="/title/tt0110912/">Pulp Fiction</a> (1994) (TV Series)`.
// The row's first link must be a title: a name row's "known for" title link is not a result.
func findListRow(td *html.Node, l *searchList) {
	a := find(td, func(n *html.Node) bool { return n.DataAtom == atom.A })
	if a == nil {
		return
	}
	href, _ := attr(a, "href")
	id := IDFromURL(href)
	if id == "" {
		return
	}
	// The qualifiers follow the link, up to a line break or a <small> note (aka, episode of…).
	var rest strings.Builder
	for c := a.NextSibling; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Br || c.DataAtom == atom.Small || c.DataAtom == atom.A) {
			break
		}
		if c.Type == html.TextNode {
			rest.WriteString(c.Data)
		} else if c.Type == html.ElementNode && c.DataAtom != atom.I {
			rest.WriteString(" " + textOf(c, nil) + " ")
		}
	}
	year, series := qualifiers(rest.String())
	l.add(SearchResult{IMDbID: id, Title: textOf(a, nil), Year: year, Kind: kindName(series)})
}

// qualifiers reads the year and the series marker from "(I) (2009) (TV Series)".
func qualifiers(s string) (year *int, series bool) {
	for {
		open := strings.IndexByte(s, '(')
		if open < 0 {
			return year, series
		}
		end := strings.IndexByte(s[open:], ')')
		if end < 0 {
			end = len(s) - open
		}
		inner := s[open+1 : open+end]
		s = s[open+end:]
		if year == nil {
			year = firstYear(inner)
		}
		if strings.Contains(strings.ToLower(inner), "series") {
			series = true
		}
		if s != "" {
			s = s[1:]
		}
	}
}

func kindName(series bool) string {
	if series {
		return "series"
	}
	return "movie"
}

// findItem reads a 2022-layout <li class="find-result-item find-title-result">.
func findItem(li *html.Node, l *searchList) {
	a := find(li, func(n *html.Node) bool {
		h, _ := attr(n, "href")
		return n.DataAtom == atom.A && IDFromURL(h) != ""
	})
	if a == nil {
		return
	}
	href, _ := attr(a, "href")
	r := SearchResult{IMDbID: IDFromURL(href), Title: textOf(a, nil)}
	walk(li, func(n *html.Node) bool {
		if n == li {
			return true
		}
		if n == a {
			return false
		}
		if n.DataAtom == atom.Li || n.DataAtom == atom.Label || n.DataAtom == atom.Span {
			t := textOf(n, nil)
			if r.Year == nil {
				r.Year = firstYear(t)
			}
			if strings.Contains(strings.ToLower(t), "series") {
				r.Kind = "series"
			}
			return false
		}
		return true
	})
	l.add(r)
}

// searchNextData reads props.pageProps.titleResults; it reports whether the key exists.
func searchNextData(body []byte, l *searchList) bool {
	var nd struct {
		Props struct {
			PageProps map[string]json.RawMessage `json:"pageProps"`
		} `json:"props"`
	}
	if !decodeNext(body, &nd) {
		return false
	}
	raw, ok := nd.Props.PageProps["titleResults"]
	if !ok {
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return true
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		for _, k := range []string{"results", "titleResults", "items", "edges"} {
			if a, ok := x[k].([]any); ok {
				items = a
				break
			}
		}
	}
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			l.add(nextResult(m))
		}
	}
	return true
}

// nextResult reads one titleResults item in any of the shapes IMDb has used: flat
// (id, titleNameText, titleReleaseText, titleTypeText), wrapped in listItem or node
// (titleId, titleText, releaseYear, titleType), or with nested {text}/{year}/{id} objects.
func nextResult(m map[string]any) SearchResult {
	for _, k := range []string{"listItem", "node", "title"} {
		if inner, ok := m[k].(map[string]any); ok {
			r := nextResult(inner)
			outer := flatResult(m)
			if r.IMDbID == "" {
				r.IMDbID = outer.IMDbID
			}
			if r.Title == "" {
				r.Title = outer.Title
			}
			if r.Year == nil {
				r.Year = outer.Year
			}
			if r.Kind == "" {
				r.Kind = outer.Kind
			}
			return r
		}
	}
	return flatResult(m)
}

func flatResult(m map[string]any) SearchResult {
	var r SearchResult
	for _, k := range []string{"id", "titleId", "tconst", "const", "index"} {
		if s, ok := m[k].(string); ok && validID(s) {
			r.IMDbID = s
			break
		}
	}
	for _, k := range []string{"url", "href", "link"} {
		if r.IMDbID == "" {
			s, _ := m[k].(string)
			r.IMDbID = IDFromURL(s)
		}
	}
	for _, k := range []string{"titleNameText", "titleText", "name", "originalTitleText", "primaryText"} {
		if r.Title = textField(m[k]); r.Title != "" {
			break
		}
	}
	for _, k := range []string{"titleReleaseText", "releaseYear", "year", "titleReleaseYear", "releaseDate"} {
		if r.Year = yearField(m[k]); r.Year != nil {
			break
		}
	}
	for _, k := range []string{"titleTypeText", "titleType", "imageType", "type"} {
		if t := typeField(m[k]); t != "" {
			r.Kind = kindName(strings.Contains(strings.ToLower(t), "series"))
			break
		}
	}
	return r
}

// textField reads a string or an object's text/plainText.
func textField(v any) string {
	switch x := v.(type) {
	case string:
		return clean(x)
	case map[string]any:
		for _, k := range []string{"text", "plainText", "value"} {
			if s, ok := x[k].(string); ok {
				return clean(s)
			}
		}
	}
	return ""
}

// yearField reads 1994, "1994", "2009–2023" or {"year": 1994}.
func yearField(v any) *int {
	switch x := v.(type) {
	case float64:
		return yearFloat(x)
	case string:
		return firstYear(x)
	case map[string]any:
		return yearField(x["year"])
	}
	return nil
}

// typeField reads "TV Series" or {"id": "tvSeries", "text": "TV Series"}.
func typeField(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		id, _ := x["id"].(string)
		text, _ := x["text"].(string)
		return strings.TrimSpace(id + " " + text)
	}
	return ""
}

// searchJSONLD reads JSON-LD ItemLists; it reports whether there is one.
func searchJSONLD(blocks [][]byte, l *searchList) bool {
	marked := false
	for _, b := range blocks {
		v, ok := decodeLD(b)
		if !ok {
			continue
		}
		for _, o := range ldObjects(v, 0, nil) {
			if !slicesHasField(strings.Join(ldTypes(o), " "), "ItemList") {
				continue
			}
			marked = true
			elems, _ := o["itemListElement"].([]any)
			for _, e := range elems {
				el, ok := e.(map[string]any)
				if !ok {
					continue
				}
				item := el
				switch x := el["item"].(type) {
				case map[string]any:
					item = x
				case string:
					item = map[string]any{"url": x, "name": el["name"]}
				}
				r := SearchResult{IMDbID: IDFromURL(ldString(item["url"])), Title: ldString(item["name"])}
				if r.IMDbID == "" {
					r.IMDbID = IDFromURL(ldString(el["url"]))
				}
				if r.Title == "" {
					r.Title = ldString(el["name"])
				}
				r.Year = firstYear(ldString(item["datePublished"]))
				for _, t := range ldTypes(item) {
					if kindOf(t) == "series" {
						r.Kind = "series"
					}
				}
				l.add(r)
			}
		}
	}
	return marked
}
