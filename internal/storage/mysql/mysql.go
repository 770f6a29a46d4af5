// Package mysql is Curio's serving store: published catalog items, index versions and
// the serialized search index, in MySQL or MariaDB through go-sql-driver/mysql.
package mysql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"

	"github.com/curiodata/curio/internal/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// chunkSize keeps every blob row well under MariaDB's default 16 MiB max_allowed_packet.
const chunkSize = 4 << 20

// ErrNotFound is returned (wrapped) when a requested row does not exist. It is
// domain.ErrNotFound, so errors.Is matches either name.
var ErrNotFound = domain.ErrNotFound

// ErrIncomplete is returned when a version is published before all its shards are stored.
var ErrIncomplete = errors.New("index version incomplete")

// Store is the serving database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open connects to MySQL/MariaDB. The DSN is go-sql-driver's format; parseTime and a
// utf8mb4 charset are forced because the store relies on them.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_unicode_ci")); err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connector: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxLifetime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql ping %s@%s/%s: %w", cfg.User, cfg.Addr, cfg.DBName, err)
	}
	return &Store{db: db}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the pool to packages that own their own tables.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks the connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("mysql ping: %w", err)
	}
	return nil
}

// Migrate applies pending schema migrations and returns how many ran.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("mysql migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectMySQL, s.db, sub)
	if err != nil {
		return 0, fmt.Errorf("mysql migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("mysql migrate: %w", err)
	}
	return len(res), nil
}

// Item is a published catalog item as the API serves it.
type Item struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Year        int    `json:"year,omitempty"`
	Subtitle    string `json:"subtitle"`
	Description string `json:"description"`
	ImageURL    string `json:"image_url"`
	URL         string `json:"url"`
	Details     []byte `json:"-"` // JSON of the cleaned record
}

// UpsertItems writes items in multi-row statements in one transaction; a rerun replaces
// rows, never adds.
func (s *Store) UpsertItems(ctx context.Context, version string, items []Item) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("upsert items: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	const per = 500
	for start := 0; start < len(items); start += per {
		batch := items[start:min(start+per, len(items))]
		var q strings.Builder
		q.WriteString(`INSERT INTO items (id, type, title, year, subtitle, description, image_url, url, details, version) VALUES `)
		args := make([]any, 0, len(batch)*10)
		for i, it := range batch {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?,?)")
			details := it.Details
			if len(details) == 0 {
				details = []byte("{}")
			}
			args = append(args, it.ID, it.Type, it.Title, it.Year, it.Subtitle, it.Description, it.ImageURL, it.URL, string(details), version)
		}
		q.WriteString(` ON DUPLICATE KEY UPDATE type=VALUES(type), title=VALUES(title), year=VALUES(year),
			subtitle=VALUES(subtitle), description=VALUES(description), image_url=VALUES(image_url), url=VALUES(url),
			details=VALUES(details), version=VALUES(version)`)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("upsert %d items: %w", len(batch), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upsert items: commit: %w", err)
	}
	return nil
}

// ItemsByID reads the items with the given ids in one query. Missing ids are absent from the map.
func (s *Store) ItemsByID(ctx context.Context, ids []string) (map[string]Item, error) {
	out := make(map[string]Item, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT id, type, title, year, subtitle, description, image_url, url, details FROM items WHERE id IN (?` +
		strings.Repeat(",?", len(ids)-1) + `)`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read %d items: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Type, &it.Title, &it.Year, &it.Subtitle, &it.Description, &it.ImageURL, &it.URL, &it.Details); err != nil {
			return nil, fmt.Errorf("scan item: %w", err)
		}
		out[it.ID] = it
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	return out, nil
}

// CreateVersion registers a version being built (idempotent: a retry keeps the row).
func (s *Store) CreateVersion(ctx context.Context, version string, shards int, workflowID, runID string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO catalog_versions (version, status, shards, workflow_id, run_id)
		VALUES (?, 'building', ?, ?, ?) ON DUPLICATE KEY UPDATE shards = VALUES(shards)`, version, shards, workflowID, runID)
	if err != nil {
		return fmt.Errorf("create version %s: %w", version, err)
	}
	return nil
}

