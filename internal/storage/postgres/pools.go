package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolStore owns pool_slots: the slots of the concurrency pools that runs hold or wait
// for (package internal/pools enforces the pools; pipeline.Pool declares them).
type PoolStore struct {
	pool *pgxpool.Pool
}

// Pools returns the store of the concurrency pools' slots.
func (s *Store) Pools() *PoolStore { return &PoolStore{pool: s.pool} }

// PoolRun is one workflow run, and its job (the workflow type) for display.
type PoolRun struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Job        string `json:"job,omitempty"`
}

// String names the run for messages: "JOB WORKFLOW_ID (run RUN_ID)".
func (r PoolRun) String() string {
	s := r.WorkflowID + " (run " + r.RunID + ")"
	if r.Job != "" {
		s = r.Job + " " + s
	}
	return s
}

// PoolClaim asks for one slot of each pool of Limits for Run, all or none.
type PoolClaim struct {
	Run PoolRun
	// Parent is the run that started Run as a child, if any: where it holds a slot of a
	// pool, Run shares that slot rather than waiting for one its parent may never free.
	Parent PoolRun
	Limits map[string]int // pool name → limit
}

// PoolSlot is a run's place in a pool: holding a slot since AcquiredAt, or waiting since
// RequestedAt.
type PoolSlot struct {
	Pool string `json:"pool"`
	PoolRun
	RequestedAt time.Time  `json:"requested_at"`
	AcquiredAt  *time.Time `json:"acquired_at,omitempty"`
	Shared      bool       `json:"shared,omitempty"` // shares its parent run's slot; not counted
}

// PoolBlock is a pool that has no slot for a claim yet.
type PoolBlock struct {
	Pool    string
	Limit   int
	Holders []PoolSlot // the runs holding its slots
	Ahead   []PoolSlot // the runs that asked earlier and still wait
}

// PoolGrant is the outcome of a claim: Acquired, or the pools that block it.
type PoolGrant struct {
	Acquired bool
	Blocked  []PoolBlock
}

// poolLockKey is the advisory lock key of a pool: claims on one pool serialize on it.
func poolLockKey(pool string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("curio/pool/" + pool))
	return int64(h.Sum64())
}

// Acquire claims a slot of every pool of c for c.Run, first come first served: a pool has
// a slot for the run when the runs holding its slots (shared ones aside) and those that
// asked earlier and still wait are fewer than its limit. With a slot in every pool the run
// takes them all; otherwise it takes none and keeps its place in the queues, so the
// first claim's time counts. Claiming again for a run that holds its slots acquires
// nothing new. Claims on the same pool serialize on an advisory lock per pool, taken in
// one order.
func (s *PoolStore) Acquire(ctx context.Context, c PoolClaim) (PoolGrant, error) {
	names := make([]string, 0, len(c.Limits))
	for name, limit := range c.Limits {
		if name == "" || limit <= 0 {
			return PoolGrant{}, fmt.Errorf("pool %q: limit %d: want a name and a positive limit", name, limit)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	keys := make([]int64, len(names))
	for i, n := range names {
		keys[i] = poolLockKey(n)
	}
	slices.Sort(keys) // one lock order for every claim, so two never wait on each other
	keys = slices.Compact(keys)
	var g PoolGrant
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		g = PoolGrant{Acquired: true}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, k); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		for _, name := range names {
			b, ok, err := claimOne(ctx, tx, name, c.Limits[name], c)
			if err != nil {
				return fmt.Errorf("pool %s: %w", name, err)
			}
			if !ok {
				g.Acquired = false
				g.Blocked = append(g.Blocked, b)
			}
		}
		if !g.Acquired {
			return nil // commit: the run keeps its place in every queue
		}
		_, err := tx.Exec(ctx, `UPDATE pool_slots SET acquired_at = now()
			WHERE workflow_id = $1 AND run_id = $2 AND pool = ANY($3) AND acquired_at IS NULL`,
			c.Run.WorkflowID, c.Run.RunID, names)
		return err
	})
	if err != nil {
		return PoolGrant{}, fmt.Errorf("claim pools %s for %s: %w", strings.Join(names, ", "), c.Run, err)
	}
	return g, nil
}

