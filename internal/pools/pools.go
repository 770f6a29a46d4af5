// Package pools enforces the concurrency pools that jobs declare (pipeline.Job.Pools, for
// example `mysql-publish: 1` or `scrape: 2`): at most a pool's limit of runs of the jobs
// that name it run at once, however they were started.
//
// A worker interceptor (NewInterceptor) wraps every run of a job with pools: it takes a
// slot of each pool (activity AcquirePoolSlots, polled by its retry policy while a pool is
// full, with a message naming the holders that the Temporal UI shows), runs the workflow,
// then gives the slots back (ReleasePoolSlots), also when the workflow failed or was
// cancelled. The slots live in PostgreSQL (postgres.PoolStore): a run takes all its pools
// or none, first come first served, so a run never holds one pool while it waits for
// another; runs that ended without releasing (terminated, timed out) are found through
// Temporal and their slots reclaimed when they block another run. A child run of a job in
// the same pool as its parent shares the parent's slot instead of waiting for it forever.
//
// Monitor reports each pool's limit, holders and waiting runs (`curio pools`, GET
// /api/pools).
package pools

import (
	"context"
	"slices"

	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
)

// Usage is one pool: its limit, the jobs that run in it, and the runs holding its slots
// or waiting for one (in the order they will get them).
type Usage struct {
	Pool string `json:"pool"`
	// Limit is the declared limit; 0 for a pool no job declares any more that still has
	// slots recorded.
	Limit   int                 `json:"limit"`
	Jobs    []string            `json:"jobs"`
	Holders []postgres.PoolSlot `json:"holders"`
	Waiting []postgres.PoolSlot `json:"waiting"`
}

// Monitor reads the pools' usage.
type Monitor struct {
	Definitions *pipeline.Definitions
	Store       *postgres.PoolStore
}

// Usage lists every declared pool, and any other pool that has slots recorded, by name.
func (m *Monitor) Usage(ctx context.Context) ([]Usage, error) {
	slots, err := m.Store.Slots(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Usage{}
	var names []string
	get := func(name string) *Usage {
		u, ok := byName[name]
		if !ok {
			u = &Usage{Pool: name, Jobs: []string{}, Holders: []postgres.PoolSlot{}, Waiting: []postgres.PoolSlot{}}
			byName[name] = u
			names = append(names, name)
		}
		return u
	}
	for _, j := range m.Definitions.Jobs() {
		for _, p := range j.Pools {
			u := get(p.Name)
			u.Limit = p.Limit
			if !slices.Contains(u.Jobs, j.Name) {
				u.Jobs = append(u.Jobs, j.Name)
			}
		}
	}
	for _, s := range slots {
		u := get(s.Pool)
		if s.AcquiredAt != nil {
			u.Holders = append(u.Holders, s)
		} else {
			u.Waiting = append(u.Waiting, s)
		}
	}
	slices.Sort(names)
	out := make([]Usage, len(names))
	for i, n := range names {
		slices.Sort(byName[n].Jobs)
		out[i] = *byName[n]
	}
	return out, nil
}
