package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/published"
	"github.com/curiodata/curio/internal/similar"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// Model names of published batch outputs; the models themselves are defined once, in
// package published.
const (
	ModelSimilar  = published.SimilarName
	ModelPageRank = published.PageRankName
	ModelAds      = published.AdsName
)

// SimilarityParams are BuildSimilarity's plan.
type SimilarityParams struct {
	K int `json:"k"`
	// Chunk is how many items a shard finishes (and heartbeats) at a time.
	Chunk int `json:"chunk"`
}

// catalogDocs reads the whole catalog as similarity documents, in id order.
func (a *Activities) catalogDocs(ctx context.Context) ([]similar.Doc, error) {
	var docs []similar.Doc
	all := postgres.Shard{Index: 0, Of: 1}
	err := a.PG.ShardMovies(ctx, all, func(m domain.Movie) error {
		docs = append(docs, similar.Doc{ID: m.ID, Type: string(domain.TypeMovie), Title: m.Title, Text: m.Plot, Tags: m.Genres,
			People: append(append([]string{}, m.Directors...), m.Cast...)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = a.PG.ShardArtworks(ctx, all, func(w domain.Artwork) error {
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

// SimilarityShard computes the top-k similar items of every item in its shard (items
// i % shards == shard in id order) against the whole catalog, and writes them to
// similar_items. It works in chunks, heartbeating after each, so a retry after a lost
// worker resumes at the first unfinished chunk; each chunk replaces its rows.
func (a *Activities) SimilarityShard(ctx context.Context, in BatchShardInput) (BatchShardResult, error) {
	started := time.Now()
	if err := in.Validate(); err != nil {
		return BatchShardResult{}, err
	}
	p := SimilarityParams{K: 10, Chunk: 200}
	if err := in.DecodeParams(&p); err != nil {
		return BatchShardResult{}, err
	}
	docs, err := a.catalogDocs(ctx)
	if err != nil {
		return BatchShardResult{}, err
	}
	model := similar.Build(docs)
	var mine []string
	for i, d := range docs {
		if i%in.Shards == in.Shard {
			mine = append(mine, d.ID)
		}
	}
	done := resumePoint(ctx)
	for done < len(mine) {
		chunk := mine[done:min(done+p.Chunk, len(mine))]
		if err := a.writeNeighbors(ctx, in.Version, model, chunk, p.K); err != nil {
			return BatchShardResult{}, err
		}
		done += len(chunk)
		activity.RecordHeartbeat(ctx, ShardProgress{Done: done})
	}
	return a.finishShard(ctx, in, len(mine), started)
}

func (a *Activities) writeNeighbors(ctx context.Context, version string, m *similar.Model, ids []string, k int) error {
	var items, nbrs []string
	var ranks []int32
	var scores []float64
	for _, id := range ids {
		ns, _ := m.Neighbors(id, similar.Options{K: k})
		for r, n := range ns {
			items, ranks, nbrs, scores = append(items, id), append(ranks, int32(r+1)), append(nbrs, n.ID), append(scores, n.Score)
		}
	}
	return pgx.BeginFunc(ctx, a.PG.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM similar_items WHERE version = $1 AND item_id = ANY($2)`, version, ids); err != nil {
			return fmt.Errorf("clear similar items: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO similar_items (version, item_id, rank, neighbor_id, score)
			SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::float8[])`, version, items, ranks, nbrs, scores); err != nil {
			return fmt.Errorf("write similar items: %w", err)
		}
		return nil
	})
}

// Neighbor is one published similar item.
type Neighbor = published.Neighbor

// PublishInput names a model version to publish.
type ModelPublishInput struct {
	Version string `json:"version"`
}

// ModelPublishResult reports a published model version.
type ModelPublishResult struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Rows    int64  `json:"rows"`
}

// PublishSimilarity copies a similarity version to MySQL and switches the API to it.
func (a *Activities) PublishSimilarity(ctx context.Context, in ModelPublishInput) (ModelPublishResult, error) {
	return publishGrouped(ctx, a, published.Similar, in.Version,
		`SELECT item_id, neighbor_id, score FROM similar_items WHERE version = $1 ORDER BY item_id, rank`,
		func(r pgx.Rows) (string, Neighbor, error) {
			var item string
			var n Neighbor
			err := r.Scan(&item, &n.ID, &n.Score)
			return item, n, err
		}, in.Version)
}
