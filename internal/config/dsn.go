package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// dsnMask replaces passwords in DSNs; it matches net/url's Redacted.
const dsnMask = "xxxxx"

// dsnHidden is printed instead of a DSN that could not be parsed, since it might hold a
// password in a place RedactDSN does not recognize.
const dsnHidden = "(DSN hidden: could not parse it to mask its password)"

// RedactDSN returns dsn with every password in it masked, so that it can be printed or
// logged. It understands PostgreSQL URLs (postgres://user:pw@host/db, including
// ?password= and ?sslpassword= query parameters), PostgreSQL keyword/value strings
// (host=h user=u password='p w'), go-sql-driver/mysql DSNs (user:pw@tcp(host)/db?...) and
// other scheme://user:pw@host URLs. A DSN it cannot parse is replaced as a whole, never
// printed as it is.
func RedactDSN(dsn string) string {
	if strings.TrimSpace(dsn) == "" {
		return dsn
	}
	if out, masked, ok := redactURL(dsn); ok {
		return checkedAgainstPgconn(dsn, out, masked)
	}
	if keywordDSN.MatchString(dsn) {
		if out, masked, ok := redactKeywordValue(dsn); ok {
			return checkedAgainstPgconn(dsn, out, masked)
		}
	}
	if out, ok := redactMySQL(dsn); ok {
		return out
	}
	return dsnHidden
}

var (
	// urlScheme is how a URL-form DSN starts: an RFC 3986 scheme and "//".
	urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	// keywordDSN is how a PostgreSQL keyword/value DSN starts: a keyword and '='.
	keywordDSN = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_]*\s*=`)
)

// secretKey reports whether a DSN parameter named key holds a password.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"pass", "pwd", "secret", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redactURL masks the userinfo password and password-like query parameters of a URL-form
// DSN. ok is false when dsn is not a URL; a URL whose parts are ambiguous (an '@' outside
// the userinfo, a fragment) is hidden as a whole. masked holds the values it masked.
func redactURL(dsn string) (out string, masked []string, ok bool) {
	if !urlScheme.MatchString(dsn) {
		return "", nil, false
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Opaque != "" || u.Fragment != "" || strings.Contains(u.Path, "@") {
		return dsnHidden, nil, true
	}
	pw, hasPW := "", false
	if u.User != nil {
		pw, hasPW = u.User.Password()
	}
	// An '@' in the query of a URL without a userinfo password may be a password whose
	// ':' the parser took for a port separator (postgres://u:1?2@h/db).
	if !hasPW && strings.Contains(u.RawQuery, "@") {
		return dsnHidden, nil, true
	}
	if hasPW {
		masked = append(masked, pw)
		u.User = url.UserPassword(u.User.Username(), dsnMask)
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return dsnHidden, nil, true
		}
		changed := false
		for k, vs := range q {
			if secretKey(k) {
				masked = append(masked, vs...)
				q[k] = []string{dsnMask}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String(), masked, true
}

// redactKeywordValue masks password-like values of a PostgreSQL keyword/value DSN,
// parsed by libpq's rules (values may be single-quoted, backslash escapes a character).
func redactKeywordValue(dsn string) (out string, masked []string, ok bool) {
	const space = " \t\n\r\v\f"
	var b strings.Builder
	s := strings.TrimLeft(dsn, space)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return "", nil, false
		}
		key := strings.Trim(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return "", nil, false
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var raw, val string
		if strings.HasPrefix(s, "'") {
			end := 1
			var v strings.Builder
			for ; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' {
					end++
					if end == len(s) {
						return "", nil, false
					}
				}
				v.WriteByte(s[end])
			}
			if end == len(s) {
				return "", nil, false // unterminated quote
			}
			raw, val = s[:end+1], v.String()
			s = s[end+1:]
		} else {
			end := 0
			var v strings.Builder
			for ; end < len(s) && !strings.ContainsRune(space, rune(s[end])); end++ {
				if s[end] == '\\' {
					end++
					if end == len(s) {
						break
					}
				}
				v.WriteByte(s[end])
			}
			raw, val = s[:end], v.String()
			s = s[end:]
		}
		s = strings.TrimLeft(s, space)
		if secretKey(key) {
			masked = append(masked, val)
			raw = dsnMask
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(key + "=" + raw)
	}
	return b.String(), masked, true
}

// checkedAgainstPgconn cross-checks a masked PostgreSQL DSN with pgx's own parser: if pgx
// finds a password in dsn that was not masked and that out still shows, out is not safe
// to print and the DSN is hidden as a whole. (pgx may also take a password from
// PGPASSWORD or ~/.pgpass; that one never appears in out unless by chance, which only
// hides more.)
func checkedAgainstPgconn(dsn, out string, masked []string) string {
	if out == dsnHidden {
		return out
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") && !keywordDSN.MatchString(dsn) {
		return out
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil || cfg.Password == "" || slices.Contains(masked, cfg.Password) {
		return out
	}
	if strings.Contains(out, cfg.Password) || strings.Contains(out, url.QueryEscape(cfg.Password)) ||
		strings.Contains(out, url.PathEscape(cfg.Password)) {
		return dsnHidden
	}
	return out
}

// redactMySQL masks the password of a go-sql-driver/mysql DSN. ok is false when dsn does
// not parse as one.
func redactMySQL(dsn string) (string, bool) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", false
	}
	changed := false
	if cfg.Passwd != "" {
		cfg.Passwd = dsnMask
		changed = true
	}
	for k := range cfg.Params {
		if secretKey(k) {
			cfg.Params[k] = dsnMask
			changed = true
		}
	}
	if !changed {
		return dsn, true
	}
	return cfg.FormatDSN(), true
}
