package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := FromLookup(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.TemporalAddr != "127.0.0.1:7233" || c.TemporalUIAddr != "127.0.0.1:8233" {
		t.Errorf("addresses: %+v", c)
	}
	if c.Workers != 3 || c.TaskQueue != "curio-batch" || c.ReloadEvery != 2*time.Second || !c.RunPipeline {
		t.Errorf("defaults: %+v", c)
	}
	if c.KafkaBrokers != nil || c.TemporalHostPort != "" || c.MySQLDSN != "" {
		t.Errorf("embedded defaults expected: %+v", c)
	}
}

func TestOverridesAndErrors(t *testing.T) {
	c, err := FromLookup(lookup(map[string]string{
		"CURIO_KAFKA_BROKERS": " k1:9092, k2:9092 ,",
		"CURIO_DEV_WORKERS":   "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.KafkaBrokers) != 2 || c.KafkaBrokers[1] != "k2:9092" || c.Workers != 5 {
		t.Errorf("got %+v", c)
	}
	_, err = FromLookup(lookup(map[string]string{"CURIO_DEV_WORKERS": "three", "CURIO_LOG_LEVEL": "loud"}))
	if err == nil || !strings.Contains(err.Error(), "CURIO_DEV_WORKERS") || !strings.Contains(err.Error(), "CURIO_LOG_LEVEL") {
		t.Fatalf("want both errors named, got %v", err)
	}
}

func TestAdminTokenFromFileAndNeverPrinted(t *testing.T) {
	const secret = "s3cret-token-0123456789"
	f := t.TempDir() + "/token"
	if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromLookup(lookup(map[string]string{"CURIO_ADMIN_TOKEN_FILE": f}))
	if err != nil || c.AdminToken != secret {
		t.Fatalf("token from file: %q %v", c.AdminToken, err)
	}
	// The environment wins over the file.
	c, err = FromLookup(lookup(map[string]string{"CURIO_ADMIN_TOKEN_FILE": f, "CURIO_ADMIN_TOKEN": "another-token-0123456789"}))
	if err != nil || c.AdminToken != "another-token-0123456789" {
		t.Fatalf("env token: %q %v", c.AdminToken, err)
	}
	if s := fmt.Sprint(c) + fmt.Sprintf("%v %+v %s", c, c, c); strings.Contains(s, "another-token") || !strings.Contains(s, "(redacted)") {
		t.Errorf("config printed with its secret: %s", s)
	}
	for name, env := range map[string]map[string]string{
		"short token":  {"CURIO_ADMIN_TOKEN": "short"},
		"missing file": {"CURIO_ADMIN_TOKEN_FILE": f + ".missing"},
		"empty file":   {"CURIO_ADMIN_TOKEN_FILE": os.DevNull},
		"bad proxy":    {"CURIO_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"},
		"zero body":    {"CURIO_HTTP_MAX_BODY": "0"},
		"bad rate":     {"CURIO_SEARCH_RATE": "fast"},
	} {
		_, err := FromLookup(lookup(env))
		if err == nil {
			t.Errorf("%s: want an error", name)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}
