package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/assets"
)

func TestMaterializationHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	record := func(partition, runID, status string, checks ...assets.CheckResult) {
		t.Helper()
		m := assets.Materialization{Asset: assets.UploadsHourly, Partition: partition, Status: status, WorkflowID: "wf-" + runID,
			RunID: runID, Rows: 7, DataVersion: "v-" + runID, StartedAt: start, Checks: checks}
		if status == assets.StatusFailed {
			m.Error = "boom"
		}
		if err := s.RecordMaterialization(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	record("2026-11-23T09", "r1", assets.StatusMaterialized, assets.CheckResult{Name: "rows", Passed: true, Detail: "7 rows"})
	record("2026-11-23T10", "r2", assets.StatusFailed, assets.CheckResult{Name: "rows", Passed: false, Blocking: true, Detail: "0 rows"})
	record("2026-11-23T09", "r3", assets.StatusMaterialized)
	if err := s.RecordMaterialization(ctx, assets.Materialization{Asset: assets.SimilarItems, Status: assets.StatusMaterialized,
		WorkflowID: "other", RunID: "r9", StartedAt: start}); err != nil {
		t.Fatal(err)
	}

	runs := func(ms []assets.Materialization) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.RunID)
		}
		return out
	}
	for _, tc := range []struct {
		partition string
		limit     int
		want      []string
	}{
		{"", 50, []string{"r3", "r2", "r1"}}, // every partition, newest first, other assets left out
		{"", 2, []string{"r3", "r2"}},
		{"2026-11-23T09", 50, []string{"r3", "r1"}},
		{"2026-11-23T11", 50, nil},
		{"", 0, []string{"r3", "r2", "r1"}}, // out of range: the most allowed
	} {
		ms, err := s.MaterializationHistory(ctx, assets.UploadsHourly, tc.partition, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := runs(ms); !slices.Equal(got, tc.want) {
			t.Errorf("partition %q limit %d: runs %v, want %v", tc.partition, tc.limit, got, tc.want)
		}
	}
	ms, err := s.MaterializationHistory(ctx, assets.UploadsHourly, "2026-11-23T10", 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("%v %v", ms, err)
	}
	m := ms[0]
	if m.Status != assets.StatusFailed || m.Error != "boom" || m.Rows != 7 || m.DataVersion != "v-r2" || m.WorkflowID != "wf-r2" ||
		!m.StartedAt.Equal(start) || m.FinishedAt.Before(m.StartedAt) ||
		len(m.Checks) != 1 || m.Checks[0] != (assets.CheckResult{Name: "rows", Passed: false, Blocking: true, Detail: "0 rows"}) {
		t.Errorf("round trip: %+v", m)
	}
}
