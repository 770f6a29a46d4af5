// Package assets derives the status of each asset partition (materialized, failed,
// missing, stale, fresh) from recorded materializations and the asset graph that jobs
// declare (package pipeline), and plans backfills over it.
package assets

import (
	"slices"
	"time"

	"github.com/curiodata/curio/pipeline"
)

// Asset is a declared data asset (see package pipeline, where jobs declare them).
type Asset = pipeline.Asset

// CheckResult is the outcome of one asset check.
type CheckResult = pipeline.CheckResult

// Asset names of the built-in jobs.
const (
	CatalogItems   = "catalog.items"
	ScrapedPages   = "scrape.raw_pages"
	SearchIndex    = "search.index"
	ServingCatalog = "serving.catalog"
	RawEvents      = "events.raw_events"
	UploadsHourly  = "agg.upload_hourly"
	SimilarItems   = "model.similar"
	PageRank       = "model.pagerank"
	AdTargets      = "model.ads"
	TermsTrending  = "terms.trending"
	TopicModel     = "model.topics"
)

// PartitionKey formats an hour partition key.
func PartitionKey(hr time.Time) string { return pipeline.HourlyPartitions.Key(hr) }

// ParsePartition reads an hour partition key (2006-01-02T15), a date or an RFC 3339 time
// and returns the start of its hour.
func ParsePartition(s string) (time.Time, error) { return pipeline.HourlyPartitions.ParseTime(s) }

// Hours lists the hour partition keys in [from, to).
func Hours(from, to time.Time) []string { return pipeline.HourlyPartitions.KeysBetween(from, to) }

// Materialization is one recorded run's outcome for one asset partition.
type Materialization struct {
	Asset       string        `json:"asset"`
	Partition   string        `json:"partition"` // "" for unpartitioned assets
	Status      string        `json:"status"`    // materialized or failed
	WorkflowID  string        `json:"workflow_id"`
	RunID       string        `json:"run_id"`
	Rows        int64         `json:"rows"`
	DataVersion string        `json:"data_version"`
	StartedAt   time.Time     `json:"started_at"`
	FinishedAt  time.Time     `json:"finished_at"`
	Checks      []CheckResult `json:"checks,omitempty"`
	Error       string        `json:"error,omitempty"`
}

// Partition statuses.
const (
	StatusMaterialized = "materialized"
	StatusFailed       = "failed"
	StatusMissing      = "missing"
	StatusStale        = "stale"
)

// PartitionStatus is a partition's current state.
type PartitionStatus struct {
	Partition string           `json:"partition"`
	Status    string           `json:"status"`
	Last      *Materialization `json:"last,omitempty"`
	Fresh     *bool            `json:"fresh,omitempty"`
}

// UpstreamDone tells when an upstream's partitions that partition key depends on last
// succeeded (the newest of them); false when they never did.
type UpstreamDone func(up pipeline.Upstream, key string) (time.Time, bool)

// Statuses derives the status of each expected partition of asset from its latest
// materializations (by partition) and when its upstreams last succeeded: a success older
// than an upstream's newer success (through the upstream's partition mapping) is stale.
func Statuses(a Asset, expected []string, latest map[string]Materialization, upstreamDone UpstreamDone, now time.Time) []PartitionStatus {
	keys := slices.Clone(expected)
	for p := range latest {
		if !slices.Contains(keys, p) {
			keys = append(keys, p)
		}
	}
	slices.Sort(keys)
	out := make([]PartitionStatus, 0, len(keys))
	for _, p := range keys {
		ps := PartitionStatus{Partition: p, Status: StatusMissing}
		if m, ok := latest[p]; ok {
			ps.Last = &m
			ps.Status = m.Status
			if m.Status == StatusMaterialized {
				for _, up := range a.Upstreams {
					if t, ok := upstreamDone(up, p); ok && t.After(m.FinishedAt) {
						ps.Status = StatusStale
					}
				}
				if a.Freshness > 0 {
					fresh := now.Sub(m.FinishedAt) <= a.Freshness
					ps.Fresh = &fresh
				}
			}
		}
		out = append(out, ps)
	}
	return out
}

// LastSuccessOf is an UpstreamDone that looks at each upstream as a whole.
func LastSuccessOf(done map[string]time.Time) UpstreamDone {
	return func(up pipeline.Upstream, _ string) (time.Time, bool) {
		t, ok := done[up.Asset]
		return t, ok
	}
}

// Select returns the partitions whose status is in only (all when only is empty).
func Select(statuses []PartitionStatus, only []string) []string {
	var out []string
	for _, s := range statuses {
		if len(only) == 0 || slices.Contains(only, s.Status) {
			out = append(out, s.Partition)
		}
	}
	return out
}
