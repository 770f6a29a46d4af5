package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://curio@127.0.0.1:5432/curio":        "postgres://curio@127.0.0.1:5432/curio",
		"postgres://curio:s3cret@127.0.0.1:5432/curio": "postgres://curio:xxxxx@127.0.0.1:5432/curio",
		"root:s3cret@tcp(127.0.0.1:3306)/curio":        "root:xxxxx@tcp(127.0.0.1:3306)/curio",
		"root@unix(/tmp/my.sock)/curio":                "root@unix(/tmp/my.sock)/curio",
		"root:p@ss@tcp(db:3306)/curio?parseTime=true":  "root:xxxxx@tcp(db:3306)/curio?parseTime=true",
	} {
		if got := redact(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitFlags(t *testing.T) {
	flags, pos, err := splitFlags([]string{"CatalogPipeline", "{}", "--no-wait", "--id", "x", "--queue=q"}, flagSet{Values: []string{"id", "queue"}, Bools: []string{"no-wait"}})
	if err != nil || len(pos) != 2 || flags["no-wait"] != "true" || flags["id"] != "x" || flags["queue"] != "q" {
		t.Fatalf("flags=%v pos=%v err=%v", flags, pos, err)
	}
	if _, _, err := splitFlags([]string{"--id"}, flagSet{Values: []string{"id"}}); err == nil {
		t.Error("want error for a flag without value")
	}
}

func TestUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "curio dev") {
		t.Fatalf("help: %v %q", err, out.String())
	}
	t.Setenv("CURIO_DATA_DIR", t.TempDir())
	for _, args := range [][]string{{"bogus"}, {"import", "csv", "x.csv"}, {"import", "imdb-tsv"}, {"run", "NoSuchWorkflow"}, {"run", "CatalogPipeline", "{not json"}, {"run", "CatalogPipeline", `{"shardz":1}`}} {
		if err := run(args, &out, &errOut); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	t.Setenv("CURIO_ADMIN_TOKEN", "admin-secret-0123456789")
	t.Setenv("CURIO_POSTGRES_DSN", "postgres://curio:pg-secret@db:5432/curio")
	var out, errOut bytes.Buffer
	if err := run([]string{"config"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"admin-secret", "pg-secret"} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("curio config printed %s:\n%s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "CURIO_ADMIN_TOKEN") || !strings.Contains(out.String(), "(set, not shown)") {
		t.Errorf("curio config does not say the token is set:\n%s", out.String())
	}
}

func TestHealthcheckCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"healthcheck", "http://127.0.0.1:1/readyz"}, &out, &errOut); err == nil {
		t.Error("healthcheck of a closed port succeeded")
	}
	if err := run([]string{"healthcheck"}, &out, &errOut); err == nil {
		t.Error("healthcheck without URL succeeded")
	}
	// A worker's probe endpoints: ready until the process reports an error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var h healthState
	if err := serveHealth(ctx, addr, "worker", &h, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/livez", "/readyz", "/metrics"} {
		if err := run([]string{"healthcheck", "http://" + addr + path}, &out, &errOut); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	h.set(errors.New("temporal unreachable"))
	if err := run([]string{"healthcheck", "http://" + addr + "/readyz"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "temporal unreachable") {
		t.Errorf("readyz with an error: %v", err)
	}
	if err := run([]string{"healthcheck", "http://" + addr + "/livez"}, &out, &errOut); err != nil {
		t.Errorf("livez with an error: %v", err)
	}
}
