// Package catalogjob holds the activities of the catalog pipelines: CatalogPipeline
// (ImportDemoCatalog, ImportDataset, CheckCatalog, PlanIndex, BuildIndexShard, CheckIndex,
// PublishCatalog, RecordRun) and ScrapeCatalog (ScrapePages). They read and write the
// warehouse's raw zone, cleaned catalog tables and pipeline_runs (postgres.Store) and the
// serving store's index versions, items and segments (mysql.Store).
//
// The method names are the Temporal activity names: recorded histories refer to them, so
// they must not change.
package catalogjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/demo"
	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/search"
	"github.com/curiodata/curio/internal/storage/mysql"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// ImportDemoInput sizes the generated part of the demo catalog; zero means the default.
type ImportDemoInput struct {
	Movies   int   `json:"movies,omitempty"`
	Artworks int   `json:"artworks,omitempty"`
	Seed     int64 `json:"seed,omitempty"`
}

// ImportResult reports one dataset import.
type ImportResult struct {
	ImportID string `json:"import_id"`
	Dataset  string `json:"dataset"`
	OK       int64  `json:"ok"`
	Failed   int64  `json:"failed"`
}

// ImportDemoCatalog loads the demo catalog (MoMA artists, generated artworks and movies)
// into the warehouse: raw rows in raw_records, parsed items in the cleaned tables. Writes
// are upserts and progress is heartbeated, so a retry resumes after the last written batch.
func (a *Activities) ImportDemoCatalog(ctx context.Context, in ImportDemoInput) (ImportResult, error) {
	info := activity.GetInfo(ctx)
	res := ImportResult{ImportID: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/demo", Dataset: "demo"}
	var done int64
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res); err == nil {
			done = res.OK + res.Failed
		}
	}
	if done == 0 {
		if err := a.Store.StartImport(ctx, res.ImportID, res.Dataset); err != nil {
			return res, err
		}
	}
	var seen int64
	batch := make([]domain.Record, 0, a.batchSize())
	flush := func() error {
		st, err := a.Store.WriteRecords(ctx, res.ImportID, batch)
		if err != nil {
			return err
		}
		res.OK += st.OK
		res.Failed += st.Failed
		batch = batch[:0]
		activity.RecordHeartbeat(ctx, res)
		return nil
	}
	err := demo.Records(demo.Options{Movies: in.Movies, Artworks: in.Artworks, Seed: in.Seed}, func(r domain.Record) error {
		seen++
		if seen <= done { // written by an earlier attempt
			return nil
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			return flush()
		}
		return ctx.Err()
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return res, fmt.Errorf("import demo catalog: %w", err)
	}
	if err := a.Store.FinishImport(ctx, res.ImportID, postgres.WriteStats{OK: res.OK, Failed: res.Failed}); err != nil {
		return res, err
	}
	activities.Logger(ctx, a.Logger).Info("demo catalog imported", "ok", res.OK, "failed", res.Failed)
	return res, nil
}

