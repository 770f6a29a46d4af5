package alerts_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/config"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestAlertConfig: internal/config reads the webhooks (from the variable or a file), the
// HMAC secret and the dead-letter threshold, and never prints the secrets.
func TestAlertConfig(t *testing.T) {
	dir := t.TempDir()
	hooksFile := filepath.Join(dir, "hooks")
	if err := os.WriteFile(hooksFile, []byte("# ops\nslack="+slackURL+"\n# receiver\ngeneric=https://alerts.example.com/XXXXSECRETXXXX\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "hmac")
	if err := os.WriteFile(secretFile, []byte("hmac-XXXXSECRETXXXX-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("defaults", func(t *testing.T) {
		c, err := config.FromLookup(lookup(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.AlertWebhooks != nil || c.AlertHMACSecret != "" || c.AlertDeadLetterSpike != 100 {
			t.Errorf("alert defaults: %v %q %d", c.AlertWebhooks, c.AlertHMACSecret, c.AlertDeadLetterSpike)
		}
	})

	t.Run("files", func(t *testing.T) {
		c, err := config.FromLookup(lookup(map[string]string{"CURIO_ALERT_WEBHOOKS_FILE": hooksFile,
			"CURIO_ALERT_HMAC_SECRET_FILE": secretFile, "CURIO_ALERT_DEAD_LETTER_SPIKE": "0"}))
		if err != nil {
			t.Fatal(err)
		}
		want := []alerts.Webhook{{Kind: "slack", URL: slackURL}, {Kind: "generic", URL: "https://alerts.example.com/XXXXSECRETXXXX"}}
		if len(c.AlertWebhooks) != 2 || c.AlertWebhooks[0] != want[0] || c.AlertWebhooks[1] != want[1] {
			t.Errorf("webhooks %v", c.AlertWebhooks)
		}
		if c.AlertHMACSecret != "hmac-XXXXSECRETXXXX-0123" || c.AlertDeadLetterSpike != 0 {
			t.Errorf("secret %q, spike %d", c.AlertHMACSecret, c.AlertDeadLetterSpike)
		}
		if s := fmt.Sprint(c) + fmt.Sprintf("%v %+v %s", c, c, c); strings.Contains(s, "SECRET") || !strings.Contains(s, "hooks.slack.com") {
			t.Errorf("config printed with its secrets: %s", s)
		}
	})

	t.Run("the variable wins over the file", func(t *testing.T) {
		c, err := config.FromLookup(lookup(map[string]string{"CURIO_ALERT_WEBHOOKS_FILE": hooksFile,
			"CURIO_ALERT_WEBHOOKS": "generic=http://127.0.0.1:9/x", "CURIO_ALERT_HMAC_SECRET": "env-secret-0123456789", "CURIO_ALERT_HMAC_SECRET_FILE": secretFile}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.AlertWebhooks) != 1 || c.AlertWebhooks[0].URL != "http://127.0.0.1:9/x" || c.AlertHMACSecret != "env-secret-0123456789" {
			t.Errorf("got %v %q", c.AlertWebhooks, c.AlertHMACSecret)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for name, env := range map[string]map[string]string{
			"bad entry":      {"CURIO_ALERT_WEBHOOKS": "slack=" + slackURL + ",teams=https://x.example.com/XXXXSECRETXXXX"},
			"bad file entry": {"CURIO_ALERT_WEBHOOKS_FILE": secretFile},
			"missing file":   {"CURIO_ALERT_WEBHOOKS_FILE": hooksFile + ".missing"},
			"short secret":   {"CURIO_ALERT_HMAC_SECRET": "short"},
			"empty secret":   {"CURIO_ALERT_HMAC_SECRET_FILE": os.DevNull},
			"bad threshold":  {"CURIO_ALERT_DEAD_LETTER_SPIKE": "many"},
		} {
			_, err := config.FromLookup(lookup(env))
			if err == nil {
				t.Errorf("%s: want an error", name)
			} else if strings.Contains(err.Error(), "XXXXSECRETXXXX") || !strings.Contains(err.Error(), "CURIO_ALERT_") {
				t.Errorf("%s: %v", name, err)
			}
		}
	})

	t.Run("curio config shows no secret", func(t *testing.T) {
		for name, secret := range map[string]bool{"CURIO_ALERT_WEBHOOKS": true, "CURIO_ALERT_HMAC_SECRET": true,
			"CURIO_ADMIN_TOKEN": true, "CURIO_ALERT_WEBHOOKS_FILE": false, "CURIO_ALERT_DEAD_LETTER_SPIKE": false} {
			if got := config.Shown(name, "slack="+slackURL); config.Secret(name) != secret || strings.Contains(got, "SECRET") == secret {
				t.Errorf("%s: Secret %v, shown as %q", name, config.Secret(name), got)
			}
		}
		if got := config.Shown("CURIO_POSTGRES_DSN", "postgres://u:pw@h/db"); got != "postgres://u:xxxxx@h/db" {
			t.Errorf("DSN shown as %q", got)
		}
	})
}
