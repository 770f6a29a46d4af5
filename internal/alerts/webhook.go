package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Webhook kinds.
const (
	// WebhookSlack receives Slack-compatible messages ({"text", "blocks"}): Slack's
	// incoming webhooks, and the Slack-compatible webhooks of Mattermost, Rocket.Chat and
	// others.
	WebhookSlack = "slack"
	// WebhookGeneric receives Curio's own JSON (see Send), signed with HMAC-SHA256 when a
	// secret is configured.
	WebhookGeneric = "generic"
)

// Webhook is a receiver of alert notices. Its URL is a secret (a Slack webhook URL is its
// own credential): String, GoString, LogValue and MarshalJSON show only its scheme and
// host, and activity arguments and database rows name it by ID.
type Webhook struct {
	Kind string // WebhookSlack or WebhookGeneric
	URL  string
}

// ID identifies w without revealing its URL: its kind and a short hash of kind and URL.
// Notices are kept per ID, so reordering the configured list changes nothing, and a new
// URL is a new receiver.
func (w Webhook) ID() string {
	sum := sha256.Sum256([]byte(w.Kind + "=" + w.URL))
	return w.Kind + "-" + hex.EncodeToString(sum[:6])
}

// String shows w with its URL cut to scheme and host: slack=https://hooks.slack.com/…
func (w Webhook) String() string { return w.Kind + "=" + RedactURL(w.URL) }

// GoString is String, so that %#v does not print the URL either.
func (w Webhook) GoString() string { return "alerts.Webhook(" + w.String() + ")" }

// LogValue is String, so that slog's JSON handler does not print the URL either.
func (w Webhook) LogValue() slog.Value { return slog.StringValue(w.String()) }

// MarshalJSON writes String, so that no JSON encoding (a log of a list, an API
// response) shows the URL. A Webhook does not travel as JSON: activities name it by ID.
func (w Webhook) MarshalJSON() ([]byte, error) { return json.Marshal(w.String()) }

// RedactURL returns the scheme and host of raw, followed by "/…" when anything else (a
// path, a query, a fragment) was cut. User information is always cut. A raw URL that does
// not parse is not shown at all.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(URL hidden)"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		out += "/…"
	}
	return out
}

// ParseWebhooks reads a webhook list: entries separated by commas or newlines, each
// slack=URL or generic=URL with an http or https URL. Blank lines and lines starting
// with # are skipped (the file form, CURIO_ALERT_WEBHOOKS_FILE, may carry comments); a #
// later in a line is part of the URL. A URL that holds a comma must encode it (%2C).
// Errors name the entry by its position and redacted form, never by its URL.
func ParseWebhooks(s string) ([]Webhook, error) {
	var out []Webhook
	var errs []error
	seen := map[string]int{}
	n := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			w, err := parseWebhook(entry)
			if err != nil {
				errs = append(errs, fmt.Errorf("webhook %d (%s): %w", n, describeEntry(entry), err))
				continue
			}
			if first, dup := seen[w.URL]; dup {
				errs = append(errs, fmt.Errorf("webhook %d (%s): same URL as webhook %d", n, w, first))
				continue
			}
			seen[w.URL] = n
			out = append(out, w)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseWebhook(entry string) (Webhook, error) {
	kind, raw, ok := strings.Cut(entry, "=")
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !ok || (kind != WebhookSlack && kind != WebhookGeneric) {
		return Webhook{}, errors.New("want slack=URL or generic=URL")
	}
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case err != nil: // url.Error's text holds the URL: not wrapped
		return Webhook{}, errors.New("not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return Webhook{}, errors.New("want an http or https URL")
	case u.Host == "":
		return Webhook{}, errors.New("URL has no host")
	}
	return Webhook{Kind: kind, URL: raw}, nil
}

// describeEntry shows an entry that did not parse without its URL: the kind, if it looks
// like one, and the URL's scheme and host.
func describeEntry(entry string) string {
	if kind, raw, ok := strings.Cut(entry, "="); ok && isWord(strings.TrimSpace(kind)) {
		return strings.TrimSpace(kind) + "=" + RedactURL(raw)
	}
	return RedactURL(entry)
}

func isWord(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
