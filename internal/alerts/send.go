package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Timeout bounds one attempt at sending a notice.
const Timeout = 10 * time.Second

// Headers of every notice.
const (
	// HeaderDelivery is the notice's idempotency key, "<incident id>-<state>"
	// (Delivery.IdempotencyKey): the same on every attempt, so a receiver that stores it
	// can drop repeats.
	HeaderDelivery = "X-Curio-Delivery"
	// HeaderTimestamp is the Unix time (seconds) the generic body was signed at.
	HeaderTimestamp = "X-Curio-Timestamp"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of timestamp + "." + body,
	// keyed with the shared secret (see Verify).
	HeaderSignature = "X-Curio-Signature"
)

// maxErrorBody is how much of a refusing receiver's body an error keeps.
const maxErrorBody = 200

// SendError is why a notice was not accepted.
type SendError struct {
	Webhook string // Webhook.String(): URL redacted
	// Status is the receiver's HTTP status; 0 when there was no response.
	Status int
	// Body is the start of the receiver's response (at most 200 bytes).
	Body string
	// Retryable: trying again may succeed (no response, 408, 429 or 5xx). Other
	// statuses mean the receiver refuses this notice.
	Retryable bool
	// RetryAfter is the receiver's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Err is the transport error, with the URL taken out.
	Err error
}

func (e *SendError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("webhook %s: %v", e.Webhook, e.Err)
	}
	msg := fmt.Sprintf("webhook %s: HTTP %d", e.Webhook, e.Status)
	if e.Body != "" {
		msg += ": " + strconv.Quote(e.Body)
	}
	return msg
}

// Unwrap returns the transport error.
func (e *SendError) Unwrap() error { return e.Err }

// Retryable reports whether a Send error may go away when the notice is sent again: true
// for a *SendError marked so and for any other error (a cancelled context, say).
func Retryable(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable
	}
	return err != nil
}

// Send posts one notice to w: a Slack-compatible message, or for a generic webhook
// Curio's JSON (see GenericMessage), signed with secret when it is not empty (see
// Verify). Every request carries HeaderDelivery. An attempt takes at most Timeout; hc nil
// uses a plain client. A status other than 2xx is an error; errors are *SendError and
// never hold the URL.
func Send(ctx context.Context, hc *http.Client, w Webhook, secret []byte, d Delivery) error {
	var body []byte
	var err error
	switch w.Kind {
	case WebhookSlack:
		body, err = json.Marshal(SlackMessageOf(d))
	case WebhookGeneric:
		body, err = json.Marshal(GenericMessageOf(d))
	default:
		err = fmt.Errorf("unknown webhook kind %q", w.Kind)
	}
	if err != nil {
		return &SendError{Webhook: w.String(), Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil { // the error's text would hold the URL
		return &SendError{Webhook: w.String(), Err: errors.New("invalid webhook URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Curio-Alerts/1")
	req.Header.Set(HeaderDelivery, d.IdempotencyKey())
	if w.Kind == WebhookGeneric && len(secret) > 0 {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	}
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its text holds the URL
			err = ue.Err
		}
		return &SendError{Webhook: w.String(), Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	s := resp.StatusCode
	return &SendError{Webhook: w.String(), Status: s, Body: strings.ToValidUTF8(strings.TrimSpace(string(head)), "?"),
		Retryable:  s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Sign returns the HeaderSignature value of body sent at timestamp (HeaderTimestamp).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature (the X-Curio-Signature header) signs body sent at
// timestamp (the X-Curio-Timestamp header) with secret. A receiver reads the raw body,
// calls Verify, and should also refuse timestamps more than a few minutes from its clock,
// so that a recorded request cannot be replayed later. An empty secret verifies nothing.
func Verify(secret []byte, timestamp string, body []byte, signature string) bool {
	if len(secret) == 0 || timestamp == "" {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(strings.TrimSpace(signature)))
}

// GenericMessage is the body posted to generic webhooks.
type GenericMessage struct {
	Delivery   string     `json:"delivery"` // HeaderDelivery: "<incident id>-<state>"
	IncidentID int64      `json:"incident_id"`
	Kind       string     `json:"kind"`
	Key        string     `json:"key"`
	State      string     `json:"state"` // open or resolved
	Summary    string     `json:"summary"`
	Detail     string     `json:"detail"`
	URL        string     `json:"url"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at"` // null in an open notice
}

// GenericMessageOf is the generic body of d.
func GenericMessageOf(d Delivery) GenericMessage {
	m := GenericMessage{Delivery: d.IdempotencyKey(), IncidentID: d.IncidentID, Kind: d.Kind, Key: d.Key, State: d.State,
		Summary: d.Summary, Detail: d.Detail, URL: d.URL, OpenedAt: d.OpenedAt.UTC()}
	if d.State == StateResolved && d.ResolvedAt != nil {
		t := d.ResolvedAt.UTC()
		m.ResolvedAt = &t
	}
	return m
}

// SlackMessage is the body posted to Slack-compatible webhooks: text for notifications
// and receivers without Block Kit, blocks for Slack.
type SlackMessage struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is a Block Kit block (section or context).
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text,omitempty"`
	Elements []SlackText `json:"elements,omitempty"`
}

// SlackText is a Block Kit text object.
type SlackText struct {
	Type string `json:"type"` // mrkdwn
	Text string `json:"text"`
}

// Headline is the one-line summary of a notice:
// ":rotating_light: Curio: run failed — BuildSimilarity", or
// ":white_check_mark: Curio: resolved — run failed — BuildSimilarity (after 42m)".
func Headline(d Delivery) string {
	if d.State == StateResolved {
		h := ":white_check_mark: Curio: resolved — " + d.Summary
		if d.ResolvedAt != nil && !d.OpenedAt.IsZero() {
			h += " (after " + FormatDuration(d.ResolvedAt.Sub(d.OpenedAt)) + ")"
		}
		return h
	}
	return ":rotating_light: Curio: " + d.Summary
}

// SlackMessageOf is the Slack-compatible body of d.
func SlackMessageOf(d Delivery) SlackMessage {
	text := "*" + slackEscape(Headline(d)) + "*"
	if d.Detail != "" {
		text += "\n" + slackEscape(d.Detail)
	}
	if d.URL != "" {
		text += "\n<" + slackEscape(d.URL) + "|Open>"
	}
	ctx := "`" + slackEscape(d.Key) + "` · opened " + d.OpenedAt.UTC().Format("2006-01-02 15:04 UTC")
	if d.State == StateResolved && d.ResolvedAt != nil {
		ctx += " · resolved " + d.ResolvedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return SlackMessage{
		Text: slackEscape(Headline(d)),
		Blocks: []SlackBlock{
			{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: text}},
			{Type: "context", Elements: []SlackText{{Type: "mrkdwn", Text: ctx}}},
		},
	}
}

// slackEscaper escapes the three characters Slack's mrkdwn gives a meaning to.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }

// FormatDuration writes d for people, rounded: 45s, 42m, 3h5m, 2d4h.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		d = d.Round(time.Hour)
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}
