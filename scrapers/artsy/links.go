package artsy

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// APIHost is the host of the retired Artsy API whose links Rebase rewrites.
const APIHost = "api.artsy.net"

// ExpandLink expands the URI template in l.Href with vars, the way RFC 6570
// does for expressions without modifiers: {name} becomes the percent-encoded
// value, {?a,b} becomes ?a=..&b=.. for the variables that vars defines (and
// disappears when it defines none), {&a} continues a query, and {+name},
// {#name}, {.name}, {/name}, {;name} follow the RFC's other operators.
// Variables missing from vars expand to nothing. An unclosed or empty
// expression is kept as text. Braces are not legal in a URI, so an href is
// expanded whether or not l.Templated is set; one without braces is returned
// unchanged.
func ExpandLink(l Link, vars map[string]string) string {
	s := l.Href
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			break
		}
		j += i
		b.WriteString(s[:i])
		if !expandExpr(&b, s[i+1:j], vars) {
			b.WriteString(s[i : j+1])
		}
		s = s[j+1:]
	}
	return b.String()
}

// operator is one RFC 6570 expression operator's expansion rules.
type operator struct {
	first, sep string // written before the first value and between values
	named      bool   // name=value pairs
	ifEmpty    string // written after the name when the value is empty
	reserved   bool   // reserved characters pass unencoded
}

// operatorFor returns the rules for the expression's first byte c and
// whether c is an operator at all.
func operatorFor(c byte) (operator, bool) {
	switch c {
	case '+':
		return operator{sep: ",", reserved: true}, true
	case '#':
		return operator{first: "#", sep: ",", reserved: true}, true
	case '.':
		return operator{first: ".", sep: "."}, true
	case '/':
		return operator{first: "/", sep: "/"}, true
	case ';':
		return operator{first: ";", sep: ";", named: true}, true
	case '?':
		return operator{first: "?", sep: "&", named: true, ifEmpty: "="}, true
	case '&':
		return operator{first: "&", sep: "&", named: true, ifEmpty: "="}, true
	}
	return operator{sep: ","}, false
}

// expandExpr writes the expansion of the expression between braces; it
// reports false, writing nothing, when expr is not a valid expression.
func expandExpr(b *strings.Builder, expr string, vars map[string]string) bool {
	if expr == "" {
		return false
	}
	op, isOp := operatorFor(expr[0])
	if isOp {
		expr = expr[1:]
	}
	specs := strings.Split(expr, ",")
	for _, spec := range specs {
		if varName(spec) == "" {
			return false
		}
	}
	first := true
	for _, spec := range specs {
		name := varName(spec)
		value, ok := vars[name]
		if !ok {
			continue
		}
		if n := prefixLen(spec); n > 0 {
			value = truncateRunes(value, n)
		}
		if first {
			b.WriteString(op.first)
			first = false
		} else {
			b.WriteString(op.sep)
		}
		if op.named {
			b.WriteString(name)
			if value == "" {
				b.WriteString(op.ifEmpty)
				continue
			}
			b.WriteByte('=')
		}
		b.WriteString(encode(value, op.reserved))
	}
	return true
}

// varName returns the variable name of a varspec without its :N prefix or *
// explode modifier, or "" when it is not a valid name.
func varName(spec string) string {
	name := strings.TrimSuffix(spec, "*")
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c == '.' || c == '%' || isAlnum(c)) {
			return ""
		}
	}
	return name
}

