package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/domain"
)

// WriteStats counts what a WriteRecords call stored.
type WriteStats struct {
	OK     int64 `json:"ok"`
	Failed int64 `json:"failed"`
}

// Add accumulates o into s.
func (s *WriteStats) Add(o WriteStats) { s.OK += o.OK; s.Failed += o.Failed }

// WriteRecords stores one batch in a single transaction: every record's raw row in the raw
// zone (with its parse error, if any) and every parsed item in its cleaned table. Writes are
// upserts keyed by source id, so replaying a batch after a crash changes nothing.
func (s *Store) WriteRecords(ctx context.Context, importID string, recs []domain.Record) (WriteStats, error) {
	var st WriteStats
	if len(recs) == 0 {
		return st, nil
	}
	b := &pgx.Batch{}
	for _, r := range recs {
		key := r.Key
		if key == "" {
			key = fmt.Sprintf("line:%d", r.Line)
		}
		var errText *string
		if r.Err != nil {
			e := r.Err.Error()
			errText = &e
			st.Failed++
		} else {
			st.OK++
		}
		var payload any
		if len(r.Raw) > 0 {
			payload = string(r.Raw)
		}
		b.Queue(`INSERT INTO raw_records (source, kind, key, line, payload, error, import_id, loaded_at)
			VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, now())
			ON CONFLICT (source, kind, key) DO UPDATE SET line = EXCLUDED.line, payload = EXCLUDED.payload,
				error = EXCLUDED.error, import_id = EXCLUDED.import_id, loaded_at = EXCLUDED.loaded_at`,
			r.Source, string(r.Kind), key, r.Line, payload, errText, importID)
		switch {
		case r.Err != nil:
		case r.Movie != nil:
			queueMovie(b, r.Movie)
		case r.Artist != nil:
			queueArtist(b, r.Artist)
		case r.Artwork != nil:
			queueArtwork(b, r.Artwork)
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return WriteStats{}, fmt.Errorf("begin write batch: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return WriteStats{}, fmt.Errorf("write batch of %d records: %w", len(recs), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return WriteStats{}, fmt.Errorf("commit write batch: %w", err)
	}
	return st, nil
}

func strs(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func queueMovie(b *pgx.Batch, m *domain.Movie) {
	b.Queue(`INSERT INTO movies (id, kind, title, original_title, year, end_year, genres, directors, cast_members,
			runtime_minutes, rating, votes, plot, content_rating, country, language, source, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17, now())
		ON CONFLICT (id) DO UPDATE SET kind=EXCLUDED.kind, title=EXCLUDED.title, original_title=EXCLUDED.original_title,
			year=EXCLUDED.year, end_year=EXCLUDED.end_year, genres=EXCLUDED.genres, directors=EXCLUDED.directors,
			cast_members=EXCLUDED.cast_members, runtime_minutes=EXCLUDED.runtime_minutes, rating=EXCLUDED.rating,
			votes=EXCLUDED.votes, plot=EXCLUDED.plot, content_rating=EXCLUDED.content_rating, country=EXCLUDED.country,
			language=EXCLUDED.language, source=EXCLUDED.source, updated_at=now()`,
		m.ID, m.Kind, m.Title, m.OriginalTitle, m.Year, m.EndYear, strs(m.Genres), strs(m.Directors), strs(m.Cast),
		m.RuntimeMinutes, m.Rating, m.Votes, m.Plot, m.ContentRating, m.Country, m.Language, m.Source)
}

func queueArtist(b *pgx.Batch, a *domain.Artist) {
	b.Queue(`INSERT INTO artists (id, name, bio, nationality, gender, begin_year, end_year, wiki_qid, ulan, source, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10, now())
		ON CONFLICT (id) DO UPDATE SET name=EXCLUDED.name, bio=EXCLUDED.bio, nationality=EXCLUDED.nationality,
			gender=EXCLUDED.gender, begin_year=EXCLUDED.begin_year, end_year=EXCLUDED.end_year,
			wiki_qid=EXCLUDED.wiki_qid, ulan=EXCLUDED.ulan, source=EXCLUDED.source, updated_at=now()`,
		a.ID, a.Name, a.Bio, a.Nationality, a.Gender, a.BeginYear, a.EndYear, a.WikiQID, a.ULAN, a.Source)
}

func queueArtwork(b *pgx.Batch, w *domain.Artwork) {
	b.Queue(`INSERT INTO artworks (id, title, artist_ids, artists, nationalities, year, date_text, medium, dimensions,
			classification, department, credit_line, description, url, image_url, source, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16, now())
		ON CONFLICT (id) DO UPDATE SET title=EXCLUDED.title, artist_ids=EXCLUDED.artist_ids, artists=EXCLUDED.artists,
			nationalities=EXCLUDED.nationalities, year=EXCLUDED.year, date_text=EXCLUDED.date_text, medium=EXCLUDED.medium,
			dimensions=EXCLUDED.dimensions, classification=EXCLUDED.classification, department=EXCLUDED.department,
			credit_line=EXCLUDED.credit_line, description=EXCLUDED.description, url=EXCLUDED.url,
			image_url=EXCLUDED.image_url, source=EXCLUDED.source, updated_at=now()`,
		w.ID, w.Title, strs(w.ArtistIDs), strs(w.Artists), strs(w.Nationalities), w.Year, w.DateText, w.Medium,
		w.Dimensions, w.Classification, w.Department, w.CreditLine, w.Description, w.URL, w.ImageURL, w.Source)
}

// StartImport records the start of an import; calling it again for the same id resets its counts.
func (s *Store) StartImport(ctx context.Context, importID, dataset string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO imports (import_id, dataset) VALUES ($1, $2)
		ON CONFLICT (import_id) DO UPDATE SET started_at = now(), finished_at = NULL, rows_ok = 0, rows_failed = 0`,
		importID, dataset)
	if err != nil {
		return fmt.Errorf("start import %s: %w", importID, err)
	}
	return nil
}

// FinishImport records the outcome of an import.
func (s *Store) FinishImport(ctx context.Context, importID string, st WriteStats) error {
	_, err := s.pool.Exec(ctx, `UPDATE imports SET finished_at = now(), rows_ok = $2, rows_failed = $3 WHERE import_id = $1`,
		importID, st.OK, st.Failed)
	if err != nil {
		return fmt.Errorf("finish import %s: %w", importID, err)
	}
	return nil
}

// CatalogCounts are the row counts of the cleaned tables.
type CatalogCounts struct {
	Movies   int64 `json:"movies"`
	Artworks int64 `json:"artworks"`
	Artists  int64 `json:"artists"`
	Failed   int64 `json:"failed_raw_rows"`
}

// Counts returns the row counts of the cleaned tables and of raw rows that failed to parse.
func (s *Store) Counts(ctx context.Context) (CatalogCounts, error) {
	var c CatalogCounts
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM movies), (SELECT count(*) FROM artworks),
		(SELECT count(*) FROM artists), (SELECT count(*) FROM raw_records WHERE error IS NOT NULL)`).
		Scan(&c.Movies, &c.Artworks, &c.Artists, &c.Failed)
	if err != nil {
		return c, fmt.Errorf("catalog counts: %w", err)
	}
	return c, nil
}

// Shard selects the items of one index shard: items are spread over Of shards by a stable
// hash of their id, so every worker agrees on membership without coordination.
type Shard struct {
	Index, Of int
}

const shardPredicate = `mod(abs(hashtextextended(id, 0)), $2::bigint) = $1::bigint`

// EstimateShardDocs estimates how many movies and artworks shard sh holds, from the
// planner's row estimates (cheap, no scan; 0 when the tables were never analyzed). It is
// a sizing hint only: it may be off in either direction.
func (s *Store) EstimateShardDocs(ctx context.Context, sh Shard) (int, error) {
	var n float64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(greatest(reltuples, 0)), 0)::float8 FROM pg_class
		WHERE oid IN (to_regclass('movies'), to_regclass('artworks'))`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("estimate shard %d/%d size: %w", sh.Index, sh.Of, err)
	}
	if sh.Of <= 0 {
		return 0, nil
	}
	return int(n / float64(sh.Of)), nil
}

// ShardMovies calls fn for every movie in the shard, in id order.
func (s *Store) ShardMovies(ctx context.Context, sh Shard, fn func(domain.Movie) error) error {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, title, original_title, year, end_year, genres, directors, cast_members,
			runtime_minutes, rating, votes, plot, content_rating, country, language, source
		FROM movies WHERE `+shardPredicate+` ORDER BY id`, sh.Index, sh.Of)
	if err != nil {
		return fmt.Errorf("query shard %d/%d movies: %w", sh.Index, sh.Of, err)
	}
	defer rows.Close()
	var m domain.Movie // reused: scanning into a fresh variable moved one to the heap per row
	for rows.Next() {
		m = domain.Movie{} // fn gets a copy; zeroing lets Scan allocate fresh lists for every row
		if err := rows.Scan(&m.ID, &m.Kind, &m.Title, &m.OriginalTitle, &m.Year, &m.EndYear, &m.Genres, &m.Directors,
			&m.Cast, &m.RuntimeMinutes, &m.Rating, &m.Votes, &m.Plot, &m.ContentRating, &m.Country, &m.Language, &m.Source); err != nil {
			return fmt.Errorf("scan movie: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read shard %d/%d movies: %w", sh.Index, sh.Of, err)
	}
	return nil
}

// ShardArtworks calls fn for every artwork in the shard, in id order.
func (s *Store) ShardArtworks(ctx context.Context, sh Shard, fn func(domain.Artwork) error) error {
	rows, err := s.pool.Query(ctx, `SELECT id, title, artist_ids, artists, nationalities, year, date_text, medium, dimensions,
			classification, department, credit_line, description, url, image_url, source
		FROM artworks WHERE `+shardPredicate+` ORDER BY id`, sh.Index, sh.Of)
	if err != nil {
		return fmt.Errorf("query shard %d/%d artworks: %w", sh.Index, sh.Of, err)
	}
	defer rows.Close()
	var w domain.Artwork // reused: see ShardMovies
	for rows.Next() {
		w = domain.Artwork{}
		if err := rows.Scan(&w.ID, &w.Title, &w.ArtistIDs, &w.Artists, &w.Nationalities, &w.Year, &w.DateText, &w.Medium,
			&w.Dimensions, &w.Classification, &w.Department, &w.CreditLine, &w.Description, &w.URL, &w.ImageURL, &w.Source); err != nil {
			return fmt.Errorf("scan artwork: %w", err)
		}
		if err := fn(w); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read shard %d/%d artworks: %w", sh.Index, sh.Of, err)
	}
	return nil
}

// RawRecord is one row of the raw zone.
type RawRecord struct {
	Source, Kind, Key string
	Line              int
	Payload           []byte
	Error             string
}

// FailedRecords lists raw rows of source that did not parse, most recent first.
func (s *Store) FailedRecords(ctx context.Context, source string, limit int) ([]RawRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, kind, key, line, coalesce(payload::text, ''), error
		FROM raw_records WHERE source = $1 AND error IS NOT NULL ORDER BY loaded_at DESC, key LIMIT $2`, source, limit)
	if err != nil {
		return nil, fmt.Errorf("failed records of %s: %w", source, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RawRecord, error) {
		var rr RawRecord
		var payload string
		err := r.Scan(&rr.Source, &rr.Kind, &rr.Key, &rr.Line, &payload, &rr.Error)
		rr.Payload = []byte(payload)
		return rr, err
	})
	if err != nil {
		return nil, fmt.Errorf("failed records of %s: %w", source, err)
	}
	return out, nil
}

// RecordRun upserts the status of a pipeline run.
func (s *Store) RecordRun(ctx context.Context, workflowID, runID, workflow, status string, details []byte) error {
	var finished *time.Time
	if status != "running" {
		now := time.Now()
		finished = &now
	}
	if len(details) == 0 {
		details = []byte("{}")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO pipeline_runs (workflow_id, run_id, workflow, status, finished_at, details)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb)
		ON CONFLICT (workflow_id, run_id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at,
			details = pipeline_runs.details || EXCLUDED.details`,
		workflowID, runID, workflow, status, finished, string(details))
	if err != nil {
		return fmt.Errorf("record run %s/%s: %w", workflowID, runID, err)
	}
	return nil
}

