package assets

import (
	"errors"
	"fmt"
	"time"
)

// Backfill size limits. A backfill's plan (its partition keys) travels as one Temporal
// payload and comes back in its progress, so it must stay well under Temporal's payload
// limit (2 MiB by default): about 16 bytes per hour partition.
const (
	DefaultMaxBackfillPartitions = 10_000 // CURIO_BACKFILL_MAX_PARTITIONS's default
	MaxBackfillPartitionsCeiling = 50_000 // the most CURIO_BACKFILL_MAX_PARTITIONS may allow
)

// Errors of ParseBackfillRange and CheckPartitionCount; their messages are meant for users.
var (
	ErrBadRange          = errors.New("invalid backfill range")
	ErrTooManyPartitions = errors.New("backfill range too large")
)

// earliestPartition is the first hour a backfill may start at.
var earliestPartition = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// BackfillRange is a parsed and checked backfill range: the partitions in [From, To).
type BackfillRange struct {
	From, To   time.Time
	Partitions int // how many partitions of the asset the range holds
}

// ParseBackfillRange reads a backfill's from and to the way `curio backfill`, the admin API
// and the Backfill workflow accept them: an hour (2026-11-23T10), a date (2026-11-23) or an
// RFC 3339 time. To is exclusive and defaults to the current hour, from to 24 hours before
// to. Both must lie between 1970 and a day after now, from before to (for a partitioned
// asset), and the range may hold at most maxPartitions partitions of a (maxPartitions <= 0:
// DefaultMaxBackfillPartitions). Errors wrap ErrBadRange or ErrTooManyPartitions.
func ParseBackfillRange(a Asset, from, to string, now time.Time, maxPartitions int) (BackfillRange, error) {
	latest := now.UTC().Truncate(time.Hour).Add(24 * time.Hour)
	parse := func(name, s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		t, err := ParsePartition(s)
		if err != nil {
			return t, fmt.Errorf("%w: %s: want an hour like 2026-11-23T10, a date like 2026-11-23 or an RFC 3339 time, got %q",
				ErrBadRange, name, s)
		}
		if t.Before(earliestPartition) || t.After(latest) {
			return t, fmt.Errorf("%w: %s (%s) must lie between 1970-01-01 and a day from now (%s)",
				ErrBadRange, name, PartitionKey(t), PartitionKey(latest))
		}
		return t, nil
	}
	var r BackfillRange
	var err error
	if r.To, err = parse("to", to, now.UTC().Truncate(time.Hour)); err != nil {
		return r, err
	}
	if r.From, err = parse("from", from, r.To.Add(-24*time.Hour)); err != nil {
		return r, err
	}
	if a.Partitioning.Partitioned() && !r.From.Before(r.To) {
		return r, fmt.Errorf("%w: from (%s) must be before to (%s)", ErrBadRange,
			r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	r.Partitions, err = CheckPartitionCount(a, r.From, r.To, maxPartitions)
	return r, err
}

// PartitionCount is how many partitions of a lie in [from, to), computed without listing
// them (see pipeline.Partitioning.Count); 1 for an unpartitioned asset.
func PartitionCount(a Asset, from, to time.Time) int { return a.Partitioning.Count(from, to) }

// CheckPartitionCount returns PartitionCount(a, from, to), or an error wrapping
// ErrTooManyPartitions when that exceeds maxPartitions (<= 0: DefaultMaxBackfillPartitions).
func CheckPartitionCount(a Asset, from, to time.Time, maxPartitions int) (int, error) {
	if maxPartitions <= 0 {
		maxPartitions = DefaultMaxBackfillPartitions
	}
	n := PartitionCount(a, from, to)
	if n > maxPartitions {
		return n, fmt.Errorf("%w: %s to %s holds %d partitions of %s, at most %d may be backfilled at once "+
			"(CURIO_BACKFILL_MAX_PARTITIONS): split it into smaller ranges",
			ErrTooManyPartitions, PartitionKey(from), PartitionKey(to), n, a.Name, maxPartitions)
	}
	return n, nil
}