// PlanIndexInput names the version to build and, optionally, its shard count.
type PlanIndexInput struct {
	Version    string `json:"version"`
	Shards     int    `json:"shards,omitempty"` // 0 picks from corpus size
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// IndexPlan is the shard layout of one index version.
type IndexPlan struct {
	Version  string `json:"version"`
	Shards   int    `json:"shards"`
	Movies   int64  `json:"movies"`
	Artworks int64  `json:"artworks"`
}

// DocsPerShard is the target shard size when the shard count is chosen automatically:
// large enough that orchestration cost per shard is small, small enough that a lost shard
// is cheap to redo and three workers share the work evenly.
const DocsPerShard = 50_000

// ShardCount picks the number of shards for docs documents: at least 3 (one per worker in
// the reference deployment), DocsPerShard each beyond that, at most 512.
func ShardCount(docs int64) int {
	n := int((docs + DocsPerShard - 1) / DocsPerShard)
	return min(max(n, 3), 512)
}

// PlanIndex counts the catalog, picks the shard count and registers the version as building.
func (a *Activities) PlanIndex(ctx context.Context, in PlanIndexInput) (IndexPlan, error) {
	if in.Version == "" {
		return IndexPlan{}, activities.BadInput(errors.New("plan index: version is required"))
	}
	if in.Shards < 0 || in.Shards > 4096 {
		return IndexPlan{}, activities.BadInput(fmt.Errorf("plan index: shards=%d, want 0..4096", in.Shards))
	}
	c, err := a.Store.Counts(ctx)
	if err != nil {
		return IndexPlan{}, err
	}
	p := IndexPlan{Version: in.Version, Shards: in.Shards, Movies: c.Movies, Artworks: c.Artworks}
	if p.Shards == 0 {
		p.Shards = ShardCount(c.Movies + c.Artworks)
	}
	if err := a.Serving.CreateVersion(ctx, p.Version, p.Shards, in.WorkflowID, in.RunID); err != nil {
		return p, err
	}
	return p, nil
}

// ShardInput names one shard of an index version.
type ShardInput struct {
	Version string `json:"version"`
	Shard   int    `json:"shard"`
	Shards  int    `json:"shards"`
}

// ShardResult reports one built shard.
type ShardResult struct {
	Shard  int    `json:"shard"`
	Docs   int    `json:"docs"`
	Bytes  int    `json:"bytes"`
	Worker string `json:"worker"`
}

// BuildIndexShard reads the shard's items from the warehouse, publishes their details to
// MySQL and stores the shard's search segment. Re-running a shard replaces its rows.
func (a *Activities) BuildIndexShard(ctx context.Context, in ShardInput) (ShardResult, error) {
	if in.Shards <= 0 || in.Shard < 0 || in.Shard >= in.Shards || in.Version == "" {
		return ShardResult{}, activities.BadInput(fmt.Errorf("build shard: bad shard %d/%d of %q", in.Shard, in.Shards, in.Version))
	}
	sh := postgres.Shard{Index: in.Shard, Of: in.Shards}
	var docs []search.Doc
	var items []mysql.Item
	err := a.Store.ShardMovies(ctx, sh, func(m domain.Movie) error {
		d, it, err := movieDoc(m)
		docs, items = append(docs, d), append(items, it)
		return err
	})
	if err != nil {
		return ShardResult{}, err
	}
	activity.RecordHeartbeat(ctx, len(docs))
	err = a.Store.ShardArtworks(ctx, sh, func(w domain.Artwork) error {
		d, it, err := artworkDoc(w)
		docs, items = append(docs, d), append(items, it)
		return err
	})
	if err != nil {
		return ShardResult{}, err
	}
	activity.RecordHeartbeat(ctx, len(docs))
	if err := a.Serving.UpsertItems(ctx, in.Version, items); err != nil {
		return ShardResult{}, err
	}
	data, err := search.BuildSegment(docs).MarshalBinary()
	if err != nil {
		return ShardResult{}, fmt.Errorf("encode shard %d: %w", in.Shard, err)
	}
	if err := a.Serving.PutSegment(ctx, in.Version, in.Shard, len(docs), data); err != nil {
		return ShardResult{}, err
	}
	return ShardResult{Shard: in.Shard, Docs: len(docs), Bytes: len(data), Worker: a.Identity}, nil
}

// PublishInput names the version to switch to.
type PublishInput struct {
	Version string `json:"version"`
}

// PublishResult describes the version now served.
type PublishResult struct {
	Version string `json:"version"`
	Docs    int64  `json:"docs"`
	Shards  int    `json:"shards"`
}

// KeepVersions is how many published index versions keep their segments (for rollback).
const KeepVersions = 3

// PublishCatalog switches the served version atomically, then announces it. An incomplete
// version is refused without retry; a failed announcement only delays API reloads until
// their next poll, so it is logged, not failed.
func (a *Activities) PublishCatalog(ctx context.Context, in PublishInput) (PublishResult, error) {
	v, err := a.Serving.Publish(ctx, in.Version, KeepVersions)
	if errors.Is(err, mysql.ErrIncomplete) || errors.Is(err, mysql.ErrNotFound) {
		return PublishResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeIncomplete, err)
	}
	if err != nil {
		return PublishResult{}, err
	}
	if a.Notifier != nil {
		if err := a.Notifier.PublishVersion(ctx, v.Version); err != nil {
			activities.Logger(ctx, a.Logger).Warn("could not announce catalog version; APIs will pick it up on their next poll", "version", v.Version, "err", err)
		}
	}
	activities.Logger(ctx, a.Logger).Info("catalog published", "version", v.Version, "docs", v.Docs, "shards", v.Shards)
	return PublishResult{Version: v.Version, Docs: v.Docs, Shards: v.Shards}, nil
}

