// Package events defines Curio's user-activity event schema: the JSON record producers
// write to Kafka and consumers decode, its validation rules, and a deterministic generator
// of simulated user activity for demos and tests. It performs no I/O.
package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type names the kind of a user-activity event.
type Type string

// Event types.
const (
	TypeView     Type = "view"
	TypeCollect  Type = "collect"
	TypeUpload   Type = "upload"
	TypeSearch   Type = "search"
	TypePurchase Type = "purchase"
	TypeClick    Type = "click"
)

// Types returns every known event type, in a fixed order. The slice is new on each call.
func Types() []Type {
	return []Type{TypeView, TypeCollect, TypeUpload, TypeSearch, TypePurchase, TypeClick}
}

// Valid reports whether t is a known event type.
func (t Type) Valid() bool {
	switch t {
	case TypeView, TypeCollect, TypeUpload, TypeSearch, TypePurchase, TypeClick:
		return true
	}
	return false
}

// Item types an event may refer to.
const (
	ItemTypeMovie   = "movie"
	ItemTypeArtwork = "artwork"
)

// Limits enforced by Decode, Validate and Encode.
const (
	// MaxSize is the largest accepted encoded event, in bytes.
	MaxSize = 16 << 10
	// MaxQueryLen is the longest accepted search query, in characters (runes).
	MaxQueryLen = 256
	// MaxIDLen is the longest accepted event_id, user_id or session_id, in bytes.
	MaxIDLen = 128
	// MaxItemIDLen is the longest accepted item_id, source_item or target_item, in bytes.
	// PostgreSQL indexes raw_events by item_id; a B-tree row must fit a third of a page.
	MaxItemIDLen = 256
	// MaxQueryBytes bounds a query in bytes too (MaxQueryLen runes of 4-byte UTF-8).
	MaxQueryBytes = 4 * MaxQueryLen
	// MaxCategoryLen is the longest accepted category, in bytes.
	MaxCategoryLen = 128
)

// Event times outside [1970-01-01, 2200-01-01) UTC are rejected as invalid: they can only
// come from a broken clock, and keeping them out lets every consumer use plain
// Unix-nanosecond or SQL timestamp arithmetic. The bounds are fixed, so validation needs
// no clock.
const (
	minUnix = 0          // 1970-01-01T00:00:00Z
	maxUnix = 7258118400 // 2200-01-01T00:00:00Z
)

// tsLayout is the wire format of Event.Time: RFC 3339 with milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// Event is one user-activity record. Which optional fields are required depends on Type;
// see Validate.
type Event struct {
	ID       string    `json:"event_id"`              // unique; producers generate it; consumers dedupe on it
	Type     Type      `json:"type"`                  // one of Types()
	UserID   string    `json:"user_id"`               // the acting user; the partition key
	Time     time.Time `json:"ts"`                    // event time; RFC 3339 with milliseconds on the wire
	Session  string    `json:"session_id,omitempty"`  // the user's session, when known
	ItemID   string    `json:"item_id,omitempty"`     // view, collect, upload, purchase: required
	ItemType string    `json:"item_type,omitempty"`   // "movie" | "artwork"; required when ItemID is set
	Country  string    `json:"country,omitempty"`     // ISO 3166-1 alpha-2, upper case; required for upload
	Query    string    `json:"query,omitempty"`       // search: required, at most MaxQueryLen characters
	Category string    `json:"category,omitempty"`    // search: required (a genre or medium, e.g. "Drama")
	Amount   float64   `json:"amount,omitempty"`      // purchase: required, > 0
	Source   string    `json:"source_item,omitempty"` // click: required, the page clicked from
	Target   string    `json:"target_item,omitempty"` // click: required, the page clicked to; != Source
}

// Reasons a DecodeError carries. They are short and stable, fit for metric labels.
const (
	ReasonMalformedJSON = "malformed_json"
	ReasonUnknownType   = "unknown_type"
	ReasonMissingField  = "missing_field"
	ReasonInvalidField  = "invalid_field"
	ReasonOversized     = "oversized"
	// ReasonFutureTime: ts is further ahead of the consumer's clock than TimePolicy allows.
	ReasonFutureTime = "future_ts"
	// ReasonExpiredTime: ts is older than TimePolicy's maximum age.
	ReasonExpiredTime = "expired_ts"
	// ReasonDuplicate: an event with the same event_id was already consumed.
	ReasonDuplicate = "duplicate_event_id"
	// ReasonDBRejected: the database refused the event although it passed validation.
	ReasonDBRejected = "db_rejected"
)

// DecodeError reports why bytes are not a valid event, or why an Event is invalid.
type DecodeError struct {
	Reason string // one of the Reason constants
	Field  string // the JSON name of the offending field, when one is to blame
	Detail string // a human-readable explanation
	Err    error  // the underlying cause, if any (e.g. a *json.SyntaxError)
}

