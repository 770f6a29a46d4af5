package assets

import (
	"errors"
	"testing"
	"time"

	"github.com/curiodata/curio/pipeline"
)

func TestParseBackfillRange(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC)
	hourly := Asset{Name: RawEvents, Partitioning: pipeline.HourlyPartitions}
	whole := Asset{Name: SimilarItems}

	r, err := ParseBackfillRange(hourly, "", "", now, 0)
	if err != nil || !r.To.Equal(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) || r.Partitions != 24 {
		t.Errorf("defaults: %+v %v", r, err)
	}
	for _, tc := range []struct{ from, to string }{
		{"2026-11-22", "2026-11-23T00"}, {"2026-11-22T00:30:00Z", "2026-11-23"}, {"2026-11-22T00", ""},
	} {
		r, err := ParseBackfillRange(hourly, tc.from, tc.to, now, 0)
		if err != nil || !r.From.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) || r.Partitions != len(Hours(r.From, r.To)) {
			t.Errorf("%+v: %+v %v", tc, r, err)
		}
	}
	if r, err := ParseBackfillRange(whole, "2020-01-01", "2026-01-01", now, 10); err != nil || r.Partitions != 1 {
		t.Errorf("unpartitioned assets have one partition whatever the range: %+v %v", r, err)
	}

	for _, tc := range []struct {
		from, to string
		max      int
		want     error
	}{
		{"not-a-date", "", 0, ErrBadRange},
		{"", "2026-13-01", 0, ErrBadRange},
		{"1969-12-31T23", "1970-01-01T05", 0, ErrBadRange},
		{"1970-01-01T00", "2199-12-31T00", 0, ErrBadRange}, // far in the future
		{"9999-12-31T00", "9999-12-31T23", 0, ErrBadRange},
		{"2026-11-23T10", "2026-11-23T09", 0, ErrBadRange},
		{"1970-01-01T00", "2026-11-23", 0, ErrTooManyPartitions},
		{"2026-11-22", "2026-11-23", 23, ErrTooManyPartitions},
	} {
		_, err := ParseBackfillRange(hourly, tc.from, tc.to, now, tc.max)
		if !errors.Is(err, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc, err, tc.want)
		}
	}
	if _, err := ParseBackfillRange(hourly, "2026-11-22", "2026-11-23", now, 24); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}
}

func TestPartitionCountMatchesHours(t *testing.T) {
	hourly := hourlyAsset
	base := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, time.Minute, time.Hour, 90 * time.Minute, 49 * time.Hour} {
		for _, off := range []time.Duration{0, 30 * time.Minute} {
			from, to := base.Add(off), base.Add(off+d)
			if got, want := PartitionCount(hourly, from, to), len(Hours(from, to)); got != want {
				t.Errorf("[%s, %s): %d, Hours has %d", from, to, got, want)
			}
		}
	}
	if n, err := CheckPartitionCount(hourly, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), base, 0); !errors.Is(err, ErrTooManyPartitions) || n <= DefaultMaxBackfillPartitions {
		t.Errorf("saturated range: %d %v", n, err)
	}
}
