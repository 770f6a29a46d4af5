package assets

import (
	"slices"
	"testing"
	"time"
)

func TestRegistryIsAConsistentDAG(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Registry() {
		if seen[a.Name] {
			t.Errorf("duplicate asset %s", a.Name)
		}
		for _, up := range a.Upstreams {
			if !seen[up] {
				t.Errorf("%s: upstream %s not declared before it", a.Name, up)
			}
		}
		seen[a.Name] = true
	}
	if d := Downstream(CatalogItems); !slices.Contains(d, ServingCatalog) || !slices.Contains(d, SimilarItems) || slices.Contains(d, UploadsHourly) {
		t.Errorf("downstream of catalog.items = %v", d)
	}
}

func TestStatuses(t *testing.T) {
	a, _ := Lookup(UploadsHourly)
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	expected := Hours(t0, t0.Add(4*time.Hour)) // 08, 09, 10, 11
	latest := map[string]Materialization{
		"2026-11-23T08": {Status: StatusMaterialized, FinishedAt: t0.Add(2 * time.Hour)},
		"2026-11-23T09": {Status: StatusFailed, FinishedAt: t0.Add(2 * time.Hour)},
		"2026-11-23T10": {Status: StatusMaterialized, FinishedAt: t0.Add(5 * time.Hour)},
	}
	up := map[string]time.Time{RawEvents: t0.Add(3 * time.Hour)}
	st := Statuses(a, expected, latest, up, t0.Add(6*time.Hour))
	got := map[string]string{}
	for _, s := range st {
		got[s.Partition] = s.Status
	}
	want := map[string]string{"2026-11-23T08": StatusStale, "2026-11-23T09": StatusFailed, "2026-11-23T10": StatusMaterialized, "2026-11-23T11": StatusMissing}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %s, want %s", p, got[p], w)
		}
	}
	if sel := Select(st, []string{StatusFailed, StatusMissing}); !slices.Equal(sel, []string{"2026-11-23T09", "2026-11-23T11"}) {
		t.Errorf("select failed,missing = %v", sel)
	}
	if st[2].Fresh == nil || !*st[2].Fresh {
		t.Errorf("a 1h-old partition of a 2h-max-age asset must be fresh")
	}
}

func TestParsePartition(t *testing.T) {
	for _, in := range []string{"2026-11-23T10", "2026-11-23T10:30:00Z"} {
		if p, err := ParsePartition(in); err != nil || PartitionKey(p) != "2026-11-23T10" {
			t.Errorf("%s: %v %v", in, p, err)
		}
	}
	if _, err := ParsePartition("yesterday"); err == nil {
		t.Error("want error")
	}
}