// Error implements error.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("event ")
	b.WriteString(e.Reason)
	if e.Field != "" {
		b.WriteString(" ")
		b.WriteString(e.Field)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *DecodeError) Unwrap() error { return e.Err }

// plainEvent has Event's fields without its methods, so wireEvent can embed it.
type plainEvent Event

// wireEvent is Event's JSON form: the shallower TS field shadows plainEvent.Time, so the
// timestamp is read and written as a string in tsLayout, and a bad one can be told apart
// from malformed JSON.
type wireEvent struct {
	plainEvent
	TS string `json:"ts"`
}

// Decode parses and validates one encoded event. Checks run in order: size (oversized),
// JSON syntax and field types (malformed_json; unknown fields are allowed for forward
// compatibility), the timestamp format (invalid_field), then Validate. Every error is a
// *DecodeError. On a validation error the returned Event holds what was decoded, for
// logging and dead-lettering; it must not be processed.
func Decode(b []byte) (Event, error) {
	if len(b) > MaxSize {
		return Event{}, &DecodeError{
			Reason: ReasonOversized,
			Detail: fmt.Sprintf("%d bytes exceeds the %d byte limit", len(b), MaxSize),
		}
	}
	if trimmed := bytes.TrimLeft(b, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{}, &DecodeError{Reason: ReasonMalformedJSON, Detail: "not a json object"}
	}
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return Event{}, &DecodeError{Reason: ReasonMalformedJSON, Detail: err.Error(), Err: err}
	}
	e := Event(w.plainEvent)
	if w.TS != "" {
		t, err := time.Parse(time.RFC3339Nano, w.TS)
		if err != nil {
			return e, &DecodeError{
				Reason: ReasonInvalidField, Field: "ts",
				Detail: fmt.Sprintf("%q is not an rfc 3339 timestamp", w.TS), Err: err,
			}
		}
		e.Time = t
	}
	if err := e.Validate(); err != nil {
		return e, err
	}
	return e, nil
}

// Validate checks e against the schema and returns a *DecodeError describing the first
// problem, or nil. Required everywhere: event_id, type, user_id, ts (between 1970 and 2200;
// there is no check against the current time, as validation uses no clock). Per type:
// view, collect, upload and purchase need item_id; upload needs country; search needs
// query (at most MaxQueryLen characters) and category; purchase needs amount > 0; click
// needs source_item and target_item, which must differ. Fields that are set are checked
// whatever the type: item_type must be "movie" or "artwork" (and is required with
// item_id), country must be two upper-case ASCII letters, amount must be finite and not
// negative, query must not be too long. Required string fields must not be blank. Every
// string field must be valid UTF-8 without control characters (NUL included) and within
// its length limit (MaxIDLen, MaxItemIDLen, MaxQueryLen, MaxCategoryLen): what passes
// Validate is what PostgreSQL's text columns and indexes accept.
func (e Event) Validate() error {
	if err := e.checkText(); err != nil {
		return err
	}
	switch {
	case blank(e.ID):
		return missing("event_id")
	case e.Type == "":
		return missing("type")
	case !e.Type.Valid():
		return &DecodeError{Reason: ReasonUnknownType, Field: "type", Detail: fmt.Sprintf("%q is not a known event type", string(e.Type))}
	case blank(e.UserID):
		return missing("user_id")
	case e.Time.IsZero():
		return missing("ts")
	case e.Time.Unix() < minUnix || e.Time.Unix() >= maxUnix:
		return invalid("ts", fmt.Sprintf("%s is outside [1970, 2200)", e.Time.UTC().Format(tsLayout)))
	}

	// Fields checked whenever they are present.
	if e.ItemID != "" && blank(e.ItemType) {
		return missing("item_type")
	}
	if e.ItemType != "" && e.ItemType != ItemTypeMovie && e.ItemType != ItemTypeArtwork {
		return invalid("item_type", fmt.Sprintf("%q is not %q or %q", e.ItemType, ItemTypeMovie, ItemTypeArtwork))
	}
	if e.Country != "" && !validCountry(e.Country) {
		return invalid("country", fmt.Sprintf("%q is not an upper-case iso 3166-1 alpha-2 code", e.Country))
	}
	if n := utf8.RuneCountInString(e.Query); n > MaxQueryLen {
		return invalid("query", fmt.Sprintf("%d characters exceeds the %d character limit", n, MaxQueryLen))
	}
	if math.IsNaN(e.Amount) || math.IsInf(e.Amount, 0) || e.Amount < 0 {
		return invalid("amount", fmt.Sprintf("%v is not a finite non-negative number", e.Amount))
	}

	// Per-type requirements.
	switch e.Type {
	case TypeView, TypeCollect, TypeUpload, TypePurchase:
		if blank(e.ItemID) {
			return missing("item_id")
		}
	}
	switch e.Type {
	case TypeUpload:
		if e.Country == "" {
			return missing("country")
		}
	case TypeSearch:
		if blank(e.Query) {
			return missing("query")
		}
		if blank(e.Category) {
			return missing("category")
		}
	case TypePurchase:
		if e.Amount == 0 {
			return missing("amount")
		}
	case TypeClick:
		if blank(e.Source) {
			return missing("source_item")
		}
		if blank(e.Target) {
			return missing("target_item")
		}
		if e.Source == e.Target {
			return invalid("target_item", "equals source_item")
		}
	}
	return nil
}

