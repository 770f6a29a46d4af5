package main

import (
	"bytes"
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
	flags, pos, err := splitFlags([]string{"CatalogPipeline", "{}", "--no-wait", "--id", "x", "--queue=q"}, "no-wait")
	if err != nil || len(pos) != 2 || flags["no-wait"] != "true" || flags["id"] != "x" || flags["queue"] != "q" {
		t.Fatalf("flags=%v pos=%v err=%v", flags, pos, err)
	}
	if _, _, err := splitFlags([]string{"--id"}); err == nil {
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
