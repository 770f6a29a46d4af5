package assets

import (
	"context"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// Store is where materializations are recorded (PostgreSQL in production).
type Store interface {
	LatestMaterializations(ctx context.Context, asset string) (map[string]Materialization, error)
	LastSuccess(ctx context.Context) (map[string]time.Time, error)
	EventHourRange(ctx context.Context) (time.Time, time.Time, error)
}

// Expected lists the partitions an asset should have at now: "" for an unpartitioned
// asset, the keys of a static one, and for a time-partitioned one every complete hour or
// day from the first landed event on.
func Expected(ctx context.Context, st Store, a Asset, now time.Time) ([]string, error) {
	p := a.Partitioning
	switch {
	case p.Kind == pipeline.Static:
		return p.Keys, nil
	case !p.TimeBased():
		return []string{""}, nil
	}
	first, _, err := st.EventHourRange(ctx)
	if err != nil || first.IsZero() {
		return nil, err
	}
	end := p.Start(now)
	if !p.Start(first).Before(end) {
		return nil, nil
	}
	return p.KeysBetween(first, end), nil
}

// PartitionsOf returns the status of every partition of a; defs resolve its upstreams'
// partition mappings.
func PartitionsOf(ctx context.Context, st Store, defs *pipeline.Definitions, a Asset, now time.Time) ([]PartitionStatus, error) {
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
	upDone, err := UpstreamsDone(ctx, st, defs, a, done)
	if err != nil {
		return nil, err
	}
	return Statuses(a, expected, latest, upDone, now), nil
}

// UpstreamsDone resolves partition mappings: an identity or time-window upstream is
// compared partition by partition, any other as a whole.
func UpstreamsDone(ctx context.Context, st Store, defs *pipeline.Definitions, a Asset, done map[string]time.Time) (UpstreamDone, error) {
	byPartition := map[string]map[string]Materialization{}
	for _, up := range a.Upstreams {
		u, ok := defs.Asset(up.Asset)
		if !ok || !u.Partitioning.Partitioned() || up.Mapping == pipeline.AllPartitions {
			continue
		}
		latest, err := st.LatestMaterializations(ctx, up.Asset)
		if err != nil {
			return nil, err
		}
		byPartition[up.Asset] = latest
	}
	whole := LastSuccessOf(done)
	return func(up pipeline.Upstream, key string) (time.Time, bool) {
		latest, ok := byPartition[up.Asset]
		if !ok {
			return whole(up, key)
		}
		u, _ := defs.Asset(up.Asset)
		keys := a.UpstreamPartitions(up, u, key)
		if keys == nil {
			return whole(up, key)
		}
		var newest time.Time
		for _, k := range keys {
			if m, ok := latest[k]; ok && m.Status == StatusMaterialized && m.FinishedAt.After(newest) {
				newest = m.FinishedAt
			}
		}
		return newest, !newest.IsZero()
	}, nil
}

// Node is one asset in the graph view with a summary of its partitions.
type Node struct {
	Asset
	Counts      map[string]int `json:"partition_counts"`
	LastSuccess *time.Time     `json:"last_success,omitempty"`
	Fresh       *bool          `json:"fresh,omitempty"`
}

// MarshalJSON writes the asset's fields and the node's side by side (the embedded Asset's
// own MarshalJSON would otherwise hide the node's fields).
func (n Node) MarshalJSON() ([]byte, error) {
	return pipeline.MergeJSON(n.Asset, struct {
		Counts      map[string]int `json:"partition_counts"`
		LastSuccess *time.Time     `json:"last_success,omitempty"`
		Fresh       *bool          `json:"fresh,omitempty"`
	}{n.Counts, n.LastSuccess, n.Fresh})
}

// Graph returns every asset of defs, upstreams first, with partition status counts.
func Graph(ctx context.Context, st Store, defs *pipeline.Definitions, now time.Time) ([]Node, error) {
	done, err := st.LastSuccess(ctx)
	if err != nil {
		return nil, err
	}
	var out []Node
	for _, a := range defs.Assets() {
		ps, err := PartitionsOf(ctx, st, defs, a, now)
		if err != nil {
			return nil, err
		}
		n := Node{Asset: a, Counts: map[string]int{}}
		for _, p := range ps {
			n.Counts[p.Status]++
		}
		if t, ok := done[a.Name]; ok {
			n.LastSuccess = &t
			if a.Freshness > 0 {
				fresh := now.Sub(t) <= a.Freshness
				n.Fresh = &fresh
			}
		}
		out = append(out, n)
	}
	return out, nil
}