// claimOne queues c.Run in pool (once) and reports whether the pool has a slot for it;
// when not, what blocks it. It shares the parent's slot where the parent holds one.
func claimOne(ctx context.Context, tx pgx.Tx, pool string, limit int, c PoolClaim) (PoolBlock, bool, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO pool_slots (pool, workflow_id, run_id, job) VALUES ($1, $2, $3, $4)
		ON CONFLICT (pool, workflow_id, run_id) DO NOTHING`, pool, c.Run.WorkflowID, c.Run.RunID, c.Run.Job); err != nil {
		return PoolBlock{}, false, err
	}
	if c.Parent.WorkflowID != "" {
		tag, err := tx.Exec(ctx, `UPDATE pool_slots SET acquired_at = coalesce(acquired_at, now()), shared = true
			WHERE pool = $1 AND workflow_id = $2 AND run_id = $3 AND EXISTS (SELECT 1 FROM pool_slots p
				WHERE p.pool = $1 AND p.workflow_id = $4 AND p.run_id = $5 AND p.acquired_at IS NOT NULL)`,
			pool, c.Run.WorkflowID, c.Run.RunID, c.Parent.WorkflowID, c.Parent.RunID)
		if err != nil {
			return PoolBlock{}, false, err
		}
		if tag.RowsAffected() > 0 {
			return PoolBlock{}, true, nil
		}
	}
	var seq int64
	var held bool
	if err := tx.QueryRow(ctx, `SELECT seq, acquired_at IS NOT NULL FROM pool_slots WHERE pool = $1 AND workflow_id = $2 AND run_id = $3`,
		pool, c.Run.WorkflowID, c.Run.RunID).Scan(&seq, &held); err != nil {
		return PoolBlock{}, false, err
	}
	if held {
		return PoolBlock{}, true, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+slotColumns+` FROM pool_slots
		WHERE pool = $1 AND NOT shared AND (acquired_at IS NOT NULL OR seq < $2)
		ORDER BY acquired_at IS NULL, seq`, pool, seq)
	if err != nil {
		return PoolBlock{}, false, err
	}
	before, err := pgx.CollectRows(rows, scanSlot)
	if err != nil {
		return PoolBlock{}, false, err
	}
	if len(before) < limit {
		return PoolBlock{}, true, nil
	}
	b := PoolBlock{Pool: pool, Limit: limit}
	for _, s := range before {
		if s.AcquiredAt != nil {
			b.Holders = append(b.Holders, s)
		} else {
			b.Ahead = append(b.Ahead, s)
		}
	}
	return b, false, nil
}

const slotColumns = `pool, workflow_id, run_id, job, requested_at, acquired_at, shared`

func scanSlot(row pgx.CollectableRow) (PoolSlot, error) {
	var s PoolSlot
	err := row.Scan(&s.Pool, &s.WorkflowID, &s.RunID, &s.Job, &s.RequestedAt, &s.AcquiredAt, &s.Shared)
	return s, err
}

// Release gives back every slot the run holds or waits for, and returns how many rows
// it deleted. Releasing a run that holds nothing is not an error.
func (s *PoolStore) Release(ctx context.Context, workflowID, runID string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM pool_slots WHERE workflow_id = $1 AND run_id = $2`, workflowID, runID)
	if err != nil {
		return 0, fmt.Errorf("release pool slots of %s (run %s): %w", workflowID, runID, err)
	}
	return tag.RowsAffected(), nil
}

// Slots lists every pool's slots: by pool, the holders first, then the waiting runs in
// the order they get slots.
func (s *PoolStore) Slots(ctx context.Context) ([]PoolSlot, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+slotColumns+` FROM pool_slots ORDER BY pool, acquired_at IS NULL, seq`)
	if err != nil {
		return nil, fmt.Errorf("pool slots: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanSlot)
	if err != nil {
		return nil, fmt.Errorf("pool slots: %w", err)
	}
	return out, nil
}
