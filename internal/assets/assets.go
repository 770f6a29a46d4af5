// Package assets declares the data assets Curio's workflows materialize (the Dagster-style
// layer on top of Temporal), their lineage and partitioning, and derives each partition's
// status (materialized, failed, missing, stale) from recorded materializations.
package assets

import (
	"fmt"
	"slices"
	"time"
)

// Partitioning of an asset.
const (
	Unpartitioned = ""
	Hourly        = "hour"
)

// Asset is one declared data asset.
type Asset struct {
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Workflow     string        `json:"workflow"` // the workflow that materializes it
	Partitioning string        `json:"partitioning,omitempty"`
	Upstreams    []string      `json:"upstreams"`
	MaxAge       time.Duration `json:"-"` // older than this is not fresh; 0: no freshness policy
	Checks       []string      `json:"checks,omitempty"`
}

// Asset names.
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

// Registry returns every declared asset, upstreams before downstreams.
func Registry() []Asset {
	return []Asset{
		{Name: ScrapedPages, Workflow: "ScrapeCatalog", Upstreams: []string{},
			Description: "crawled IMDb/Artsy pages (raw zone), gzip bodies with fetch and parse outcome", MaxAge: 48 * time.Hour},
		{Name: CatalogItems, Workflow: "CatalogPipeline", Upstreams: []string{ScrapedPages},
			Description: "cleaned movies, artworks and artists in the warehouse (raw rows kept in raw_records)",
			Checks:      []string{"no_empty_titles", "no_duplicate_ids"}, MaxAge: 48 * time.Hour},
		{Name: SearchIndex, Workflow: "CatalogPipeline", Upstreams: []string{CatalogItems},
			Description: "BM25 index segments of one catalog version", Checks: []string{"row_count_within_bounds"}, MaxAge: 48 * time.Hour},
		{Name: ServingCatalog, Workflow: "CatalogPipeline", Upstreams: []string{SearchIndex},
			Description: "catalog version published to MySQL and served by the API", MaxAge: 48 * time.Hour},
		{Name: RawEvents, Workflow: "LandEvents", Partitioning: Hourly, Upstreams: []string{},
			Description: "user-activity events landed from Kafka, one partition per hour", MaxAge: 2 * time.Hour},
		{Name: UploadsHourly, Workflow: "AggregateUploads", Partitioning: Hourly, Upstreams: []string{RawEvents},
			Description: "upload counts per country and hour", MaxAge: 2 * time.Hour},
		{Name: SimilarItems, Workflow: "BuildSimilarity", Upstreams: []string{CatalogItems},
			Description: "top-k similar items per item", MaxAge: 26 * time.Hour},
		{Name: PageRank, Workflow: "ClickstreamPageRank", Upstreams: []string{RawEvents},
			Description: "PageRank of items over click edges", MaxAge: 2 * time.Hour},
		{Name: AdTargets, Workflow: "TargetAds", Upstreams: []string{RawEvents, CatalogItems},
			Description: "users to target per category, with products", MaxAge: 2 * time.Hour},
		{Name: TermsTrending, Workflow: "TermsRollup", Partitioning: Hourly, Upstreams: []string{},
			Description: "top terms and #tags per 1-minute and 1-hour window (speed line), checked and pruned hourly",
			Checks:      []string{"hour_equals_sum_of_minutes"}, MaxAge: 2 * time.Hour},
		{Name: TopicModel, Workflow: "BuildTopics", Upstreams: []string{CatalogItems},
			Description: "LDA topics over movie plots and artwork descriptions, with each item's topic mix",
			Checks:      []string{"heldout_perplexity_below_uniform"}, MaxAge: 26 * time.Hour},
	}
}

// Lookup returns the declared asset called name.
func Lookup(name string) (Asset, bool) {
	for _, a := range Registry() {
		if a.Name == name {
			return a, true
		}
	}
	return Asset{}, false
}

// Downstream returns every asset that depends on name, directly or not.
func Downstream(name string) []string {
	var out []string
	frontier := []string{name}
	for len(frontier) > 0 {
		cur := frontier[0]
		frontier = frontier[1:]
		for _, a := range Registry() {
			if slices.Contains(a.Upstreams, cur) && !slices.Contains(out, a.Name) {
				out = append(out, a.Name)
				frontier = append(frontier, a.Name)
			}
		}
	}
	return out
}

// PartitionKey formats an hour partition key.
func PartitionKey(hr time.Time) string { return hr.UTC().Truncate(time.Hour).Format("2006-01-02T15") }

// ParsePartition reads an hour partition key (2006-01-02T15) or an RFC 3339 time.
func ParsePartition(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15", s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Hour), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("partition %q: want an hour like 2026-11-23T10, a date or an RFC 3339 time", s)
}

// Hours lists the hour partition keys in [from, to).
func Hours(from, to time.Time) []string {
	var out []string
	for h := from.UTC().Truncate(time.Hour); h.Before(to); h = h.Add(time.Hour) {
		out = append(out, PartitionKey(h))
	}
	return out
}

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

// CheckResult is the outcome of one asset check.
type CheckResult struct {
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	Blocking bool   `json:"blocking"`
	Detail   string `json:"detail"`
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

// Statuses derives the status of each expected partition of asset from its latest
// materializations (by partition) and its upstreams' latest successful materialization
// times: a success older than an upstream's newer success is stale.
func Statuses(a Asset, expected []string, latest map[string]Materialization, upstreamDone map[string]time.Time, now time.Time) []PartitionStatus {
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
			m := m
			ps.Last = &m
			ps.Status = m.Status
			if m.Status == StatusMaterialized {
				for _, up := range a.Upstreams {
					if t, ok := upstreamDone[up]; ok && t.After(m.FinishedAt) {
						ps.Status = StatusStale
					}
				}
				if a.MaxAge > 0 {
					fresh := now.Sub(m.FinishedAt) <= a.MaxAge
					ps.Fresh = &fresh
				}
			}
		}
		out = append(out, ps)
	}
	return out
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
