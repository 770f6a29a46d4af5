package events

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var testTime = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func validEvents() map[Type]Event {
	base := Event{ID: "e1", UserID: "u1", Time: testTime, Session: "s1", Country: "US"}
	with := func(f func(*Event)) Event { e := base; f(&e); return e }
	return map[Type]Event{
		TypeView: with(func(e *Event) { e.Type, e.ItemID, e.ItemType = TypeView, "tt0133093", ItemTypeMovie }),
		TypeCollect: with(func(e *Event) {
			e.Type, e.ItemID, e.ItemType = TypeCollect, "moma-w-1", ItemTypeArtwork
		}),
		TypeUpload: with(func(e *Event) {
			e.Type, e.ItemID, e.ItemType, e.Country = TypeUpload, "moma-w-2", ItemTypeArtwork, "FR"
		}),
		TypeSearch: with(func(e *Event) { e.Type, e.Query, e.Category = TypeSearch, "drama classic", "Drama" }),
		TypePurchase: with(func(e *Event) {
			e.Type, e.ItemID, e.ItemType, e.Amount = TypePurchase, "tt0133093", ItemTypeMovie, 9.99
		}),
		TypeClick: with(func(e *Event) { e.Type, e.Source, e.Target = TypeClick, "tt0133093", "tt0234215" }),
	}
}

func TestTypes(t *testing.T) {
	ts := Types()
	if len(ts) != 6 {
		t.Fatalf("Types() has %d entries, want 6", len(ts))
	}
	for _, typ := range ts {
		if !typ.Valid() {
			t.Errorf("%q not Valid", typ)
		}
	}
	ts[0] = "mutated"
	if Types()[0] != TypeView {
		t.Error("Types returns shared state")
	}
	if Type("like").Valid() {
		t.Error(`"like" is Valid`)
	}
}

func TestRoundTrip(t *testing.T) {
	for typ, e := range validEvents() {
		t.Run(string(typ), func(t *testing.T) {
			b, err := e.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			if !got.Time.Equal(e.Time) {
				t.Errorf("time %v, want %v", got.Time, e.Time)
			}
			got.Time = e.Time
			if got != e {
				t.Errorf("roundtrip\n got %+v\nwant %+v", got, e)
			}
		})
	}
}

func TestEncodeWireFormat(t *testing.T) {
	e := validEvents()[TypeView]
	e.Time = time.Date(2026, 1, 2, 4, 4, 5, 123_456_789, time.FixedZone("X", 3600))
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["ts"] != "2026-01-02T03:04:05.123Z" {
		t.Errorf("ts = %v, want UTC with milliseconds", m["ts"])
	}
	for _, k := range []string{"event_id", "type", "user_id", "item_id", "item_type", "session_id", "country"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %q in %s", k, b)
		}
	}
	for _, k := range []string{"query", "category", "amount", "source_item", "target_item", "Time"} {
		if _, ok := m[k]; ok {
			t.Errorf("unexpected key %q in %s", k, b)
		}
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	e := validEvents()[TypeView]
	e.UserID = ""
	_, err := e.Encode()
	var de *DecodeError
	if !errors.As(err, &de) || de.Reason != ReasonMissingField || de.Field != "user_id" {
		t.Fatalf("Encode error = %v, want missing_field user_id", err)
	}
	e = validEvents()[TypeSearch]
	e.Category = strings.Repeat("x", MaxSize)
	_, err = e.Encode()
	if !errors.As(err, &de) || de.Reason != ReasonInvalidField || de.Field != "category" {
		t.Fatalf("Encode error = %v, want invalid_field category", err)
	}
}

// TestValidateStorableText: what Validate accepts, PostgreSQL's text columns and B-tree
// indexes accept (no NUL, valid UTF-8, bounded lengths); the hardening review found a NUL
// in user_id and a 12 KB item_id passing validation and halting a partition.
func TestValidateStorableText(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Event)
		field string
	}{
		{"nul in user_id", func(e *Event) { e.UserID = "u\x00x" }, "user_id"},
		{"nul in event_id", func(e *Event) { e.ID = "\x00" }, "event_id"},
		{"newline in item_id", func(e *Event) { e.ItemID = "m1\nm2" }, "item_id"},
		{"12 KB item_id", func(e *Event) { e.ItemID = strings.Repeat("i", 12<<10) }, "item_id"},
		{"3 KB item_id", func(e *Event) { e.ItemID = strings.Repeat("i", 3<<10) }, "item_id"},
		{"long user_id", func(e *Event) { e.UserID = strings.Repeat("u", MaxIDLen+1) }, "user_id"},
		{"long session", func(e *Event) { e.Session = strings.Repeat("s", MaxIDLen+1) }, "session_id"},
		{"invalid utf-8 item", func(e *Event) { e.ItemID = "m\xff" }, "item_id"},
		{"escape in session", func(e *Event) { e.Session = "s\x1b[2J" }, "session_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvents()[TypeView]
			tt.edit(&e)
			var de *DecodeError
			if err := e.Validate(); !errors.As(err, &de) || de.Reason != ReasonInvalidField || de.Field != tt.field {
				t.Fatalf("Validate = %v, want invalid_field %s", err, tt.field)
			}
		})
	}
	e := validEvents()[TypeView]
	e.ItemID = strings.Repeat("é", MaxItemIDLen/2) // at the limit in bytes
	if err := e.Validate(); err != nil {
		t.Fatalf("item id at the limit: %v", err)
	}
	// JSON's \u0000 decodes to a NUL byte: the wire form must be refused too.
	_, err := Decode([]byte(`{"event_id":"e1","type":"view","user_id":"u\u0000x","ts":"2026-03-14T15:09:26.535Z","item_id":"m1","item_type":"movie"}`))
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "user_id" {
		t.Fatalf("Decode with NUL = %v, want invalid user_id", err)
	}
}

