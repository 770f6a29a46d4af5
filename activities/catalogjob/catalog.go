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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"

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
//
// Items are streamed: each row read is indexed into the segment builder at once and its
// details are upserted in small batches, so the attempt holds the segment being built and
// one batch of items, never the shard's documents or items. Reading a large shard has no
// natural heartbeat point, so the attempt heartbeats (the documents read so far) from a
// goroutine for its whole length.
func (a *Activities) BuildIndexShard(ctx context.Context, in ShardInput) (ShardResult, error) {
	if in.Shards <= 0 || in.Shard < 0 || in.Shard >= in.Shards || in.Version == "" {
		return ShardResult{}, activities.BadInput(fmt.Errorf("build shard: bad shard %d/%d of %q", in.Shard, in.Shards, in.Version))
	}
	var read atomic.Int64
	stop := activities.KeepAlive(ctx, func() any { return int(read.Load()) })
	defer stop()
	sh := postgres.Shard{Index: in.Shard, Of: in.Shards}
	// Sizing the builder up front saves growing its per-document arrays; a stale
	// estimate costs only that. Shards vary by a few percent around the mean.
	hint, err := a.Store.EstimateShardDocs(ctx, sh)
	if err != nil {
		return ShardResult{}, err
	}
	seg := search.NewSegmentBuilder(hint + hint/20)
	w := itemWriter{ctx: ctx, serving: a.Serving, version: in.Version}
	var conv docConverter
	add := func(d *search.Doc, it mysql.Item, err error) error {
		if err != nil {
			return err
		}
		seg.Add(d)
		read.Add(1)
		return w.add(it)
	}
	err = a.Store.ShardMovies(ctx, sh, func(m domain.Movie) error {
		return add(conv.movie(&m, w.details()))
	})
	if err != nil {
		return ShardResult{}, err
	}
	err = a.Store.ShardArtworks(ctx, sh, func(m domain.Artwork) error {
		return add(conv.artwork(&m, w.details()))
	})
	if err != nil {
		return ShardResult{}, err
	}
	if err := w.flush(); err != nil {
		return ShardResult{}, err
	}
	docs := seg.Len()
	data, err := seg.Build().MarshalBinary()
	if err != nil {
		return ShardResult{}, fmt.Errorf("encode shard %d: %w", in.Shard, err)
	}
	if err := a.Serving.PutSegment(ctx, in.Version, in.Shard, docs, data); err != nil {
		return ShardResult{}, err
	}
	return ShardResult{Shard: in.Shard, Docs: docs, Bytes: len(data), Worker: a.Identity}, nil
}

// itemBatchBytes bounds the estimated size of one UpsertItems call. The MySQL driver
// encodes each statement into one packet buffer that it reuses only up to 256 KiB; a larger
// statement allocates (and grows) a new buffer every time, which used to be most of the
// index build's allocation. itemBatchMax is UpsertItems's own rows per statement.
const (
	itemBatchBytes = 192 << 10
	itemBatchMax   = 500
)

// itemWriter upserts items in batches of at most itemBatchBytes (estimated) or
// itemBatchMax rows. Every batch is its own transaction: upserts are idempotent, so a
// retried shard simply rewrites them.
type itemWriter struct {
	ctx     context.Context
	serving *mysql.Store
	version string
	items   []mysql.Item
	size    int
	buf     bytes.Buffer // details JSON of the items in the batch, reused across batches
}

// details returns the buffer to encode the next item's details into; the item may keep a
// slice of it until the batch is flushed.
func (w *itemWriter) details() *bytes.Buffer { return &w.buf }

func (w *itemWriter) add(it mysql.Item) error {
	w.items = append(w.items, it)
	w.size += 64 + len(it.ID) + len(it.Type) + len(it.Title) + len(it.Subtitle) + len(it.Description) +
		len(it.ImageURL) + len(it.URL) + len(it.Details) + len(w.version)
	if w.size >= itemBatchBytes || len(w.items) >= itemBatchMax {
		return w.flush()
	}
	return nil
}

