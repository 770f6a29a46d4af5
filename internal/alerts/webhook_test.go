package alerts_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/curiodata/curio/internal/alerts"
)

// slackURL is shaped like a real Slack webhook: the path is the credential.
const slackURL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"

func TestWebhookParse(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want []alerts.Webhook
	}{
		"empty":     {"", nil},
		"one slack": {"slack=" + slackURL, []alerts.Webhook{{Kind: "slack", URL: slackURL}}},
		"comma and spaces": {" slack=" + slackURL + " , generic=http://127.0.0.1:9000/hook?x=1 ,",
			[]alerts.Webhook{{Kind: "slack", URL: slackURL}, {Kind: "generic", URL: "http://127.0.0.1:9000/hook?x=1"}}},
		"file form": {"# ops channel\n\nslack=" + slackURL + "\r\n  # receiver\ngeneric=https://alerts.example.com/curio#frag\n",
			[]alerts.Webhook{{Kind: "slack", URL: slackURL}, {Kind: "generic", URL: "https://alerts.example.com/curio#frag"}}},
		"kind case": {"Slack=" + slackURL, []alerts.Webhook{{Kind: "slack", URL: slackURL}}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := alerts.ParseWebhooks(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("webhook %d: got %#v, want %#v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestWebhookParseErrorsNameTheEntryNotTheURL(t *testing.T) {
	for name, tc := range map[string]struct {
		in, want string
	}{
		"no kind":      {"slack=" + slackURL + "," + slackURL, "webhook 2 (https://hooks.slack.com/…): want slack=URL or generic=URL"},
		"unknown kind": {"teams=" + slackURL, "webhook 1 (teams=https://hooks.slack.com/…): want slack=URL or generic=URL"},
		"bad scheme":   {"generic=ftp://files.example.com/XXXXSECRETXXXX", "webhook 1 (generic=ftp://files.example.com/…): want an http or https URL"},
		"no host":      {"generic=https:///XXXXSECRETXXXX", "webhook 1 (generic=(URL hidden)): URL has no host"},
		"not a URL":    {"slack=https://hooks.slack.com/%zzXXXXSECRETXXXX", "webhook 1 (slack=(URL hidden)): not a valid URL"},
		"duplicate":    {"slack=" + slackURL + "\nslack=" + slackURL, "webhook 2 (slack=https://hooks.slack.com/…): same URL as webhook 1"},
		"user info":    {"generic=https://user:XXXXSECRETXXXX@h.example.com", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := alerts.ParseWebhooks(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error shows the URL: %v", err)
			}
		})
	}
}

func TestWebhookRedactedEverywhere(t *testing.T) {
	w := alerts.Webhook{Kind: alerts.WebhookSlack, URL: slackURL}
	u := alerts.Webhook{Kind: alerts.WebhookGeneric, URL: "https://ops:XXXXSECRETXXXX@alerts.example.com/"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "webhook", w, "other", u, "list", []alerts.Webhook{w})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "webhook", w, "other", u)
	out := fmt.Sprint(w, u) + fmt.Sprintf(" %v %+v %#v %s %v ", w, w, w, w, []alerts.Webhook{w, u}) + logs.String()
	if strings.Contains(out, "SECRET") || strings.Contains(out, "services") {
		t.Errorf("a URL is shown: %s", out)
	}
	if w.String() != "slack=https://hooks.slack.com/…" || u.String() != "generic=https://alerts.example.com/…" {
		t.Errorf("String: %s, %s", w, u)
	}
	if id := w.ID(); !strings.HasPrefix(id, "slack-") || len(id) != len("slack-")+12 || id == (alerts.Webhook{Kind: "slack", URL: slackURL + "2"}).ID() {
		t.Errorf("ID %q: want slack- and 12 hex digits, different per URL", id)
	}
}
