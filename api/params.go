package api

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// MaxIDLen caps every id taken from the path (items, users, topics, assets), in bytes.
const MaxIDLen = 128

// Time parameters must lie in [EarliestTime, now + MaxFutureSkew]: nothing Curio records
// is older, nothing is known further ahead, and times beyond year 9999 cannot even be
// written back as JSON.
var EarliestTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxFutureSkew is how far ahead of now a time parameter may lie.
const MaxFutureSkew = 24 * time.Hour

// validID checks an id taken from a URL: non-empty, at most MaxIDLen bytes of valid UTF-8
// (no lone surrogates), without control characters (NUL included). what names it in the
// error.
func validID(id, what string) error {
	switch {
	case id == "":
		return badRequest{what + " is required"}
	case len(id) > MaxIDLen:
		return badRequest{what + " is too long: at most " + strconv.Itoa(MaxIDLen) + " bytes"}
	case !utf8.ValidString(id):
		return badRequest{what + " must be valid UTF-8"}
	case strings.ContainsFunc(id, unicode.IsControl):
		return badRequest{what + " must not contain control characters"}
	}
	return nil
}

// pathID reads the path parameter name and checks it with validID: every :id-like path
// parameter of the API goes through here.
func pathID(c *gin.Context, name, what string) (string, error) {
	id := c.Param(name)
	if err := validID(id, what); err != nil {
		return "", err
	}
	return id, nil
}

// timeQuery reads the optional time parameter name in layout (example shows the form in
// the error), within [EarliestTime, now + MaxFutureSkew]; def when absent.
func timeQuery(c *gin.Context, name, layout, example string, def time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(layout, v)
	if err != nil {
		return time.Time{}, badRequest{name + " must be " + example + ", got " + strconv.Quote(v)}
	}
	if t.Before(EarliestTime) || t.After(time.Now().Add(MaxFutureSkew)) {
		return time.Time{}, badRequest{name + " must lie between 1970-01-01 and a day from now, got " + strconv.Quote(v)}
	}
	return t, nil
}