func TestTimePolicy(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	p := DefaultTimePolicy()
	tests := []struct {
		ts     time.Time
		reason string
	}{
		{now, ""},
		{now.Add(DefaultMaxFuture - time.Second), ""},
		{now.Add(DefaultMaxFuture + time.Second), ReasonFutureTime},
		{time.Date(2199, 12, 31, 23, 0, 0, 0, time.UTC), ReasonFutureTime},
		{now.Add(-DefaultMaxAge + time.Second), ""},
		{now.Add(-DefaultMaxAge - time.Second), ReasonExpiredTime},
		{time.Unix(0, 0), ReasonExpiredTime},
	}
	for _, tt := range tests {
		e := validEvents()[TypeView]
		e.Time = tt.ts
		err := p.Check(e, now)
		var de *DecodeError
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("%s: %v, want accepted", tt.ts, err)
		case tt.reason != "" && (!errors.As(err, &de) || de.Reason != tt.reason):
			t.Errorf("%s: %v, want %s", tt.ts, err, tt.reason)
		}
	}
	if err := (TimePolicy{}).Check(validEvents()[TypeView], now.AddDate(100, 0, 0)); err != nil {
		t.Errorf("zero policy refused: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	const ok = `"event_id":"e1","user_id":"u1","ts":"2026-03-14T15:09:26.535Z"`
	tests := []struct {
		name, in      string
		reason, field string
	}{
		{"malformed json", `{"event_id":`, ReasonMalformedJSON, ""},
		{"trailing garbage", `{` + ok + `,"type":"search","query":"q","category":"c"} x`, ReasonMalformedJSON, ""},
		{"json array", `[{` + ok + `,"type":"view"}]`, ReasonMalformedJSON, ""},
		{"json null", `null`, ReasonMalformedJSON, ""},
		{"json string", `"view"`, ReasonMalformedJSON, ""},
		{"empty", ``, ReasonMalformedJSON, ""},
		{"amount wrong type", `{` + ok + `,"type":"purchase","item_id":"i","item_type":"movie","amount":"9.99"}`, ReasonMalformedJSON, ""},
		{"ts wrong type", `{"event_id":"e1","user_id":"u1","ts":1773500966,"type":"view","item_id":"i","item_type":"movie"}`, ReasonMalformedJSON, ""},
		{"ts not rfc 3339", `{"event_id":"e1","user_id":"u1","ts":"14/03/2026","type":"view","item_id":"i","item_type":"movie"}`, ReasonInvalidField, "ts"},
		{"ts before 1970", `{"event_id":"e1","user_id":"u1","ts":"1969-12-31T23:59:59.000Z","type":"view","item_id":"i","item_type":"movie"}`, ReasonInvalidField, "ts"},
		{"missing ts", `{"event_id":"e1","user_id":"u1","type":"view","item_id":"i","item_type":"movie"}`, ReasonMissingField, "ts"},
		{"unknown type", `{` + ok + `,"type":"like","item_id":"i","item_type":"movie"}`, ReasonUnknownType, "type"},
		{"missing type", `{` + ok + `,"item_id":"i","item_type":"movie"}`, ReasonMissingField, "type"},
		{"missing event_id", `{"user_id":"u1","ts":"2026-03-14T15:09:26.535Z","type":"view","item_id":"i","item_type":"movie"}`, ReasonMissingField, "event_id"},
		{"missing user_id", `{"event_id":"e1","ts":"2026-03-14T15:09:26.535Z","type":"view","item_id":"i","item_type":"movie"}`, ReasonMissingField, "user_id"},
		{"blank user_id", `{"event_id":"e1","user_id":"  ","ts":"2026-03-14T15:09:26.535Z","type":"view","item_id":"i","item_type":"movie"}`, ReasonMissingField, "user_id"},
		{"view missing item_id", `{` + ok + `,"type":"view"}`, ReasonMissingField, "item_id"},
		{"view missing item_type", `{` + ok + `,"type":"view","item_id":"i"}`, ReasonMissingField, "item_type"},
		{"bad item_type", `{` + ok + `,"type":"view","item_id":"i","item_type":"book"}`, ReasonInvalidField, "item_type"},
		{"upload missing country", `{` + ok + `,"type":"upload","item_id":"i","item_type":"artwork"}`, ReasonMissingField, "country"},
		{"bad country usa", `{` + ok + `,"type":"upload","item_id":"i","item_type":"artwork","country":"usa"}`, ReasonInvalidField, "country"},
		{"lower-case country", `{` + ok + `,"type":"view","item_id":"i","item_type":"movie","country":"us"}`, ReasonInvalidField, "country"},
		{"search missing query", `{` + ok + `,"type":"search","category":"Drama"}`, ReasonMissingField, "query"},
		{"search missing category", `{` + ok + `,"type":"search","query":"drama"}`, ReasonMissingField, "category"},
		{"search query too long", `{` + ok + `,"type":"search","category":"Drama","query":"` + strings.Repeat("é", MaxQueryLen+1) + `"}`, ReasonInvalidField, "query"},
		{"purchase missing amount", `{` + ok + `,"type":"purchase","item_id":"i","item_type":"movie"}`, ReasonMissingField, "amount"},
		{"purchase negative amount", `{` + ok + `,"type":"purchase","item_id":"i","item_type":"movie","amount":-1}`, ReasonInvalidField, "amount"},
		{"click missing source", `{` + ok + `,"type":"click","target_item":"b"}`, ReasonMissingField, "source_item"},
		{"click missing target", `{` + ok + `,"type":"click","source_item":"a"}`, ReasonMissingField, "target_item"},
		{"click source equals target", `{` + ok + `,"type":"click","source_item":"a","target_item":"a"}`, ReasonInvalidField, "target_item"},
		{"oversized", `{` + ok + `,"type":"search","category":"c","query":"q","pad":"` + strings.Repeat("x", MaxSize) + `"}`, ReasonOversized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatal("Decode succeeded, want error")
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Reason != tt.reason || de.Field != tt.field {
				t.Errorf("got reason %q field %q (%v), want %q %q", de.Reason, de.Field, err, tt.reason, tt.field)
			}
			if msg := err.Error(); msg == "" || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("error string %q not lower case", msg)
			}
		})
	}
}

