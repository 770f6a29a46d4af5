// Package similarity holds the activities of BuildSimilarity: the top-k similar items
// (TF-IDF cosine over title, text, tags and people, package internal/similar) of every
// catalog item, computed shard by shard over the workers. Their SQL lives in
// postgres.SimilarityStore, the one owner of similar_items; the published model goes to
// MySQL through package published.
//
// The method names are the Temporal activity names: recorded histories and the batch
// runner (workflows.BuildSimilarity runs SimilarityShard by name) refer to them, so they
// must not change.
package similarity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/similar"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// Catalog reads the cleaned catalog, shard by shard (*postgres.Store).
type Catalog interface {
	ShardMovies(ctx context.Context, sh postgres.Shard, fn func(domain.Movie) error) error
	ShardArtworks(ctx context.Context, sh postgres.Shard, fn func(domain.Artwork) error) error
}

// Activities are the activities of BuildSimilarity. Create one per worker so that
// Identity names the worker that ran each shard.
type Activities struct {
	Store     *postgres.SimilarityStore // similar_items
	Catalog   Catalog                   // the items compared (*postgres.Store)
	Publisher published.Writer          // the serving store (*mysql.Store)
	Logger    *slog.Logger              // nil means slog.Default()
	Identity  string                    // worker identity, reported in shard results

	models modelCache // prepared models shared by this worker's shards
}

// publishBatch is how many model rows one write to the serving store holds.
const publishBatch = 1000

// SimilarityParams are BuildSimilarity's plan.
type SimilarityParams struct {
	K int `json:"k"`
	// Chunk is how many items a shard finishes (and heartbeats) at a time.
	Chunk int `json:"chunk"`
	// Prepared says the version's model was built once by PrepareSimilarity and stored in
	// PostgreSQL: shards read it instead of each building the whole model (runs started
	// before PrepareSimilarity existed leave it false).
	Prepared bool `json:"prepared,omitempty"`
	// MaxPostings bounds the postings one item's search scans (similar.Options); 0 is exact.
	MaxPostings int `json:"max_postings,omitempty"`
	// Rescore is how many candidates per item are scored exactly under MaxPostings.
	Rescore int `json:"rescore,omitempty"`
}

// PrepareInput names the version whose model PrepareSimilarity builds.
type PrepareInput struct {
	Version string `json:"version"`
}

