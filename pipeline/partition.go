package pipeline

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// PartitionKind says how an asset is split into partitions.
type PartitionKind string

// Partition kinds.
const (
	// Unpartitioned assets are materialized whole; their one partition key is "".
	Unpartitioned PartitionKind = ""
	// Hourly assets have one partition per UTC hour, keyed 2006-01-02T15.
	Hourly PartitionKind = "hour"
	// Daily assets have one partition per UTC day, keyed 2006-01-02.
	Daily PartitionKind = "day"
	// Static assets have a fixed list of partition keys (regions, categories ...).
	Static PartitionKind = "static"
)

// Partitioning is an asset's partitions: a kind, and the keys of a static one.
type Partitioning struct {
	Kind PartitionKind
	Keys []string // Static only
}

// Partitionings usable in asset declarations.
var (
	NotPartitioned   = Partitioning{}
	HourlyPartitions = Partitioning{Kind: Hourly}
	DailyPartitions  = Partitioning{Kind: Daily}
)

// StaticPartitions returns a partitioning with the given keys.
func StaticPartitions(keys ...string) Partitioning {
	return Partitioning{Kind: Static, Keys: slices.Clone(keys)}
}

// MarshalJSON writes the kind ("", "hour", "day" or "static"), the form the API serves.
func (p Partitioning) MarshalJSON() ([]byte, error) { return json.Marshal(string(p.Kind)) }

// Partitioned reports whether the asset has more than the one "" partition.
func (p Partitioning) Partitioned() bool { return p.Kind != Unpartitioned }

// TimeBased reports whether partitions are time windows (hourly or daily).
func (p Partitioning) TimeBased() bool { return p.Kind == Hourly || p.Kind == Daily }

// Step is the length of one time partition; 0 for other kinds.
func (p Partitioning) Step() time.Duration {
	switch p.Kind {
	case Hourly:
		return time.Hour
	case Daily:
		return 24 * time.Hour
	}
	return 0
}

func (p Partitioning) layout() string {
	if p.Kind == Daily {
		return "2006-01-02"
	}
	return "2006-01-02T15"
}

// Start is the start of the time partition holding t.
func (p Partitioning) Start(t time.Time) time.Time {
	if s := p.Step(); s > 0 {
		return t.UTC().Truncate(s)
	}
	return t.UTC()
}

// Key is the key of the time partition holding t ("" for non-time partitionings).
func (p Partitioning) Key(t time.Time) string {
	if !p.TimeBased() {
		return ""
	}
	return p.Start(t).Format(p.layout())
}

// ParseTime reads a time partition key, or a date, an hour (2006-01-02T15) or an RFC 3339
// time, and returns the start of the partition holding it.
func (p Partitioning) ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15", time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return p.Start(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("partition %q: want an hour like 2026-11-23T10, a date like 2026-11-23 or an RFC 3339 time", s)
}

// Valid reports whether key names a partition of p.
func (p Partitioning) Valid(key string) bool {
	switch p.Kind {
	case Unpartitioned:
		return key == ""
	case Static:
		return slices.Contains(p.Keys, key)
	}
	t, err := time.Parse(p.layout(), key)
	return err == nil && p.Key(t) == key
}

// Count is how many partitions lie in [from, to): time partitions counted without listing
// them, the static keys, or 1 for an unpartitioned asset.
func (p Partitioning) Count(from, to time.Time) int {
	switch {
	case p.Kind == Static:
		return len(p.Keys)
	case !p.TimeBased():
		return 1
	}
	start := p.Start(from)
	if !start.Before(to) {
		return 0
	}
	d := to.Sub(start) // saturates at about 292 years, far beyond any limit
	n := int(d / p.Step())
	if d%p.Step() != 0 {
		n++
	}
	return n
}

// KeysBetween lists the partition keys in [from, to): time partitions in order, the static
// keys, or [""] for an unpartitioned asset. Check Count first for unbounded ranges.
func (p Partitioning) KeysBetween(from, to time.Time) []string {
	switch {
	case p.Kind == Static:
		return slices.Clone(p.Keys)
	case !p.TimeBased():
		return []string{""}
	}
	var out []string
	for t := p.Start(from); t.Before(to); t = t.Add(p.Step()) {
		out = append(out, p.Key(t))
	}
	return out
}
