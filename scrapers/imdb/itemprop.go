package imdb

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// attr returns the value of an element's attribute.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	c, _ := attr(n, "class")
	return slicesHasField(c, class)
}

// walk visits the elements under root (root included) in document order, without
// recursion so that deeply nested pages cannot exhaust the stack. When visit returns
// false the element's subtree is skipped.
func walk(root *html.Node, visit func(*html.Node) bool) {
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode && !visit(n) {
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}

// find returns the first element under root for which match is true.
func find(root *html.Node, match func(*html.Node) bool) *html.Node {
	var found *html.Node
	walk(root, func(n *html.Node) bool {
		if found != nil {
			return false
		}
		if match(n) {
			found = n
			return false
		}
		return true
	})
	return found
}

// blockish elements separate words in text content.
func blockish(a atom.Atom) bool {
	switch a {
	case atom.Br, atom.P, atom.Div, atom.Li, atom.Td, atom.Th, atom.Tr, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Table, atom.Section, atom.Article, atom.Header, atom.Footer:
		return true
	}
	return false
}

// textOf returns the cleaned text under n, leaving out scripts, styles and any element
// for which skip returns true.
func textOf(n *html.Node, skip func(*html.Node) bool) string {
	var b strings.Builder
	stack := []*html.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch c.Type {
		case html.TextNode:
			b.WriteString(c.Data)
			continue
		case html.ElementNode:
			if c.DataAtom == atom.Script || c.DataAtom == atom.Style || c.DataAtom == atom.Template ||
				(c != n && skip != nil && skip(c)) {
				continue
			}
			if blockish(c.DataAtom) {
				b.WriteByte(' ')
			}
		case html.DocumentNode:
		default:
			continue
		}
		for k := c.LastChild; k != nil; k = k.PrevSibling {
			stack = append(stack, k)
		}
	}
	return clean(b.String())
}

// isItem reports whether an element starts a microdata item.
func isItem(n *html.Node) bool {
	if _, ok := attr(n, "itemscope"); ok {
		return true
	}
	_, ok := attr(n, "itemtype")
	return ok
}

// itemProps returns the property elements of the item at scope, by property name, in
// document order. Nested items are properties themselves but their own properties are
// not the outer item's.
func itemProps(scope *html.Node) map[string][]*html.Node {
	props := map[string][]*html.Node{}
	walk(scope, func(n *html.Node) bool {
		if n == scope {
			return true
		}
		if p, ok := attr(n, "itemprop"); ok {
			for name := range strings.FieldsSeq(p) {
				props[name] = append(props[name], n)
			}
		}
		return !isItem(n)
	})
	return props
}

// insideProp reports whether an element lies within another property element of scope.
func insideProp(n, scope *html.Node) bool {
	for a := n.Parent; a != nil && a != scope; a = a.Parent {
		if _, ok := attr(a, "itemprop"); ok {
			return true
		}
	}
	return false
}

// itemValue is the microdata value of a property element.
func itemValue(n *html.Node) string {
	key := ""
	switch n.DataAtom {
	case atom.Meta:
		key = "content"
	case atom.Time:
		key = "datetime"
	case atom.A, atom.Link, atom.Area:
		key = "href"
	case atom.Data, atom.Meter:
		key = "value"
	}
	if key == "" {
		key = "content" // some pages put content= on spans
	}
	if v, ok := attr(n, key); ok && strings.TrimSpace(v) != "" {
		return clean(v)
	}
	return textOf(n, nil)
}

// titleItem is the first microdata item typed as a title (schema.org/Movie, TVSeries…).
func titleItem(doc *html.Node) (*html.Node, string) {
	var typ string
	n := find(doc, func(n *html.Node) bool {
		t, ok := attr(n, "itemtype")
		if !ok {
			return false
		}
		for u := range strings.FieldsSeq(t) {
			u = strings.TrimRight(u, "/")
			if i := strings.LastIndexByte(u, '/'); i >= 0 && strings.Contains(u[:i], "schema.org") && isTitleType(u[i+1:]) {
				typ = u[i+1:]
				return true
			}
		}
		return false
	})
	return n, typ
}