// prefixLen returns N of a varspec name:N, or 0.
func prefixLen(spec string) int {
	i := strings.IndexByte(spec, ':')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(spec[i+1:])
	if err != nil || n < 1 || n > 9999 {
		return 0
	}
	return n
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// encode percent-encodes s, keeping unreserved characters, and with reserved
// also RFC 3986 reserved characters and existing %XX triplets. Invalid UTF-8
// is encoded as U+FFFD.
func encode(s string, reserved bool) string {
	const hex = "0123456789ABCDEF"
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || strings.IndexByte("-._~", c) >= 0:
			b.WriteByte(c)
		case reserved && strings.IndexByte(":/?#[]@!$&'()*+,;=", c) >= 0:
			b.WriteByte(c)
		case reserved && c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteString(s[i : i+3])
			i += 2
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Rebase points href at base, the configured stand-in for the retired API.
// An absolute href on api.artsy.net (any scheme, or scheme-relative) keeps
// its path, query and fragment byte for byte, templates included, under base's
// scheme, host and path; when base's path already ends in /api, the /api that
// starts Artsy's paths is not repeated:
//
//	Rebase("https://api.artsy.net/api/artists/1", "http://127.0.0.1:8080")     == "http://127.0.0.1:8080/api/artists/1"
//	Rebase("https://api.artsy.net/api/artists/1", "http://127.0.0.1:8080/api") == "http://127.0.0.1:8080/api/artists/1"
//	Rebase("https://api.artsy.net/api/artists/1", "http://h/mock")             == "http://h/mock/api/artists/1"
//
// A relative href is resolved against base taken as a directory ("artists/1"
// against http://h/api is http://h/api/artists/1; "/x" is http://h/x). Other
// absolute hrefs (images, www.artsy.net permalinks) are returned unchanged,
// and so is every href when base is not an absolute http(s) URL.
func Rebase(href, base string) string {
	if href == "" {
		return ""
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Host == "" || (bu.Scheme != "http" && bu.Scheme != "https") {
		return href
	}
	origin := bu.Scheme + "://" + bu.Host
	basePath := strings.TrimRight(bu.EscapedPath(), "/")

	if strings.HasPrefix(href, "//") {
		href = bu.Scheme + ":" + href
	}
	if scheme := schemeOf(href); scheme != "" {
		rest, ok := strings.CutPrefix(href[len(scheme)+1:], "//")
		if !ok {
			return href // mailto:, urn: ...
		}
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if !isAPIHost(rest[:end]) {
			return href
		}
		rest = rest[end:]
		if strings.HasSuffix(basePath, "/api") && hasPathPrefix(rest, "/api") {
			rest = rest[len("/api"):]
		}
		if rest != "" && rest[0] != '/' && basePath == "" {
			rest = "/" + rest
		}
		return origin + basePath + rest
	}

	switch href[0] {
	case '/':
		return origin + href
	case '?':
		return origin + bu.EscapedPath() + href
	case '#':
		q := ""
		if bu.RawQuery != "" {
			q = "?" + bu.RawQuery
		}
		return origin + bu.EscapedPath() + q + href
	}
	p, suffix := href, ""
	if i := strings.IndexAny(href, "?#{"); i >= 0 {
		p, suffix = href[:i], href[i:]
	}
	return origin + resolveDots(basePath+"/"+p) + suffix
}

// schemeOf returns the scheme of an absolute href (RFC 3986: a letter, then
// letters, digits, "+", "-" or ".", then ":"), or "" for a relative one.
func schemeOf(href string) string {
	for j := 0; j < len(href); j++ {
		c := href[j]
		switch {
		case c == ':':
			return href[:j]
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return ""
		}
	}
	return ""
}

// isAPIHost reports whether an authority ([userinfo@]host[:port]) is the
// Artsy API's.
func isAPIHost(authority string) bool {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		authority = authority[:i]
	}
	return strings.EqualFold(strings.TrimSuffix(authority, "."), APIHost)
}

// hasPathPrefix reports whether p starts with the path segment prefix (so
// "/api/x", "/api?q" and "/api" do, "/apis" does not).
func hasPathPrefix(p, prefix string) bool {
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	rest := p[len(prefix):]
	return rest == "" || strings.IndexByte("/?#{", rest[0]) >= 0
}

// resolveDots removes . and .. segments from an absolute path (RFC 3986
// section 5.2.4), keeping a trailing slash.
func resolveDots(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}