// RunStatus is a pipeline run's state as recorded in the warehouse.
type RunStatus struct {
	Workflow string          `json:"workflow"`
	Status   string          `json:"status"` // running, completed, failed
	Details  json.RawMessage `json:"details,omitempty"`
}

// RecordRun writes the run's status to pipeline_runs (idempotent upsert).
func (a *Activities) RecordRun(ctx context.Context, in RunStatus) error {
	info := activity.GetInfo(ctx)
	return a.Store.RecordRun(ctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, in.Workflow, in.Status, in.Details)
}

func movieDoc(m domain.Movie) (search.Doc, mysql.Item, error) {
	title := m.Title
	if m.OriginalTitle != "" && m.OriginalTitle != m.Title {
		title += " " + m.OriginalTitle
	}
	people := append(append([]string{}, m.Directors...), m.Cast...)
	text := strings.Join(append([]string{m.Plot, m.Kind}, m.Genres...), " ")
	details, err := json.Marshal(m)
	if err != nil {
		return search.Doc{}, mysql.Item{}, fmt.Errorf("encode movie %s: %w", m.ID, err)
	}
	var sub []string
	if len(m.Directors) > 0 {
		sub = append(sub, strings.Join(m.Directors, ", "))
	}
	if len(m.Genres) > 0 {
		sub = append(sub, strings.Join(m.Genres, ", "))
	}
	url := ""
	if strings.HasPrefix(m.ID, "tt") {
		url = "https://www.imdb.com/title/" + m.ID + "/"
	}
	return search.Doc{ID: m.ID, Type: string(domain.TypeMovie), Title: title, People: people, Text: text, Year: m.Year,
			Tags: map[string][]string{"genre": m.Genres}},
		mysql.Item{ID: m.ID, Type: string(domain.TypeMovie), Title: m.Title, Year: m.Year, Subtitle: strings.Join(sub, " · "),
			Description: m.Plot, URL: url, Details: details}, nil
}

func artworkDoc(w domain.Artwork) (search.Doc, mysql.Item, error) {
	text := strings.Join(append([]string{w.Description, w.Medium, w.Classification, w.Department}, w.Nationalities...), " ")
	details, err := json.Marshal(w)
	if err != nil {
		return search.Doc{}, mysql.Item{}, fmt.Errorf("encode artwork %s: %w", w.ID, err)
	}
	var sub []string
	if len(w.Artists) > 0 {
		sub = append(sub, strings.Join(w.Artists, ", "))
	}
	if w.Medium != "" {
		sub = append(sub, w.Medium)
	}
	return search.Doc{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, People: w.Artists, Text: text, Year: w.Year,
			Tags: map[string][]string{"medium": nonEmpty(w.Medium), "nationality": w.Nationalities}},
		mysql.Item{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, Year: w.Year, Subtitle: strings.Join(sub, " · "),
			Description: w.Description, ImageURL: w.ImageURL, URL: w.URL, Details: details}, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