// Encode validates e and returns its JSON encoding, with the time in UTC as RFC 3339 with
// milliseconds (finer precision is truncated). It fails if e is invalid or the encoding
// exceeds MaxSize; such failures wrap a *DecodeError, so errors.As finds the reason.
func (e Event) Encode() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	b, err := json.Marshal(wireEvent{plainEvent: plainEvent(e), TS: e.Time.UTC().Format(tsLayout)})
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("encode event: %w", &DecodeError{
			Reason: ReasonOversized,
			Detail: fmt.Sprintf("%d bytes exceeds the %d byte limit", len(b), MaxSize),
		})
	}
	return b, nil
}

// Key returns the Kafka partition key of e: its UserID, so one user's events stay in order.
func (e Event) Key() string { return e.UserID }

// textField is one string field of an event with its byte limit.
type textField struct {
	name  string
	value string
	max   int
}

// checkText rejects strings storage would refuse or that could only be abuse: invalid
// UTF-8, control characters and over-long values.
func (e Event) checkText() error {
	fields := [...]textField{
		{"event_id", e.ID, MaxIDLen}, {"type", string(e.Type), MaxIDLen}, {"user_id", e.UserID, MaxIDLen},
		{"session_id", e.Session, MaxIDLen}, {"item_id", e.ItemID, MaxItemIDLen}, {"item_type", e.ItemType, MaxIDLen},
		{"country", e.Country, MaxIDLen}, {"query", e.Query, MaxQueryBytes}, {"category", e.Category, MaxCategoryLen},
		{"source_item", e.Source, MaxItemIDLen}, {"target_item", e.Target, MaxItemIDLen},
	}
	for _, f := range fields {
		if len(f.value) > f.max {
			return invalid(f.name, fmt.Sprintf("%d bytes exceeds the %d byte limit", len(f.value), f.max))
		}
		if !utf8.ValidString(f.value) {
			return invalid(f.name, "not valid utf-8")
		}
		if i := strings.IndexFunc(f.value, unicode.IsControl); i >= 0 {
			return invalid(f.name, fmt.Sprintf("control character %U at byte %d", []rune(f.value[i:])[0], i))
		}
	}
	return nil
}

// TimePolicy bounds event times against the consumer's clock: an event further in the
// future than MaxFuture (a broken producer clock) or older than MaxAge (a stale replay)
// is refused. Consumers remember event ids for MaxAge, so MaxAge is also the horizon of
// deduplication. Zero durations mean no bound.
type TimePolicy struct {
	MaxFuture time.Duration
	MaxAge    time.Duration
}

// Default time bounds of DefaultTimePolicy.
const (
	DefaultMaxFuture = 15 * time.Minute
	DefaultMaxAge    = 7 * 24 * time.Hour
)

// DefaultTimePolicy accepts events from a week ago to 15 minutes ahead.
func DefaultTimePolicy() TimePolicy {
	return TimePolicy{MaxFuture: DefaultMaxFuture, MaxAge: DefaultMaxAge}
}

// Check reports whether e's time is within the policy's bounds of now, as a *DecodeError
// (ReasonFutureTime or ReasonExpiredTime) when it is not.
func (p TimePolicy) Check(e Event, now time.Time) error {
	if p.MaxFuture > 0 && e.Time.After(now.Add(p.MaxFuture)) {
		return &DecodeError{Reason: ReasonFutureTime, Field: "ts",
			Detail: fmt.Sprintf("%s is more than %s ahead of the consumer's clock (%s)", e.Time.UTC().Format(tsLayout), p.MaxFuture, now.UTC().Format(tsLayout))}
	}
	if p.MaxAge > 0 && e.Time.Before(now.Add(-p.MaxAge)) {
		return &DecodeError{Reason: ReasonExpiredTime, Field: "ts",
			Detail: fmt.Sprintf("%s is older than the maximum age %s", e.Time.UTC().Format(tsLayout), p.MaxAge)}
	}
	return nil
}

func missing(field string) error {
	return &DecodeError{Reason: ReasonMissingField, Field: field, Detail: "required"}
}

func invalid(field, detail string) error {
	return &DecodeError{Reason: ReasonInvalidField, Field: field, Detail: detail}
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// validCountry reports whether c has the form of an ISO 3166-1 alpha-2 code: two
// upper-case ASCII letters. It does not check that the code is assigned.
func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}