// PutSegment stores one shard's serialized index, replacing what a previous attempt stored.
func (s *Store) PutSegment(ctx context.Context, version string, shard, docs int, data []byte) error {
	// READ COMMITTED: shards of one version are written concurrently by different workers,
	// and repeatable read's gap locks on the shared (version, shard) range deadlock them.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("put segment %s/%d: %w", version, shard, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `DELETE FROM index_segments WHERE version = ? AND shard = ?`, version, shard); err != nil {
		return fmt.Errorf("put segment %s/%d: clear: %w", version, shard, err)
	}
	chunks := max(1, (len(data)+chunkSize-1)/chunkSize)
	for c := range chunks {
		part := data[c*chunkSize : min((c+1)*chunkSize, len(data))]
		if _, err := tx.ExecContext(ctx, `INSERT INTO index_segments (version, shard, chunk, chunks, docs, data) VALUES (?,?,?,?,?,?)`,
			version, shard, c, chunks, docs, part); err != nil {
			return fmt.Errorf("put segment %s/%d chunk %d: %w", version, shard, c, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put segment %s/%d: commit: %w", version, shard, err)
	}
	return nil
}

// Version describes a catalog version.
type Version struct {
	Version     string     `json:"version"`
	Status      string     `json:"status"`
	Shards      int        `json:"shards"`
	Docs        int64      `json:"docs"`
	WorkflowID  string     `json:"workflow_id"`
	RunID       string     `json:"run_id"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// Publish switches the served version to version in one transaction, after checking that
// every shard is stored completely. Older versions' segments beyond keep are deleted.
func (s *Store) Publish(ctx context.Context, version string, keep int) (Version, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Version{}, fmt.Errorf("publish %s: %w", version, err)
	}
	defer func() { _ = tx.Rollback() }()
	var v Version
	err = tx.QueryRowContext(ctx, `SELECT version, status, shards, workflow_id, run_id, created_at FROM catalog_versions
		WHERE version = ? FOR UPDATE`, version).Scan(&v.Version, &v.Status, &v.Shards, &v.WorkflowID, &v.RunID, &v.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, fmt.Errorf("publish %s: %w", version, ErrNotFound)
	}
	if err != nil {
		return Version{}, fmt.Errorf("publish %s: %w", version, err)
	}
	var shards, badShards int
	var docs sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(bad), 0), SUM(docs) FROM (
			SELECT shard, MAX(docs) AS docs, (COUNT(*) <> MAX(chunks)) AS bad FROM index_segments WHERE version = ? GROUP BY shard) s`,
		version).Scan(&shards, &badShards, &docs)
	if err != nil {
		return Version{}, fmt.Errorf("publish %s: check shards: %w", version, err)
	}
	if shards != v.Shards || badShards > 0 {
		return Version{}, fmt.Errorf("publish %s: %d of %d shards stored, %d partial: %w", version, shards, v.Shards, badShards, ErrIncomplete)
	}
	v.Docs = docs.Int64
	if _, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET status = 'published', docs = ?,
		published_at = COALESCE(published_at, CURRENT_TIMESTAMP(6)) WHERE version = ?`, v.Docs, version); err != nil {
		return Version{}, fmt.Errorf("publish %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_current (id, version) VALUES (1, ?)
		ON DUPLICATE KEY UPDATE version = VALUES(version), switched_at = CURRENT_TIMESTAMP(6)`, version); err != nil {
		return Version{}, fmt.Errorf("publish %s: switch: %w", version, err)
	}
	if keep > 0 {
		// Keep the newest `keep` published versions' segments (so a rollback stays possible) and
		// drop the rest, including abandoned builds older than the version just published.
		if _, err := tx.ExecContext(ctx, `DELETE FROM index_segments WHERE version <> ? AND version NOT IN (
				SELECT version FROM (SELECT version FROM catalog_versions WHERE status = 'published'
					ORDER BY published_at DESC LIMIT ?) newest)
			AND version IN (SELECT version FROM catalog_versions WHERE created_at <= ?)`, version, keep, v.CreatedAt); err != nil {
			return Version{}, fmt.Errorf("publish %s: prune: %w", version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Version{}, fmt.Errorf("publish %s: commit: %w", version, err)
	}
	v.Status = "published"
	return v, nil
}

// CurrentVersion returns the served version, or ErrNotFound before the first publish.
func (s *Store) CurrentVersion(ctx context.Context) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT version FROM catalog_current WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("current version: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("current version: %w", err)
	}
	return v, nil
}

// GetVersion describes one version.
func (s *Store) GetVersion(ctx context.Context, version string) (Version, error) {
	var v Version
	err := s.db.QueryRowContext(ctx, `SELECT version, status, shards, docs, workflow_id, run_id, created_at, published_at
		FROM catalog_versions WHERE version = ?`, version).
		Scan(&v.Version, &v.Status, &v.Shards, &v.Docs, &v.WorkflowID, &v.RunID, &v.CreatedAt, &v.PublishedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("version %s: %w", version, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("version %s: %w", version, err)
	}
	return v, nil
}

// LoadSegments returns the serialized segments of version, one per shard in shard order.
func (s *Store) LoadSegments(ctx context.Context, version string) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT shard, chunk, chunks, data FROM index_segments WHERE version = ? ORDER BY shard, chunk`, version)
	if err != nil {
		return nil, fmt.Errorf("load segments of %s: %w", version, err)
	}
	defer rows.Close()
	var out [][]byte
	cur, want := -1, 0
	for rows.Next() {
		var shard, chunk, chunks int
		var data []byte
		if err := rows.Scan(&shard, &chunk, &chunks, &data); err != nil {
			return nil, fmt.Errorf("scan segment: %w", err)
		}
		if shard != cur {
			if cur >= 0 && want != 0 {
				return nil, fmt.Errorf("segment %s/%d: missing chunks: %w", version, cur, ErrIncomplete)
			}
			cur, want = shard, chunks
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], data...)
		want--
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load segments of %s: %w", version, err)
	}
	if want != 0 {
		return nil, fmt.Errorf("segment %s/%d: missing chunks: %w", version, cur, ErrIncomplete)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("segments of %s: %w", version, ErrNotFound)
	}
	return out, nil
}
