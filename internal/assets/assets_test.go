package assets

import (
	"slices"
	"testing"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// hourlyAsset is an hourly asset over RawEvents, like agg.upload_hourly.
var hourlyAsset = Asset{Name: UploadsHourly, Partitioning: pipeline.HourlyPartitions, Freshness: 2 * time.Hour,
	Upstreams:      []pipeline.Upstream{{Asset: RawEvents, Mapping: pipeline.AllPartitions}},
	PartitionInput: func(string) (any, error) { return struct{}{}, nil }}

func TestStatuses(t *testing.T) {
	a := hourlyAsset
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	expected := Hours(t0, t0.Add(4*time.Hour)) // 08, 09, 10, 11
	latest := map[string]Materialization{
		"2026-11-23T08": {Status: StatusMaterialized, FinishedAt: t0.Add(2 * time.Hour)},
		"2026-11-23T09": {Status: StatusFailed, FinishedAt: t0.Add(2 * time.Hour)},
		"2026-11-23T10": {Status: StatusMaterialized, FinishedAt: t0.Add(5 * time.Hour)},
	}
	up := map[string]time.Time{RawEvents: t0.Add(3 * time.Hour)}
	st := Statuses(a, expected, latest, LastSuccessOf(up), t0.Add(6*time.Hour))
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

// TestStatusesFollowPartitionMappings: with an identity mapping, a partition is stale only
// when its own upstream partition is newer; with a daily window over hourly partitions,
// when any of the day's hours is.
func TestStatusesFollowPartitionMappings(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	up := Asset{Name: RawEvents, Partitioning: pipeline.HourlyPartitions}
	identity := Asset{Name: UploadsHourly, Partitioning: pipeline.HourlyPartitions, Upstreams: []pipeline.Upstream{{Asset: RawEvents, Mapping: pipeline.Identity}}}
	upLatest := map[string]Materialization{
		"2026-11-23T08": {Status: StatusMaterialized, FinishedAt: t0.Add(20 * time.Hour)}, // re-landed late
		"2026-11-23T09": {Status: StatusMaterialized, FinishedAt: t0.Add(10 * time.Hour)},
	}
	mapped := func(a Asset) UpstreamDone {
		return func(u pipeline.Upstream, key string) (time.Time, bool) {
			var newest time.Time
			for _, k := range a.UpstreamPartitions(u, up, key) {
				if m, ok := upLatest[k]; ok && m.FinishedAt.After(newest) {
					newest = m.FinishedAt
				}
			}
			return newest, !newest.IsZero()
		}
	}
	latest := map[string]Materialization{
		"2026-11-23T08": {Status: StatusMaterialized, FinishedAt: t0.Add(12 * time.Hour)},
		"2026-11-23T09": {Status: StatusMaterialized, FinishedAt: t0.Add(12 * time.Hour)},
	}
	got := map[string]string{}
	for _, s := range Statuses(identity, nil, latest, mapped(identity), t0.Add(21*time.Hour)) {
		got[s.Partition] = s.Status
	}
	if got["2026-11-23T08"] != StatusStale || got["2026-11-23T09"] != StatusMaterialized {
		t.Errorf("identity mapping: %v", got)
	}
	daily := Asset{Name: "daily", Partitioning: pipeline.DailyPartitions, Upstreams: []pipeline.Upstream{pipeline.OnWindow(RawEvents, 24*time.Hour)}}
	dayLatest := map[string]Materialization{"2026-11-23": {Status: StatusMaterialized, FinishedAt: t0.Add(15 * time.Hour)}}
	st := Statuses(daily, nil, dayLatest, mapped(daily), t0.Add(21*time.Hour))
	if len(st) != 1 || st[0].Status != StatusStale {
		t.Errorf("daily window over hours: %+v", st)
	}
}
