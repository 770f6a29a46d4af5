package imdb

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// scanned holds what one tokenizer pass over a page collects: the script blocks the
// JSON layouts need and the head tags the meta fallback needs. Building no tree keeps
// the pass cheap on 1 MB pages.
type scanned struct {
	ld        [][]byte // bodies of <script type="application/ld+json">, in page order
	next      []byte   // body of <script id="__NEXT_DATA__">
	hasNext   bool
	title     string // text of the first <title>
	metaTitle string // <meta name="title">
	ogTitle   string
	ogURL     string
	canonical string
	pageID    string // <meta property="pageId">
}

// maxTitleLen bounds a <title> text: a longer one is a truncated page swallowing markup.
const maxTitleLen = 500

func scanPage(page []byte) scanned {
	var s scanned
	z := html.NewTokenizer(bytes.NewReader(page))
	titleSeen := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return s
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		switch string(name) {
		case "script":
			var typ, id string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "type":
					typ = strings.ToLower(strings.TrimSpace(string(v)))
				case "id":
					id = string(v)
				}
			}
			if tt == html.SelfClosingTagToken || z.Next() != html.TextToken {
				continue
			}
			switch {
			case strings.HasPrefix(typ, "application/ld+json"):
				s.ld = append(s.ld, bytes.Clone(z.Text()))
			case id == "__NEXT_DATA__" && !s.hasNext:
				s.next, s.hasNext = bytes.Clone(z.Text()), true
			}
		case "title":
			if titleSeen || tt == html.SelfClosingTagToken {
				continue
			}
			titleSeen = true
			if z.Next() == html.TextToken {
				if t := string(z.Text()); len(t) <= maxTitleLen && !strings.Contains(t, "<") {
					s.title = t
				}
			}
		case "meta":
			var prop, content string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "property", "name":
					prop = string(v)
				case "content":
					content = string(v)
				}
			}
			switch prop {
			case "og:title":
				setOnce(&s.ogTitle, content)
			case "og:url":
				setOnce(&s.ogURL, content)
			case "pageId":
				setOnce(&s.pageID, content)
			case "title":
				setOnce(&s.metaTitle, content)
			}
		case "link":
			var rel, href string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "rel":
					rel = strings.ToLower(string(v))
				case "href":
					href = string(v)
				}
			}
			if slicesHasField(rel, "canonical") {
				setOnce(&s.canonical, href)
			}
		}
	}
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// slicesHasField reports whether the space-separated list s holds word.
func slicesHasField(s, word string) bool {
	for f := range strings.FieldsSeq(s) {
		if f == word {
			return true
		}
	}
	return false
}

// fromMeta reads the id from the canonical link, og:url or pageId and the title (with a
// year or series marker in its trailing parentheses) from og:title or <title>. It counts
// as found only when it has both, so an arbitrary page with a <title> is not a title page.
func fromMeta(s scanned) partial {
	var p partial
	for _, u := range []string{s.canonical, s.ogURL, s.pageID} {
		if id := IDFromURL(u); id != "" {
			p.IMDbID = id
			break
		}
	}
	for _, raw := range []string{s.ogTitle, s.metaTitle, s.title} {
		name := clean(raw)
		name, imdb := strings.CutSuffix(name, " - IMDb")
		if !imdb {
			name, imdb = strings.CutSuffix(name, " | IMDb")
		}
		if name == "" || (!imdb && p.IMDbID == "") {
			continue
		}
		var series bool
		p.Title.Title, p.Year, series = splitTitleSuffix(name)
		if series {
			p.Type = "series"
		}
		break
	}
	p.found = p.IMDbID != "" && p.Title.Title != ""
	return p
}
