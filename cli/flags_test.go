package cli

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestUnknownFlagsFail runs commands with a misspelt or foreign flag: each must fail before
// doing anything, with an error that wraps errUsage, names the flag and lists the accepted ones.
func TestUnknownFlagsFail(t *testing.T) {
	t.Setenv("CURIO_DATA_DIR", t.TempDir())
	for _, tc := range []struct {
		args     []string
		flag     string
		accepted string // one of the accepted flags the message must list; "" for none
	}{
		{[]string{"worker", "--identiy", "x"}, "--identiy", "--identity"},
		{[]string{"worker", "--identity=w1", "--queu=q"}, "--queu", "--queue"},
		{[]string{"run", "CatalogPipeline", "{}", "--nowait"}, "--nowait", "--no-wait"},
		{[]string{"run", "CatalogPipeline", "--ID=x"}, "--ID", "--list"},
		{[]string{"import", "imdb-tsv", "basics.tsv", "--ratings", "r.tsv"}, "--ratings", ""},
		{[]string{"backfill", "index_shards", "--form", "2024-01-01"}, "--form", "--from"},
		{[]string{"backfill", "index_shards", "--dryrun"}, "--dryrun", "--dry-run"},
		{[]string{"schedules", "apply", "--files=s.yaml"}, "--files", "--file"},
		{[]string{"events", "generate", "--users", "10", "--rates=5"}, "--rates", "--rate"},
		{[]string{"scrape", "parse", "--sources", "imdb", "page.html"}, "--sources", "--source"},
		{[]string{"dev", "--identiy", "x"}, "--identiy", ""},
		{[]string{"api", "--port=1"}, "--port", ""},
		{[]string{"migrate", "--force"}, "--force", ""},
		{[]string{"assets", "--all"}, "--all", ""},
	} {
		var out, errOut bytes.Buffer
		err := run(tc.args, &out, &errOut)
		if !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want one wrapping errUsage", tc.args, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "unknown flag "+tc.flag+" ") {
			t.Errorf("%q: error does not name %s: %v", tc.args, tc.flag, msg)
		}
		if tc.accepted != "" && !strings.Contains(msg, tc.accepted) {
			t.Errorf("%q: error does not list %s: %v", tc.args, tc.accepted, msg)
		}
		if tc.accepted == "" && !strings.Contains(msg, "accepted: none") {
			t.Errorf("%q: error should say no flags are accepted: %v", tc.args, msg)
		}
	}
}

func TestSplitFlagsForms(t *testing.T) {
	runFlags := flagSet{Values: []string{"id"}, Bools: []string{"no-wait", "list"}}
	backfill := flagSet{Values: []string{"from", "to", "only", "parallel"}, Bools: []string{"dry-run"}}
	for _, tc := range []struct {
		name  string
		args  []string
		fs    flagSet
		flags map[string]string
		pos   []string
	}{
		{"space form", []string{"CatalogPipeline", "--id", "x"}, runFlags, map[string]string{"id": "x"}, []string{"CatalogPipeline"}},
		{"equals form", []string{"--id=x", "CatalogPipeline"}, runFlags, map[string]string{"id": "x"}, []string{"CatalogPipeline"}},
		{"equals keeps later =", []string{"--id=a=b"}, runFlags, map[string]string{"id": "a=b"}, nil},
		{"empty value", []string{"--id="}, runFlags, map[string]string{"id": ""}, nil},
		{"bool after positionals", []string{"CatalogPipeline", "{}", "--no-wait"}, runFlags, map[string]string{"no-wait": "true"}, []string{"CatalogPipeline", "{}"}},
		{"bool does not eat the next argument", []string{"--no-wait", "CatalogPipeline"}, runFlags, map[string]string{"no-wait": "true"}, []string{"CatalogPipeline"}},
		{"bool =false", []string{"--no-wait=false", "X"}, runFlags, map[string]string{"no-wait": "false"}, []string{"X"}},
		{"run --list", []string{"--list"}, runFlags, map[string]string{"list": "true"}, nil},
		{"value may start with one dash", []string{"A", "--from", "-1h"}, backfill, map[string]string{"from": "-1h"}, []string{"A"}},
		{"all backfill flags", []string{"A", "--from=2024-01-01", "--to", "2024-02-01", "--only", "failed,missing", "--dry-run", "--parallel=4"}, backfill,
			map[string]string{"from": "2024-01-01", "to": "2024-02-01", "only": "failed,missing", "dry-run": "true", "parallel": "4"}, []string{"A"}},
		{"-- ends flags", []string{"--id", "x", "--", "--not-a-flag"}, runFlags, map[string]string{"id": "x"}, []string{"--not-a-flag"}},
		{"single dash is positional", []string{"-"}, flagSet{}, map[string]string{}, []string{"-"}},
	} {
		flags, pos, err := splitFlags(tc.args, tc.fs)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(flags, tc.flags) || !reflect.DeepEqual(pos, tc.pos) {
			t.Errorf("%s: flags=%v pos=%q, want flags=%v pos=%q", tc.name, flags, pos, tc.flags, tc.pos)
		}
	}
}

func TestSplitFlagsErrors(t *testing.T) {
	fs := flagSet{Values: []string{"id", "from"}, Bools: []string{"no-wait"}}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"value flag at the end", []string{"CatalogPipeline", "--id"}, "flag --id needs a value"},
		{"value flag followed by a flag", []string{"--from", "--no-wait"}, "flag --from needs a value"},
		{"unknown flag", []string{"--identiy", "x"}, "unknown flag --identiy (accepted: --from, --id, --no-wait)"},
		{"unknown flag with =", []string{"--idd=x"}, "unknown flag --idd "},
		{"bool with a bad value", []string{"--no-wait=soon"}, "flag --no-wait takes no value"},
		{"help is not a flag of any command", []string{"--help"}, "unknown flag --help"},
	} {
		_, _, err := splitFlags(tc.args, fs)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q wrapping errUsage", tc.name, err, tc.want)
		}
	}
}

// TestHelpFlag: -h or --help after any command prints the usage text and runs nothing.
func TestHelpFlag(t *testing.T) {
	for _, args := range [][]string{{"dev", "--help"}, {"worker", "-h"}, {"run", "CatalogPipeline", "--help"}, {"backfill", "--from", "x", "-h"}} {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err != nil || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%q: err=%v out=%q", args, err, out.String())
		}
	}
	// After "--" it is an argument (here a workflow name), not a request for help.
	t.Setenv("CURIO_DATA_DIR", t.TempDir())
	var out, errOut bytes.Buffer
	if err := run([]string{"run", "--", "-h"}, &out, &errOut); err == nil || strings.Contains(out.String(), "Usage:") {
		t.Errorf("run -- -h: err=%v out=%q", err, out.String())
	}
}

// TestUsageErrorWithoutFlags: a wrong argument count still wraps errUsage and shows the command's usage.
func TestUsageErrorWithoutFlags(t *testing.T) {
	t.Setenv("CURIO_DATA_DIR", t.TempDir())
	for _, args := range [][]string{{"worker", "extra"}, {"bogus"}, {"schedules"}, {"dev", "extra"}, {"assets", "a", "b"}} {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want one wrapping errUsage", args, err)
		}
	}
}