// fromItemprop reads the pre-2018 schema.org microdata of a title page.
func fromItemprop(page []byte) partial {
	var p partial
	if !bytes.Contains(page, []byte("itemtype")) {
		return p
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil { // x/net/html rejects pages nested deeper than 512 elements
		p.problem = "itemprop markup not read: " + err.Error()
		return p
	}
	scope, typ := titleItem(doc)
	if scope == nil {
		return p
	}
	props := itemProps(scope)
	first := func(name string) *html.Node {
		if l := props[name]; len(l) > 0 {
			return l[0]
		}
		return nil
	}
	p.Type = kindOf(typ)
	// The title's own name, not one inside another property (a person without itemscope).
	var name *html.Node
	for _, n := range props["name"] {
		if !insideProp(n, scope) {
			name = n
			break
		}
	}
	if name != nil {
		isYear := func(n *html.Node) bool {
			id, _ := attr(n, "id")
			return id == "titleYear"
		}
		var year *int
		p.Title.Title, year, _ = splitTitleSuffix(textOf(name, isYear))
		// The year sits in <span id="titleYear"> or a /year/ link in the heading.
		heading := name
		for a := name; a != nil && a != scope; a = a.Parent {
			if a.DataAtom == atom.H1 {
				heading = a
				break
			}
		}
		if y := find(heading, isYear); y != nil {
			year = firstYear(textOf(y, nil))
		}
		if year == nil {
			if a := find(heading, func(n *html.Node) bool {
				h, _ := attr(n, "href")
				return n.DataAtom == atom.A && strings.HasPrefix(h, "/year/")
			}); a != nil {
				year = firstYear(textOf(a, nil))
			}
		}
		p.Year = year
	}
	if p.Year == nil {
		if d := first("datePublished"); d != nil {
			p.Year = firstYear(itemValue(d))
		}
	}
	// The rating lives in a nested AggregateRating item, or directly on the title.
	ratingScopes := []map[string][]*html.Node{props}
	for _, r := range props["aggregateRating"] {
		ratingScopes = append(ratingScopes, itemProps(r))
	}
	for _, rp := range ratingScopes {
		if l := rp["ratingValue"]; p.Rating == nil && len(l) > 0 {
			if v, ok := parseNumber(itemValue(l[0])); ok {
				p.Rating = ratingPtr(v)
			}
		}
		if l := rp["ratingCount"]; p.Votes == nil && len(l) > 0 {
			if v, ok := parseNumber(itemValue(l[0])); ok {
				p.Votes = votesPtr(v)
			}
		}
	}
	for _, g := range props["genre"] {
		links := 0
		walk(g, func(n *html.Node) bool {
			if n.DataAtom == atom.A {
				links++
				p.Genres = append(p.Genres, textOf(n, nil))
				return false
			}
			return true
		})
		if links == 0 {
			p.Genres = append(p.Genres, itemValue(g))
		}
	}
	people := func(names ...string) []string {
		var out []string
		for _, name := range names {
			for _, n := range props[name] {
				switch {
				case isItem(n):
					if l := itemProps(n)["name"]; len(l) > 0 {
						out = append(out, itemValue(l[0]))
					}
				default:
					if nn := find(n, func(c *html.Node) bool { v, _ := attr(c, "itemprop"); return c != n && slicesHasField(v, "name") }); nn != nil {
						out = append(out, itemValue(nn))
					} else {
						out = append(out, textOf(n, nil))
					}
				}
			}
		}
		return out
	}
	p.Directors = people("director")
	p.Cast = people("actors", "actor")
	p.creators = people("creator")
	if d := first("description"); d != nil {
		// Its own text only: an unclosed description element swallows the properties after it.
		p.Plot = textOf(d, func(n *html.Node) bool {
			_, prop := attr(n, "itemprop")
			return prop || isItem(n)
		})
		if v, ok := attr(d, "content"); ok && d.DataAtom == atom.Meta {
			p.Plot = clean(v)
		}
	}
	if d := first("duration"); d != nil {
		if v, ok := attr(d, "datetime"); ok {
			if m, ok := ISODurationMinutes(v); ok {
				p.RuntimeMinutes = minutesPtr(m)
			}
		}
		if p.RuntimeMinutes == nil {
			if m, ok := ISODurationMinutes(itemValue(d)); ok {
				p.RuntimeMinutes = minutesPtr(m)
			} else if m, ok := textMinutes(textOf(d, nil)); ok {
				p.RuntimeMinutes = minutesPtr(m)
			}
		}
	}
	if c := first("contentRating"); c != nil {
		p.ContentRating = itemValue(c)
	}
	for _, u := range props["url"] {
		if p.IMDbID = IDFromURL(itemValue(u)); p.IMDbID != "" {
			break
		}
	}
	p.found = p.Title.Title != ""
	return p
}