// Run is one row of pipeline_runs.
type Run struct {
	WorkflowID, RunID, Workflow, Status string
	StartedAt                           time.Time
	FinishedAt                          *time.Time
	Details                             []byte
}

// GetRun returns the recorded status of a run, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, workflowID, runID string) (Run, error) {
	var r Run
	var details string
	err := s.pool.QueryRow(ctx, `SELECT workflow_id, run_id, workflow, status, started_at, finished_at, details::text
		FROM pipeline_runs WHERE workflow_id = $1 AND run_id = $2`, workflowID, runID).
		Scan(&r.WorkflowID, &r.RunID, &r.Workflow, &r.Status, &r.StartedAt, &r.FinishedAt, &details)
	if err != nil {
		return r, fmt.Errorf("get run %s/%s: %w", workflowID, runID, notFound(err))
	}
	r.Details = []byte(details)
	return r, nil
}

// ItemRef is a catalog item as the event generator needs it.
type ItemRef struct {
	ID, Type   string
	Categories []string // genres of a movie; classification and medium of an artwork
}

// ItemRefs returns up to limit items of the catalog, movies and artworks alike.
func (s *Store) ItemRefs(ctx context.Context, limit int) ([]ItemRef, error) {
	rows, err := s.pool.Query(ctx, `(SELECT id, 'movie', genres FROM movies ORDER BY votes DESC, id LIMIT $1)
		UNION ALL (SELECT id, 'artwork', array_remove(ARRAY[classification, medium], '') FROM artworks ORDER BY id LIMIT $1)`, limit/2+1)
	if err != nil {
		return nil, fmt.Errorf("item refs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ItemRef, error) {
		var it ItemRef
		err := r.Scan(&it.ID, &it.Type, &it.Categories)
		return it, err
	})
}

// JobDuration is the count and total duration of a batch job's finished shard attempts.
type JobDuration struct {
	Job     string
	Count   int64
	Seconds float64
}

// ShardDurations sums batch_shard_runs per job.
func (s *Store) ShardDurations(ctx context.Context) ([]JobDuration, error) {
	rows, err := s.pool.Query(ctx, `SELECT job, count(*), coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float8
		FROM batch_shard_runs GROUP BY job ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("shard durations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobDuration, error) {
		var j JobDuration
		return j, r.Scan(&j.Job, &j.Count, &j.Seconds)
	})
}
