package automation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/pipeline"
)

// defaultMaxRuns caps the runs one evaluation of a missing policy asks for.
const defaultMaxRuns = 4

// evaluateAsset returns the runs a's policies ask for at now.
func (e *Evaluator) evaluateAsset(ctx context.Context, a pipeline.Asset, now time.Time, sum *Summary) ([]candidate, error) {
	ps, err := assets.PartitionsOf(ctx, e.Assets, e.Defs, a, now)
	if err != nil {
		return nil, err
	}
	ups, err := e.upstreamLatest(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, p := range a.Automation {
		var cs []candidate
		switch p.Kind {
		case pipeline.Eager:
			cs = e.eager(a, p, ps, ups, now, sum)
		case pipeline.Missing:
			cs = e.missing(a, p, ps, ups, now, sum)
		case pipeline.OnCron:
			if cs, err = e.onCron(ctx, a, p, now, sum); err != nil {
				return nil, err
			}
		case pipeline.Freshness:
			cs = e.freshness(a, ps, now)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// upstreamLatest returns the latest materialization of each partition of a's upstreams
// that another job materializes (an upstream of the same job is materialized by the same
// run, so it never triggers one).
func (e *Evaluator) upstreamLatest(ctx context.Context, a pipeline.Asset) (map[string]map[string]assets.Materialization, error) {
	out := map[string]map[string]assets.Materialization{}
	for _, up := range a.Upstreams {
		u, ok := e.Defs.Asset(up.Asset)
		if !ok || u.Job == a.Job {
			continue
		}
		latest, err := e.Assets.LatestSuccesses(ctx, up.Asset) // a later failure does not hide a success
		if err != nil {
			return nil, err
		}
		out[up.Asset] = latest
	}
	return out, nil
}

// newestUpstream returns the newest successful upstream materialization that partition
// key of a reads (through the partition mappings).
func (e *Evaluator) newestUpstream(a pipeline.Asset, key string, ups map[string]map[string]assets.Materialization) (assets.Materialization, bool) {
	var newest assets.Materialization
	found := false
	e.eachUpstream(a, key, ups, func(_ string, latest map[string]assets.Materialization, keys []string) {
		consider := func(m assets.Materialization) {
			if m.Status == assets.StatusMaterialized && (!found || m.FinishedAt.After(newest.FinishedAt)) {
				newest, found = m, true
			}
		}
		if keys == nil {
			for _, m := range latest {
				consider(m)
			}
			return
		}
		for _, k := range keys {
			if m, ok := latest[k]; ok {
				consider(m)
			}
		}
	})
	return newest, found
}

// eachUpstream calls fn with each upstream of a that another job materializes, its latest
// materializations, and the keys partition key reads (nil: the whole upstream).
func (e *Evaluator) eachUpstream(a pipeline.Asset, key string, ups map[string]map[string]assets.Materialization,
	fn func(upstream string, latest map[string]assets.Materialization, keys []string)) {
	for _, up := range a.Upstreams {
		latest, ok := ups[up.Asset]
		if !ok {
			continue
		}
		u, _ := e.Defs.Asset(up.Asset)
		fn(up.Asset, latest, a.UpstreamPartitions(up, u, key))
	}
}

// version names an upstream materialization in a trigger: its partition, its data version
// (else when it finished) and its run, so that each materialization triggers once, even one
// that repeats an earlier data version.
func version(m assets.Materialization) string {
	v := m.DataVersion
	if v == "" {
		v = m.FinishedAt.UTC().Format(time.RFC3339Nano)
	}
	if m.Partition != "" && v != m.Partition {
		v = m.Partition + "/" + v
	}
	return v + "#" + shortRun(m.RunID)
}

func shortRun(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// eager asks for a run of each partition whose upstreams succeeded after its own last run
// started, once they have been quiet for the debounce window.
func (e *Evaluator) eager(a pipeline.Asset, p pipeline.Policy, ps []assets.PartitionStatus, ups map[string]map[string]assets.Materialization, now time.Time, sum *Summary) []candidate {
	var out []candidate
	for _, st := range ps {
		m, ok := e.newestUpstream(a, st.Partition, ups)
		if !ok {
			continue
		}
		if st.Last != nil && !m.FinishedAt.After(st.Last.StartedAt) {
			continue // the last run already read it
		}
		if wait := p.Debounce - now.Sub(m.FinishedAt); wait > 0 {
			sum.skip(Skipped{Asset: a.Name, Partition: st.Partition,
				Reason: fmt.Sprintf("eager: debouncing %s for %s more", m.Asset, wait.Round(time.Second))})
			continue
		}
		out = append(out, candidate{asset: a.Name, job: a.Job, partition: st.Partition, source: string(pipeline.Eager),
			trigger: "eager:" + m.Asset + "@" + version(m)})
	}
	return out
}

// missing asks for the missing partitions inside the lookback window, newest first, at
// most MaxRuns of them, once the upstream partitions they read exist.
func (e *Evaluator) missing(a pipeline.Asset, p pipeline.Policy, ps []assets.PartitionStatus, ups map[string]map[string]assets.Materialization, now time.Time, sum *Summary) []candidate {
	limit := p.MaxRuns
	if limit == 0 {
		limit = defaultMaxRuns
	}
	var out []candidate
	for i := len(ps) - 1; i >= 0; i-- { // keys sort oldest first
		st := ps[i]
		if st.Status != assets.StatusMissing {
			continue
		}
		if a.Partitioning.TimeBased() {
			t, err := a.Partitioning.ParseTime(st.Partition)
			if err != nil || t.Before(now.Add(-p.Lookback)) {
				continue
			}
		}
		if why := e.upstreamsMissing(a, st.Partition, ups); why != "" {
			sum.skip(Skipped{Asset: a.Name, Partition: st.Partition, Reason: "missing: waiting for " + why})
			continue
		}
		if len(out) == limit {
			sum.skip(Skipped{Asset: a.Name, Partition: st.Partition, Reason: fmt.Sprintf("missing: at most %d runs per evaluation", limit)})
			continue
		}
		out = append(out, candidate{asset: a.Name, job: a.Job, partition: st.Partition, source: string(pipeline.Missing),
			trigger: "missing:" + a.Name + keySuffix(st.Partition)})
	}
	return out
}

func keySuffix(partition string) string {
	if partition == "" {
		return ""
	}
	return "/" + partition
}

// upstreamsMissing names an upstream partition that partition key reads and that has not
// succeeded ("" when all have).
func (e *Evaluator) upstreamsMissing(a pipeline.Asset, key string, ups map[string]map[string]assets.Materialization) string {
	missing := ""
	e.eachUpstream(a, key, ups, func(upstream string, latest map[string]assets.Materialization, keys []string) {
		switch {
		case missing != "":
		case keys == nil:
			if !slices.ContainsFunc(mapValues(latest), func(m assets.Materialization) bool { return m.Status == assets.StatusMaterialized }) {
				missing = upstream
			}
		default:
			for _, k := range keys {
				if m, ok := latest[k]; !ok || m.Status != assets.StatusMaterialized {
					missing = upstream + keySuffix(k)
					return
				}
			}
		}
	})
	return missing
}

func mapValues(m map[string]assets.Materialization) []assets.Materialization {
	out := make([]assets.Materialization, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// onCron asks for a run at the latest cron tick since the policy's cursor; a new policy
// starts its cursor at now (it does not fire for ticks before it existed).
func (e *Evaluator) onCron(ctx context.Context, a pipeline.Asset, p pipeline.Policy, now time.Time, sum *Summary) ([]candidate, error) {
	c, err := pipeline.ParseCron(p.Cron)
	if err != nil {
		return nil, err
	}
	name := string(pipeline.OnCron) + ":" + a.Name + ":" + p.Cron
	cursor, ok, err := e.Store.Cursor(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, e.Store.SetCursor(ctx, name, now)
	}
	tick, ok := c.Latest(cursor, now)
	if !ok {
		return nil, nil
	}
	var out []candidate
	for _, key := range currentPartitions(a.Partitioning, tick) {
		// The cursor moves once the run is claimed, or skipped because one is in flight (a
		// skipped tick is not made up later); Tick moves it.
		out = append(out, candidate{asset: a.Name, job: a.Job, partition: key, source: string(pipeline.OnCron),
			trigger: "on_cron:" + p.Cron + "@" + tick.UTC().Format(time.RFC3339), cursor: name, tick: tick})
	}
	return out, nil
}

// currentPartitions are the partitions a time-triggered policy materializes at t: the last
// complete time partition, every static key, or the one partition.
func currentPartitions(p pipeline.Partitioning, t time.Time) []string {
	switch {
	case p.Kind == pipeline.Static:
		return p.Keys
	case p.TimeBased():
		return []string{p.Key(p.Start(t).Add(-p.Step()))}
	}
	return []string{""}
}

// freshness asks for a run when the newest success is older than the asset's Freshness;
// one run per overdue success.
func (e *Evaluator) freshness(a pipeline.Asset, ps []assets.PartitionStatus, now time.Time) []candidate {
	var last time.Time
	for _, st := range ps {
		if st.Last != nil && st.Last.Status == assets.StatusMaterialized && st.Last.FinishedAt.After(last) {
			last = st.Last.FinishedAt
		}
	}
	if last.IsZero() || now.Sub(last) <= a.Freshness {
		return nil
	}
	var out []candidate
	for _, key := range currentPartitions(a.Partitioning, now) {
		out = append(out, candidate{asset: a.Name, job: a.Job, partition: key, source: string(pipeline.Freshness),
			trigger: "freshness:" + a.Name + "@" + last.UTC().Format(time.RFC3339)})
	}
	return out
}
