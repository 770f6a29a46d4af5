package similarity

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/curiodata/curio/internal/similar"
)

func TestModelCacheLoadsOncePerVersion(t *testing.T) {
	var c modelCache
	var loads atomic.Int32
	want := similar.Build([]similar.Doc{{ID: "a", Type: "t", Title: "x"}})
	load := func(context.Context) (*similar.Model, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond)
		return want, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := c.acquire(context.Background(), "v1", load)
			if err != nil || m != want {
				t.Errorf("acquire: %v, %v", m, err)
				return
			}
			c.release("v1")
		}()
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 8 concurrent shards of one version, want 1", n)
	}
	// A new version replaces it.
	if _, err := c.acquire(context.Background(), "v2", load); err != nil {
		t.Fatal(err)
	}
	c.release("v2")
	c.release("v1") // a late release of the old version changes nothing
	if n := loads.Load(); n != 2 {
		t.Fatalf("%d loads after a second version, want 2", n)
	}
}

func TestModelCacheSharesALoadError(t *testing.T) {
	var c modelCache
	boom := errors.New("boom")
	start := make(chan struct{})
	var calls atomic.Int32
	load := func(context.Context) (*similar.Model, error) {
		calls.Add(1)
		<-start
		return nil, boom
	}
	errs := make(chan error, 2)
	go func() { _, err := c.acquire(context.Background(), "v", load); errs <- err }()
	time.Sleep(10 * time.Millisecond)
	go func() { _, err := c.acquire(context.Background(), "v", load); errs <- err }()
	time.Sleep(10 * time.Millisecond)
	close(start)
	for range 2 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Fatalf("err %v, want boom", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d loads, want 1 (the waiter shares the loader's error)", n)
	}
	// The next shard tries again.
	if _, err := c.acquire(context.Background(), "v", func(context.Context) (*similar.Model, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
}
