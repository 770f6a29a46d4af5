// Package serving keeps the API's in-memory search index in step with the version
// published in MySQL: it polls (and can be poked) and swaps a new index in atomically,
// so queries in flight during a swap finish on the index they started with.
package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/storage/mysql"
)

// ErrNotReady is returned while no index version has been loaded.
var ErrNotReady = errors.New("search index not loaded yet: no catalog version has been published")

// Source is where published versions live (MySQL in production).
type Source interface {
	CurrentVersion(ctx context.Context) (string, error)
	LoadSegments(ctx context.Context, version string) ([][]byte, error)
}

// Snapshot is one loaded index version.
type Snapshot struct {
	Version  string
	Index    *search.Index
	LoadedAt time.Time
	LoadTook time.Duration
}

// Holder holds the current Snapshot.
type Holder struct {
	src     Source
	logger  *slog.Logger
	cur     atomic.Pointer[Snapshot]
	trigger chan struct{}
	mu      sync.Mutex // serializes loads
}

// NewHolder returns a Holder with nothing loaded.
func NewHolder(src Source, logger *slog.Logger) *Holder {
	return &Holder{src: src, logger: logger, trigger: make(chan struct{}, 1)}
}

// Current returns the loaded snapshot, or ErrNotReady.
func (h *Holder) Current() (*Snapshot, error) {
	if s := h.cur.Load(); s != nil {
		return s, nil
	}
	return nil, ErrNotReady
}

// Refresh loads the published version if it differs from the loaded one.
func (h *Holder) Refresh(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, err := h.src.CurrentVersion(ctx)
	if errors.Is(err, mysql.ErrNotFound) {
		return nil // nothing published yet
	}
	if err != nil {
		return fmt.Errorf("refresh index: %w", err)
	}
	if s := h.cur.Load(); s != nil && s.Version == v {
		return nil
	}
	start := time.Now()
	blobs, err := h.src.LoadSegments(ctx, v)
	if err != nil {
		return fmt.Errorf("load index %s: %w", v, err)
	}
	segs := make([]*search.Segment, 0, len(blobs))
	for i, b := range blobs {
		seg, err := search.UnmarshalSegment(b)
		if err != nil {
			return fmt.Errorf("load index %s shard %d: %w", v, i, err)
		}
		segs = append(segs, seg)
	}
	snap := &Snapshot{Version: v, Index: search.NewIndex(segs...), LoadedAt: time.Now()}
	snap.LoadTook = snap.LoadedAt.Sub(start)
	h.cur.Store(snap)
	h.logger.Info("search index loaded", "version", v, "docs", snap.Index.Len(), "shards", len(segs), "took", snap.LoadTook)
	return nil
}

// Trigger asks Run to refresh now (e.g. when a version announcement arrives).
func (h *Holder) Trigger() {
	select {
	case h.trigger <- struct{}{}:
	default:
	}
}

// Run refreshes every interval and on Trigger until ctx ends. Errors are logged and the
// previous index keeps serving.
func (h *Holder) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := h.Refresh(ctx); err != nil && ctx.Err() == nil {
			h.logger.Warn("index refresh failed; serving the previous version", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.trigger:
		}
	}
}
