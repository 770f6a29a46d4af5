package config

import (
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