func TestDecodeWrapsCause(t *testing.T) {
	_, err := Decode([]byte(`{"event_id":1}`))
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("error %v does not wrap *json.UnmarshalTypeError", err)
	}
}

func TestDecodeAllowsUnknownFieldsAndOffsets(t *testing.T) {
	in := `{"event_id":"e1","type":"click","user_id":"u1","ts":"2026-03-14T16:09:26.5+01:00",` +
		`"source_item":"a","target_item":"b","schema_version":2,"extra":{"nested":[1,2]}}`
	e, err := Decode([]byte(in))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := time.Date(2026, 3, 14, 15, 9, 26, 500_000_000, time.UTC); !e.Time.Equal(want) {
		t.Errorf("time %v, want %v", e.Time, want)
	}
	if e.Key() != "u1" {
		t.Errorf("Key() = %q, want user id", e.Key())
	}
}

func TestDecodeReturnsPartialEventOnValidationError(t *testing.T) {
	e, err := Decode([]byte(`{"event_id":"e9","type":"view","user_id":"u1","ts":"2026-03-14T15:09:26.535Z"}`))
	if err == nil || e.ID != "e9" {
		t.Fatalf("got %+v, %v; want the decoded event and an error", e, err)
	}
}

func TestDecodeSizeBoundary(t *testing.T) {
	e := validEvents()[TypeSearch]
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pad := MaxSize - len(b)
	padded := append(append([]byte{}, b[:len(b)-1]...), []byte(`,"p":"`+strings.Repeat("x", pad-7)+`"}`)...)
	if len(padded) != MaxSize {
		t.Fatalf("padded to %d, want %d", len(padded), MaxSize)
	}
	if _, err := Decode(padded); err != nil {
		t.Errorf("Decode of exactly MaxSize bytes: %v", err)
	}
	padded = append(padded[:len(padded)-2], 'x', '"', '}')
	var de *DecodeError
	if _, err := Decode(padded); !errors.As(err, &de) || de.Reason != ReasonOversized {
		t.Errorf("Decode of MaxSize+1 bytes: %v, want oversized", err)
	}
}

func TestValidate(t *testing.T) {
	for typ, e := range validEvents() {
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	e := validEvents()[TypePurchase]
	e.Amount = math.NaN()
	var de *DecodeError
	if err := e.Validate(); !errors.As(err, &de) || de.Field != "amount" {
		t.Errorf("NaN amount: %v", err)
	}
	e = validEvents()[TypeView]
	e.Time = time.Time{}
	if err := e.Validate(); !errors.As(err, &de) || de.Reason != ReasonMissingField || de.Field != "ts" {
		t.Errorf("zero time: %v", err)
	}
	e.Time = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := e.Validate(); !errors.As(err, &de) || de.Reason != ReasonInvalidField || de.Field != "ts" {
		t.Errorf("year 2200: %v", err)
	}
	e.Time = testTime.AddDate(10, 0, 0) // far future is fine: no clock
	if err := e.Validate(); err != nil {
		t.Errorf("future time: %v", err)
	}
}