func (w *itemWriter) flush() error {
	if len(w.items) == 0 {
		return nil
	}
	if err := w.serving.UpsertItems(w.ctx, w.version, w.items); err != nil {
		return err
	}
	clear(w.items) // drop references to this batch's strings
	w.items, w.size = w.items[:0], 0
	w.buf.Reset()
	return nil
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
//
// The switch is one MySQL transaction that also prunes old versions' segments, which on a
// large catalog may outlast a heartbeat timeout: the attempt heartbeats from a goroutine
// meanwhile (when the workflow gives it a heartbeat timeout).
func (a *Activities) PublishCatalog(ctx context.Context, in PublishInput) (PublishResult, error) {
	stop := activities.KeepAlive(ctx, func() any { return in.Version })
	v, err := a.Serving.Publish(ctx, in.Version, KeepVersions)
	stop()
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

// docConverter turns catalog rows into search documents and serving items. It reuses its
// scratch memory (the document, its People, Text and Tags) from one row to the next:
// search.SegmentBuilder.Add keeps none of those, so a document is valid only until the
// next conversion.
type docConverter struct {
	doc    search.Doc
	people []string
	text   []byte
	tags   map[string][]string
	one    [1]string
	enc    *json.Encoder
	encBuf *bytes.Buffer
	// The record being encoded: encoding a pointer into the converter (allocated once)
	// keeps each row's record off the heap.
	movieRec   domain.Movie
	artworkRec domain.Artwork
}

// encodeDetails appends v's JSON (as json.Marshal writes it) to buf and returns it; the
// result aliases buf until buf is reset.
func (c *docConverter) encodeDetails(buf *bytes.Buffer, v any) ([]byte, error) {
	if c.enc == nil || c.encBuf != buf {
		c.enc, c.encBuf = json.NewEncoder(buf), buf
	}
	start := buf.Len()
	if err := c.enc.Encode(v); err != nil {
		buf.Truncate(start)
		return nil, err
	}
	b := buf.Bytes()
	return b[start : len(b)-1 : len(b)-1], nil // Encode ends the value with a newline
}

func (c *docConverter) resetTags() map[string][]string {
	if c.tags == nil {
		c.tags = make(map[string][]string, 2)
	}
	clear(c.tags)
	return c.tags
}

// movie converts m; details are encoded into buf. The document is valid until the next call.
func (c *docConverter) movie(m *domain.Movie, buf *bytes.Buffer) (*search.Doc, mysql.Item, error) {
	title := m.Title
	if m.OriginalTitle != "" && m.OriginalTitle != m.Title {
		title += " " + m.OriginalTitle
	}
	c.people = append(append(c.people[:0], m.Directors...), m.Cast...)
	// The text is Plot, Kind and the genres joined by spaces: one tokenizer call, so
	// the stop-word rule sees them together, as it always has.
	c.text = append(append(append(c.text[:0], m.Plot...), ' '), m.Kind...)
	for _, g := range m.Genres {
		c.text = append(append(c.text, ' '), g...)
	}
	text := unsafe.String(unsafe.SliceData(c.text), len(c.text))
	c.movieRec = *m
	details, err := c.encodeDetails(buf, &c.movieRec)
	c.movieRec = domain.Movie{}
	if err != nil {
		return nil, mysql.Item{}, fmt.Errorf("encode movie %s: %w", m.ID, err)
	}
	url := ""
	if strings.HasPrefix(m.ID, "tt") {
		url = "https://www.imdb.com/title/" + m.ID + "/"
	}
	tags := c.resetTags()
	tags["genre"] = m.Genres
	c.doc = search.Doc{ID: m.ID, Type: string(domain.TypeMovie), Title: title, People: c.people, Text: text, Year: m.Year, Tags: tags}
	return &c.doc, mysql.Item{ID: m.ID, Type: string(domain.TypeMovie), Title: m.Title, Year: m.Year,
		Subtitle: subtitle(m.Directors, m.Genres, ""), Description: m.Plot, URL: url, Details: details}, nil
}

// artwork converts w; details are encoded into buf. The document is valid until the next call.
func (c *docConverter) artwork(w *domain.Artwork, buf *bytes.Buffer) (*search.Doc, mysql.Item, error) {
	c.text = append(c.text[:0], w.Description...)
	for _, p := range [...]string{w.Medium, w.Classification, w.Department} {
		c.text = append(append(c.text, ' '), p...)
	}
	for _, n := range w.Nationalities {
		c.text = append(append(c.text, ' '), n...)
	}
	text := unsafe.String(unsafe.SliceData(c.text), len(c.text))
	c.artworkRec = *w
	details, err := c.encodeDetails(buf, &c.artworkRec)
	c.artworkRec = domain.Artwork{}
	if err != nil {
		return nil, mysql.Item{}, fmt.Errorf("encode artwork %s: %w", w.ID, err)
	}
	tags := c.resetTags()
	if w.Medium != "" {
		c.one[0] = w.Medium
		tags["medium"] = c.one[:]
	} else {
		tags["medium"] = nil
	}
	tags["nationality"] = w.Nationalities
	c.doc = search.Doc{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, People: w.Artists, Text: text, Year: w.Year, Tags: tags}
	return &c.doc, mysql.Item{ID: w.ID, Type: string(domain.TypeArtwork), Title: w.Title, Year: w.Year,
		Subtitle: subtitle(w.Artists, nil, w.Medium), Description: w.Description, ImageURL: w.ImageURL, URL: w.URL,
		Details: details}, nil
}

// subtitle is the item subtitle: the names joined by ", ", then the list (joined by ", ")
// or else the single value, the two parts joined by " · ", in one allocation.
func subtitle(names, list []string, single string) string {
	const sep, partSep = ", ", " · "
	size := func(v []string) int {
		n := 0
		for i, s := range v {
			if i > 0 {
				n += len(sep)
			}
			n += len(s)
		}
		return n
	}
	second := list
	if len(list) == 0 && single != "" {
		second = []string{single}
	}
	n := size(names) + size(second)
	if len(names) > 0 && len(second) > 0 {
		n += len(partSep)
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n)
	for i, s := range names {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	if len(names) > 0 && len(second) > 0 {
		b.WriteString(partSep)
	}
	for i, s := range second {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	return b.String()
}
