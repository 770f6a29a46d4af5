package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"
)

type testInput struct {
	Day  string `json:"day,omitempty"`
	Top  int    `json:"top,omitempty"`
	Note string `json:"-"`
}

func testWorkflow(workflow.Context, testInput) error { return nil }

func job(name string, assets ...Asset) Job {
	return Job{Name: name, Input: func() any { return &testInput{Top: 10} }, Workflow: testWorkflow, Assets: assets}
}

func daily(name string, ups ...Upstream) Asset {
	return Asset{Name: name, Partitioning: DailyPartitions, Upstreams: ups,
		PartitionInput: func(key string) (any, error) { return testInput{Day: key}, nil }}
}

func TestNewChecksDefinitions(t *testing.T) {
	tests := []struct {
		name string
		jobs []Job
		want string
	}{
		{"duplicate job", []Job{job("a"), job("a")}, "declared twice"},
		{"no workflow", []Job{{Name: "a", Input: func() any { return &testInput{} }}}, "no workflow"},
		{"no input", []Job{{Name: "a", Workflow: testWorkflow}}, "no input"},
		{"duplicate asset", []Job{job("a", Asset{Name: "x"}), job("b", Asset{Name: "x"})}, "declared by a and b"},
		{"unknown upstream", []Job{job("a", Asset{Name: "x", Upstreams: []Upstream{On("nope")}})}, `upstream "nope" is not declared`},
		{"cycle", []Job{job("a", Asset{Name: "x", Upstreams: []Upstream{On("y")}}, Asset{Name: "y", Upstreams: []Upstream{On("x")}})}, "cycle: x → y → x"},
		{"not backfillable", []Job{job("a", Asset{Name: "x", Partitioning: HourlyPartitions})}, "not backfillable"},
		{"identity across partitionings", []Job{job("a", Asset{Name: "h"}, daily("d", Upstream{Asset: "h", Mapping: Identity}))}, "identity mapping"},
		{"window without time", []Job{job("a", Asset{Name: "h"}, daily("d", OnWindow("h", time.Hour)))}, "time-window mapping"},
		{"static without keys", []Job{job("a", Asset{Name: "s", Partitioning: Partitioning{Kind: Static},
			PartitionInput: func(string) (any, error) { return testInput{}, nil }})}, "without keys"},
		{"bad partition input", []Job{job("a", Asset{Name: "d", Partitioning: DailyPartitions,
			PartitionInput: func(string) (any, error) { return map[string]int{"nope": 1}, nil }})}, `unknown field "nope"`},
		{"bad schedule input", []Job{{Name: "a", Input: func() any { return &testInput{} }, Workflow: testWorkflow,
			Schedules: []Schedule{{ID: "s", Cron: "0 * * * *", Input: map[string]any{"top": "many"}}}}}, "schedule s: input"},
		{"bad cron", []Job{{Name: "a", Input: func() any { return &testInput{} }, Workflow: testWorkflow,
			Schedules: []Schedule{{ID: "s", Cron: "hourly"}}}}, "five fields"},
		{"bad overlap", []Job{{Name: "a", Input: func() any { return &testInput{} }, Workflow: testWorkflow,
			Schedules: []Schedule{{ID: "s", Cron: "0 * * * *", Overlap: "sometimes"}}}}, "overlap"},
		{"duplicate schedule", []Job{{Name: "a", Input: func() any { return &testInput{} }, Workflow: testWorkflow,
			Schedules: []Schedule{{ID: "s", Cron: "0 * * * *"}, {ID: "s", Cron: "0 * * * *"}}}}, "also used by a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.jobs...)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestGraphQueries(t *testing.T) {
	defs, err := New(
		job("land", Asset{Name: "events", Partitioning: HourlyPartitions,
			PartitionInput: func(key string) (any, error) { return testInput{Day: key}, nil }}),
		job("daily", daily("top_terms", OnWindow("events", 24*time.Hour))),
		job("model", Asset{Name: "model", Upstreams: []Upstream{On("top_terms")}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(defs.AssetNames(), ","); got != "events,top_terms,model" {
		t.Errorf("order %s", got)
	}
	if got := strings.Join(defs.Downstream("events"), ","); got != "top_terms,model" {
		t.Errorf("downstream %s", got)
	}
	m, _ := defs.Asset("model")
	if m.Upstreams[0].Mapping != AllPartitions || m.Job != "model" {
		t.Errorf("default mapping across partitionings: %+v", m)
	}
	job, in, err := defs.PartitionRun("top_terms", "2026-11-23")
	if err != nil || job != "daily" || in.(testInput).Day != "2026-11-23" {
		t.Errorf("partition run %s %+v %v", job, in, err)
	}
	if _, _, err := defs.PartitionRun("top_terms", "2026-11-23T10"); err == nil {
		t.Error("an hour key is not a daily partition")
	}
	job, in, err = defs.PartitionRun("model", "")
	if err != nil || job != "model" || in.(*testInput).Top != 10 {
		t.Errorf("unpartitioned run uses the defaults: %s %+v %v", job, in, err)
	}
	tt, _ := defs.Asset("top_terms")
	ev, _ := defs.Asset("events")
	if keys := tt.UpstreamPartitions(tt.Upstreams[0], ev, "2026-11-23"); len(keys) != 24 || keys[0] != "2026-11-23T00" || keys[23] != "2026-11-23T23" {
		t.Errorf("window keys %v", keys)
	}
	if _, err := defs.DecodeInput("land", []byte(`{"top":3,"extra":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
	var unknown *UnknownJobError
	if _, err := defs.DecodeInput("nope", nil); !errors.As(err, &unknown) {
		t.Errorf("unknown job: %v", err)
	}
	fields := defs.InputFields("land")
	if len(fields) != 2 || fields[0].Name != "day" || fields[1].Default != "10" {
		t.Errorf("fields %+v", fields)
	}
	checks, err := defs.RunChecks(context.Background(), Resources{}, ChecksInput{Asset: "model"})
	if err != nil || len(checks) != 0 {
		t.Errorf("no declared check functions: %v %v", checks, err)
	}
}

func TestPartitioning(t *testing.T) {
	from := time.Date(2026, 11, 22, 22, 30, 0, 0, time.UTC)
	to := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	if n, keys := DailyPartitions.Count(from, to), DailyPartitions.KeysBetween(from, to); n != 3 || len(keys) != 3 || keys[0] != "2026-11-22" {
		t.Errorf("daily %d %v", n, keys)
	}
	if n := HourlyPartitions.Count(from, to); n != len(HourlyPartitions.KeysBetween(from, to)) || n != 27 {
		t.Errorf("hourly count %d", n)
	}
	s := StaticPartitions("eu", "us")
	if !s.Valid("eu") || s.Valid("asia") || s.Count(from, to) != 2 || !HourlyPartitions.Valid("2026-11-23T10") || HourlyPartitions.Valid("2026-11-23") {
		t.Error("valid keys")
	}
	if _, err := DailyPartitions.ParseTime("soon"); err == nil {
		t.Error("bad key accepted")
	}
}
