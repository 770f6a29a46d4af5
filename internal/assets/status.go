package assets

import (
	"context"
	"time"
)

// Store is where materializations are recorded (PostgreSQL in production).
type Store interface {
	LatestMaterializations(ctx context.Context, asset string) (map[string]Materialization, error)
	LastSuccess(ctx context.Context) (map[string]time.Time, error)
	EventHourRange(ctx context.Context) (time.Time, time.Time, error)
}

// Expected lists the partitions an asset should have at now: "" for an unpartitioned
// asset; for an hourly one, every complete hour from the first landed event on.
func Expected(ctx context.Context, st Store, a Asset, now time.Time) ([]string, error) {
	if a.Partitioning != Hourly {
		return []string{""}, nil
	}
	first, _, err := st.EventHourRange(ctx)
	if err != nil || first.IsZero() {
		return nil, err
	}
	return Hours(first, now.UTC().Truncate(time.Hour)), nil
}

// PartitionsOf returns the status of every partition of a.
func PartitionsOf(ctx context.Context, st Store, a Asset, now time.Time) ([]PartitionStatus, error) {
	expected, err := Expected(ctx, st, a, now)
	if err != nil {
		return nil, err
	}
	latest, err := st.LatestMaterializations(ctx, a.Name)
	if err != nil {
		return nil, err
	}
	done, err := st.LastSuccess(ctx)
	if err != nil {
		return nil, err
	}
	return Statuses(a, expected, latest, done, now), nil
}

// Node is one asset in the graph view with a summary of its partitions.
type Node struct {
	Asset
	Counts      map[string]int `json:"partition_counts"`
	LastSuccess *time.Time     `json:"last_success,omitempty"`
	Fresh       *bool          `json:"fresh,omitempty"`
}

// Graph returns every asset with upstreams and partition status counts.
func Graph(ctx context.Context, st Store, now time.Time) ([]Node, error) {
	done, err := st.LastSuccess(ctx)
	if err != nil {
		return nil, err
	}
	var out []Node
	for _, a := range Registry() {
		ps, err := PartitionsOf(ctx, st, a, now)
		if err != nil {
			return nil, err
		}
		n := Node{Asset: a, Counts: map[string]int{}}
		for _, p := range ps {
			n.Counts[p.Status]++
		}
		if t, ok := done[a.Name]; ok {
			n.LastSuccess = &t
			if a.MaxAge > 0 {
				fresh := now.Sub(t) <= a.MaxAge
				n.Fresh = &fresh
			}
		}
		out = append(out, n)
	}
	return out, nil
}
