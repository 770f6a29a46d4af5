package similarity

import (
	"context"
	"sync"
	"time"

	"github.com/curiodata/curio/internal/similar"
)

// modelIdle is how long a worker keeps a prepared model no shard uses any more, for the
// version's next shard to find it loaded.
const modelIdle = 2 * time.Minute

// modelCache shares one decoded model among the shards of a version that run in the same
// worker process: a model is hundreds of MB at a million items, and every shard of a
// worker would otherwise read and decode its own copy. It holds one version at a time and
// drops it modelIdle after its last shard finished.
type modelCache struct {
	mu      sync.Mutex
	version string
	model   *similar.Model
	loading chan struct{} // closed when the load in progress ends
	err     error         // of the load that just ended, for the shards waiting on it
	refs    int
	gen     int // bumps whenever the cached model changes, so a stale drop timer is a no-op
}

// acquire returns version's model, loading it with load unless it is cached or being
// loaded; release it when done.
func (c *modelCache) acquire(ctx context.Context, version string, load func(context.Context) (*similar.Model, error)) (*similar.Model, error) {
	for {
		c.mu.Lock()
		if c.version == version && c.model != nil {
			c.refs++
			m := c.model
			c.mu.Unlock()
			return m, nil
		}
		if c.version == version && c.loading != nil {
			wait := c.loading
			c.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			c.mu.Lock()
			if c.version == version && c.model == nil && c.err != nil && c.loading == nil {
				err := c.err
				c.mu.Unlock()
				return nil, err
			}
			c.mu.Unlock()
			continue
		}
		// Another version (or none): this shard loads it. A newer version replaces an
		// older one even while its shards run: they keep their reference.
		done := make(chan struct{})
		c.version, c.model, c.loading, c.err, c.refs = version, nil, done, nil, 0
		c.gen++
		c.mu.Unlock()
		m, err := load(ctx)
		c.mu.Lock()
		if c.version == version && c.loading == done {
			c.loading = nil
			if err != nil {
				c.err = err
			} else {
				c.model, c.refs = m, c.refs+1
			}
		}
		close(done)
		c.mu.Unlock()
		return m, err
	}
}

// release ends a shard's use of version's model.
func (c *modelCache) release(version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version || c.model == nil {
		return
	}
	c.refs--
	if c.refs > 0 {
		return
	}
	gen := c.gen
	time.AfterFunc(modelIdle, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen == gen && c.refs == 0 {
			c.version, c.model = "", nil
			c.gen++
		}
	})
}
