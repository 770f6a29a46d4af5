package pipeline

import (
	"context"
	"encoding/json"
	"time"
)

// Asset is a data asset a job materializes: a table, a model, a published catalog.
type Asset struct {
	Name        string
	Description string
	// Job is the job that materializes the asset; Definitions fills it in from the job
	// that declares the asset.
	Job          string
	Partitioning Partitioning
	Upstreams    []Upstream
	Checks       []Check
	// Freshness is how old the last success may be before the asset is overdue; 0: no
	// freshness policy.
	Freshness time.Duration
	// Automation are the policies under which the automation workflow materializes the
	// asset by itself (EagerPolicy, CronPolicy, MissingPolicy, FreshnessPolicy).
	Automation []Policy
	// PartitionInput builds the job's input that materializes one partition (a key of
	// Partitioning); backfills use it. Unpartitioned assets may leave it nil: their job
	// runs with its default input.
	PartitionInput func(key string) (any, error)
}

// MappingKind says which partitions of an upstream a partition depends on.
type MappingKind string

// Partition mappings.
const (
	// Identity: partition k depends on the upstream's partition k (the default for two
	// assets partitioned alike).
	Identity MappingKind = "identity"
	// AllPartitions: every partition depends on the whole upstream (the default when the
	// partitionings differ).
	AllPartitions MappingKind = "all"
	// TimeWindow: time partition [t, t+step) depends on the upstream's partitions in
	// [t+step-Window, t+step), e.g. a daily asset over 24 hourly partitions.
	TimeWindow MappingKind = "window"
)

// Upstream is an asset this asset reads, and how its partitions map.
type Upstream struct {
	Asset   string
	Mapping MappingKind // "" picks Identity or AllPartitions (see the constants)
	Window  time.Duration
}

// On declares an upstream with the default mapping.
func On(asset string) Upstream { return Upstream{Asset: asset} }

// OnAll declares an upstream every partition depends on as a whole.
func OnAll(asset string) Upstream { return Upstream{Asset: asset, Mapping: AllPartitions} }

// OnWindow declares a time-window upstream: each partition reads the upstream's
// partitions in the window that ends where the partition ends.
func OnWindow(asset string, window time.Duration) Upstream {
	return Upstream{Asset: asset, Mapping: TimeWindow, Window: window}
}

// Check is a data quality check of an asset. A failing blocking check fails the
// materialization and stops downstream assets; a warning is recorded and reported.
type Check struct {
	Name        string
	Description string
	Blocking    bool
	// Run evaluates the check on a materialized partition. Built-in jobs evaluate their
	// checks in their own activities and leave it nil; Materialize runs it for user jobs.
	Run CheckFunc
}

// CheckFunc evaluates a check of one partition ("" when unpartitioned).
type CheckFunc func(ctx context.Context, res Resources, partition string) (CheckResult, error)

// CheckResult is the outcome of one check.
type CheckResult struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Blocking bool   `json:"blocking"`
	Detail   string `json:"detail"`
}

// assetJSON is the shape the API serves for an asset (the web app reads it).
type assetJSON struct {
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	Job          string         `json:"workflow"`
	Partitioning Partitioning   `json:"partitioning,omitempty"`
	Keys         []string       `json:"partition_keys,omitempty"`
	Upstreams    []string       `json:"upstreams"`
	Mappings     []upstreamJSON `json:"upstream_mappings,omitempty"`
	Checks       []string       `json:"checks,omitempty"`
	CheckDetails []checkJSON    `json:"check_details,omitempty"`
	Freshness    float64        `json:"freshness_seconds,omitempty"`
	Automation   []policyJSON   `json:"automation,omitempty"`
}

type policyJSON struct {
	Kind     PolicyKind `json:"kind"`
	Debounce float64    `json:"debounce_seconds,omitempty"`
	Cron     string     `json:"cron,omitempty"`
	Lookback float64    `json:"lookback_seconds,omitempty"`
}

type upstreamJSON struct {
	Asset   string      `json:"asset"`
	Mapping MappingKind `json:"mapping"`
	Window  float64     `json:"window_seconds,omitempty"`
}

type checkJSON struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Blocking    bool   `json:"blocking"`
}

// MarshalJSON writes the asset as the API serves it.
func (a Asset) MarshalJSON() ([]byte, error) {
	j := assetJSON{Name: a.Name, Description: a.Description, Job: a.Job, Partitioning: a.Partitioning,
		Upstreams: []string{}, Freshness: a.Freshness.Seconds()}
	if a.Partitioning.Kind == Static {
		j.Keys = a.Partitioning.Keys
	}
	for _, u := range a.Upstreams {
		j.Upstreams = append(j.Upstreams, u.Asset)
		j.Mappings = append(j.Mappings, upstreamJSON{Asset: u.Asset, Mapping: u.Mapping, Window: u.Window.Seconds()})
	}
	for _, p := range a.Automation {
		j.Automation = append(j.Automation, policyJSON{Kind: p.Kind, Debounce: p.Debounce.Seconds(), Cron: p.Cron, Lookback: p.Lookback.Seconds()})
	}
	for _, c := range a.Checks {
		j.Checks = append(j.Checks, c.Name)
		j.CheckDetails = append(j.CheckDetails, checkJSON{Name: c.Name, Description: c.Description, Blocking: c.Blocking})
	}
	return json.Marshal(j)
}

// UpstreamPartitions returns the partition keys of up that partition key of a depends on;
// nil means the whole upstream.
func (a Asset) UpstreamPartitions(up Upstream, upstream Asset, key string) []string {
	switch up.Mapping {
	case Identity:
		return []string{key}
	case TimeWindow:
		start, err := a.Partitioning.ParseTime(key)
		if err != nil || !upstream.Partitioning.TimeBased() {
			return nil
		}
		end := start.Add(a.Partitioning.Step())
		return upstream.Partitioning.KeysBetween(end.Add(-up.Window), end)
	}
	return nil
}

// MergeJSON encodes values (each a JSON object) as one object with all their fields; a
// later value's field replaces an earlier one of the same name.
func MergeJSON(values ...any) ([]byte, error) {
	merged := map[string]json.RawMessage{}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, err
		}
		for k, f := range fields {
			merged[k] = f
		}
	}
	return json.Marshal(merged)
}