// PrepareResult describes the model PrepareSimilarity stored.
type PrepareResult struct {
	Items   int     `json:"items"`
	Parts   int     `json:"parts"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// prepareProgress is PrepareSimilarity's heartbeat detail.
type prepareProgress struct {
	Phase string `json:"phase"`
	Items int    `json:"items,omitempty"`
	Bytes int64  `json:"bytes,omitempty"`
}

// PrepareSimilarity builds the version's similarity model once — the term statistics
// (document frequencies, IDF, which terms are too common to generate candidates) and
// every item's normalized vector — and stores it in PostgreSQL, where every worker's
// shards read it. It heartbeats through every phase; a retry rebuilds and replaces it.
func (a *Activities) PrepareSimilarity(ctx context.Context, in PrepareInput) (PrepareResult, error) {
	started := time.Now()
	if in.Version == "" {
		return PrepareResult{}, temporal.NewNonRetryableApplicationError("PrepareSimilarity: version is required", activities.ErrTypeBadInput, nil)
	}
	var phase atomic.Value
	var items atomic.Int64
	var stored atomic.Int64
	phase.Store("reading catalog")
	stop := activities.KeepAlive(ctx, func() any {
		return prepareProgress{Phase: phase.Load().(string), Items: int(items.Load()), Bytes: stored.Load()}
	})
	defer stop()
	docs, err := a.catalogDocs(ctx)
	if err != nil {
		return PrepareResult{}, err
	}
	items.Store(int64(len(docs)))
	phase.Store("building model")
	model := similar.Build(docs)
	docs = nil
	phase.Store("storing model")
	info, err := a.Store.PutSimilarityModel(ctx, in.Version, model.Encode, stored.Store)
	if err != nil {
		return PrepareResult{}, err
	}
	res := PrepareResult{Items: model.Len(), Parts: info.Parts, Bytes: info.Bytes, Seconds: time.Since(started).Seconds()}
	a.logger().Info("similarity model prepared", "version", in.Version, "items", res.Items, "bytes", res.Bytes, "seconds", res.Seconds)
	return res, nil
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// loadModel reads the version's prepared model.
func (a *Activities) loadModel(ctx context.Context, version string) (*similar.Model, error) {
	r, _, err := a.Store.SimilarityModel(ctx, version)
	if err != nil {
		if errors.Is(err, postgres.ErrNoModel) {
			// The plan says it was prepared: a missing model is a bug or a dropped run, not
			// something a retry fixes.
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeBadInput, err)
		}
		return nil, err
	}
	m, err := similar.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("similarity model %s: %w", version, err)
	}
	return m, nil
}

// Neighbor is one published similar item.
type Neighbor = published.Neighbor

// catalogDocs reads the whole catalog as similarity documents, in id order.
func (a *Activities) catalogDocs(ctx context.Context) ([]similar.Doc, error) {
	var docs []similar.Doc
	all := postgres.Shard{Index: 0, Of: 1}
	err := a.Catalog.ShardMovies(ctx, all, func(m domain.Movie) error {
		docs = append(docs, similar.Doc{ID: m.ID, Type: string(domain.TypeMovie), Title: m.Title, Text: m.Plot, Tags: m.Genres,
			People: append(append([]string{}, m.Directors...), m.Cast...)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = a.Catalog.ShardArtworks(ctx, all, func(w domain.Artwork) error {
		docs = append(docs, similar.Doc{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, Text: w.Description,
			Tags: slices.DeleteFunc([]string{w.Medium, w.Classification}, func(s string) bool { return s == "" }), People: w.Artists})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(docs, func(x, y similar.Doc) int { return strings.Compare(x.ID, y.ID) })
	return docs, nil
}

// resumePoint is how many of its items a retried shard already finished (its last
// heartbeat), 0 for a first attempt.
func resumePoint(ctx context.Context) int {
	var p activities.ShardProgress
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &p) == nil {
		return p.Done
	}
	return 0
}

// SimilarityShard computes the top-k similar items of every item in its shard (items
// i % shards == shard in id order) against the whole catalog, and writes them to
// similar_items. It works in chunks, heartbeating after each, so a retry after a lost
// worker resumes at the first unfinished chunk; each chunk replaces its rows.
func (a *Activities) SimilarityShard(ctx context.Context, in activities.BatchShardInput) (activities.BatchShardResult, error) {
	started := time.Now()
	if err := in.Validate(); err != nil {
		return activities.BatchShardResult{}, err
	}
	p := SimilarityParams{K: 10, Chunk: 200}
	if err := in.DecodeParams(&p); err != nil {
		return activities.BatchShardResult{}, err
	}
	// Loading the catalog and building the model have no natural heartbeat point and take
	// longer than a heartbeat timeout on a large catalog: keep the attempt alive meanwhile,
	// with its resume point.
	var progress atomic.Int64 // items done: the resume point every heartbeat carries
	progress.Store(int64(resumePoint(ctx)))
	stop := activities.KeepAlive(ctx, func() any { return activities.ShardProgress{Done: int(progress.Load())} })
	defer stop()
	var model *similar.Model
	if p.Prepared {
		m, err := a.models.acquire(ctx, in.Version, func(ctx context.Context) (*similar.Model, error) { return a.loadModel(ctx, in.Version) })
		if err != nil {
			return activities.BatchShardResult{}, err
		}
		defer a.models.release(in.Version)
		model = m
	} else {
		docs, err := a.catalogDocs(ctx)
		if err != nil {
			return activities.BatchShardResult{}, err
		}
		model = similar.Build(docs)
	}
	ids := model.IDs()
	var mine []string
	for i, id := range ids {
		if i%in.Shards == in.Shard {
			mine = append(mine, id)
		}
	}
	opts := similar.Options{K: p.K, MaxPostings: p.MaxPostings, Rescore: p.Rescore}
	// This attempt owns the shard from now on: a worker cut off mid-shard (its shard
	// retried here) can no longer write it.
	fence, err := a.Store.ClaimShard(ctx, in.Job, in.Version, in.Shard, a.Identity, activity.GetInfo(ctx).Attempt)
	if err != nil {
		return activities.BatchShardResult{}, err
	}
	for done := int(progress.Load()); done < len(mine); {
		chunk := mine[done:min(done+p.Chunk, len(mine))]
		if err := a.writeNeighbors(ctx, fence, model, chunk, opts); err != nil {
			if errors.Is(err, postgres.ErrFenced) {
				return activities.BatchShardResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeFenced, err)
			}
			return activities.BatchShardResult{}, err
		}
		done += len(chunk)
		progress.Store(int64(done))
		activity.RecordHeartbeat(ctx, activities.ShardProgress{Done: done})
	}
	return activities.FinishShard(ctx, a.Store.BatchRunStore, a.Identity, in, len(mine), started)
}

// ErrTypeFenced marks a shard attempt stopped because a newer attempt owns its shard.
const ErrTypeFenced = "ShardFenced"

// writeNeighbors replaces the stored neighbors of ids with their top k, under fence.
func (a *Activities) writeNeighbors(ctx context.Context, fence postgres.ShardFence, m *similar.Model, ids []string, opts similar.Options) error {
	var rows []postgres.SimilarItem
	for _, id := range ids {
		ns, _ := m.Neighbors(id, opts)
		for r, n := range ns {
			rows = append(rows, postgres.SimilarItem{ItemID: id, Rank: r + 1, NeighborID: n.ID, Score: n.Score})
		}
	}
	return a.Store.ReplaceSimilarItemsFenced(ctx, fence, ids, rows)
}

// PublishSimilarity copies a similarity version to MySQL, one row per item (its
// neighbors, most similar first), and switches the API to it.
func (a *Activities) PublishSimilarity(ctx context.Context, in activities.ModelPublishInput) (activities.ModelPublishResult, error) {
	// Reading, computing and writing a large version takes minutes: stay alive meanwhile.
	defer activities.KeepAlive(ctx, func() any { return in.Version })()
	m := published.Similar
	var batch []published.Row[[]Neighbor]
	err := a.Store.EachSimilarItem(ctx, in.Version, func(it postgres.SimilarItem) error {
		if n := len(batch); n > 0 && batch[n-1].Key == it.ItemID {
			batch[n-1].Value = append(batch[n-1].Value, Neighbor{ID: it.NeighborID, Score: it.Score})
			return nil
		}
		// A new item: the rows before it are complete.
		if len(batch) >= publishBatch {
			if err := m.Put(ctx, a.Publisher, in.Version, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		batch = append(batch, published.Row[[]Neighbor]{Key: it.ItemID, Value: []Neighbor{{ID: it.NeighborID, Score: it.Score}}})
		return nil
	})
	if err != nil {
		return activities.ModelPublishResult{}, fmt.Errorf("publish %s %s: %w", m.Name(), in.Version, err)
	}
	res, err := activities.SwitchModel(ctx, a.Publisher, a.Store.BatchRunStore, a.Logger, m, in.Version, batch)
	if err != nil {
		return res, err
	}
	// The prepared model has served its shards; drop it, and any left by runs that failed
	// before publishing. Failing to is not worth failing the publish over.
	if _, err := a.Store.DropSimilarityModels(ctx, in.Version, 24*time.Hour); err != nil {
		a.logger().Warn("similarity models not dropped", "version", in.Version, "err", err)
	}
	return res, nil
}
