package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/storage/postgres"
)

func poolRun(id string) postgres.PoolRun {
	return postgres.PoolRun{WorkflowID: id, RunID: "run-" + id, Job: "Job"}
}

func claim(t *testing.T, st *postgres.PoolStore, c postgres.PoolClaim) postgres.PoolGrant {
	t.Helper()
	g, err := st.Acquire(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPoolStoreAcquireRelease(t *testing.T) {
	ctx := context.Background()
	st := open(t).Pools()
	two := map[string]int{"scrape": 2}

	t.Run("up to the limit", func(t *testing.T) {
		for _, id := range []string{"a", "b"} {
			if g := claim(t, st, postgres.PoolClaim{Run: poolRun(id), Limits: two}); !g.Acquired {
				t.Fatalf("%s: not acquired: %+v", id, g.Blocked)
			}
		}
		g := claim(t, st, postgres.PoolClaim{Run: poolRun("c"), Limits: two})
		if g.Acquired || len(g.Blocked) != 1 {
			t.Fatalf("third run of a pool of 2: %+v", g)
		}
		b := g.Blocked[0]
		if b.Pool != "scrape" || b.Limit != 2 || len(b.Holders) != 2 || b.Holders[0].WorkflowID != "a" || b.Holders[1].WorkflowID != "b" || len(b.Ahead) != 0 {
			t.Errorf("blocked by %+v, want a and b holding scrape (limit 2)", b)
		}
	})

	t.Run("idempotent for the same run", func(t *testing.T) {
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("a"), Limits: two}); !g.Acquired {
			t.Fatalf("a holder claiming again: %+v", g)
		}
		slots, err := st.Slots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(slots) != 3 {
			t.Errorf("slots = %+v, want a and b holding, c waiting", slots)
		}
	})

	t.Run("first come first served", func(t *testing.T) {
		// d asks after c: when b leaves, c gets the slot and d still waits.
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("d"), Limits: two}); g.Acquired || len(g.Blocked[0].Ahead) != 1 {
			t.Fatalf("d: %+v, want blocked with c ahead", g)
		}
		if n, err := st.Release(ctx, "b", "run-b"); err != nil || n != 1 {
			t.Fatalf("release b: %d, %v", n, err)
		}
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("d"), Limits: two}); g.Acquired {
			t.Fatal("d jumped the queue ahead of c")
		}
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("c"), Limits: two}); !g.Acquired {
			t.Fatalf("c: %+v", g)
		}
	})

	t.Run("all pools or none", func(t *testing.T) {
		both := map[string]int{"scrape": 2, "mysql-publish": 1}
		g := claim(t, st, postgres.PoolClaim{Run: poolRun("e"), Limits: both})
		if g.Acquired || len(g.Blocked) != 1 || g.Blocked[0].Pool != "scrape" {
			t.Fatalf("e: %+v, want blocked by scrape only", g)
		}
		// e waits for scrape without holding mysql-publish, and keeps its place: f, which
		// asks for mysql-publish after e, waits behind it.
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("f"), Limits: map[string]int{"mysql-publish": 1}}); g.Acquired ||
			len(g.Blocked[0].Holders) != 0 || len(g.Blocked[0].Ahead) != 1 || g.Blocked[0].Ahead[0].WorkflowID != "e" {
			t.Fatalf("f: %+v, want waiting behind e", g)
		}
		for _, id := range []string{"a", "c", "d"} {
			if _, err := st.Release(ctx, id, "run-"+id); err != nil {
				t.Fatal(err)
			}
		}
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("e"), Limits: both}); !g.Acquired {
			t.Fatalf("e after the scrape holders left: %+v", g)
		}
	})

	t.Run("a child shares its parent's slot", func(t *testing.T) {
		one := map[string]int{"mysql-publish": 1}
		g := claim(t, st, postgres.PoolClaim{Run: poolRun("e-child"), Parent: poolRun("e"), Limits: one})
		if !g.Acquired {
			t.Fatalf("child of the holder: %+v", g)
		}
		// The shared slot is not counted: f is still next once e leaves.
		if _, err := st.Release(ctx, "e", "run-e"); err != nil {
			t.Fatal(err)
		}
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("f"), Limits: one}); !g.Acquired {
			t.Fatalf("f: %+v", g)
		}
		// A child of a run that holds nothing waits like any run.
		if g := claim(t, st, postgres.PoolClaim{Run: poolRun("g"), Parent: poolRun("nobody"), Limits: one}); g.Acquired {
			t.Fatal("child of a run without a slot acquired a full pool")
		}
	})

	t.Run("release", func(t *testing.T) {
		if n, err := st.Release(ctx, "nobody", "run-nobody"); err != nil || n != 0 {
			t.Errorf("release of a run without slots: %d, %v", n, err)
		}
		if _, err := st.Acquire(ctx, postgres.PoolClaim{Run: poolRun("h"), Limits: map[string]int{"x": 0}}); err == nil {
			t.Error("a limit of 0 was accepted")
		}
	})
}

// TestPoolStoreConcurrentClaims runs 20 runs that each poll for a slot of a pool of 3,
// hold it a moment and release it: never more than 3 hold a slot at once, and all finish.
func TestPoolStoreConcurrentClaims(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := open(t).Pools()
	const runs, limit = 20, 3
	// A second pool every other run also takes, so claims on several pools interleave.
	var inUse, most, done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for i := range runs {
		wg.Go(func() {
			r := poolRun(fmt.Sprintf("w%02d", i))
			limits := map[string]int{"p": limit}
			if i%2 == 0 {
				limits["q"] = 2
			}
			for {
				g, err := st.Acquire(ctx, postgres.PoolClaim{Run: r, Limits: limits})
				if err != nil {
					errs <- err
					return
				}
				if g.Acquired {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			n := inUse.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(10 * time.Millisecond)
			inUse.Add(-1)
			if _, err := st.Release(ctx, r.WorkflowID, r.RunID); err != nil {
				errs <- err
				return
			}
			done.Add(1)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if done.Load() != runs || most.Load() > limit || most.Load() < 2 {
		t.Errorf("%d of %d runs done, at most %d at once (limit %d)", done.Load(), runs, most.Load(), limit)
	}
}
