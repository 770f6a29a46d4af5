package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mariaEngine queries an InnoDB FULLTEXT index over (title, people, text).
type mariaEngine struct {
	admin *sql.DB // server connection without a default database
	db    *sql.DB // connections to the benchmark database
	name  string  // database name, dropped by Close
	stmt  *sql.Stmt
}

const mariaSearchSQL = `SELECT id, MATCH(title, people, text) AGAINST (? IN NATURAL LANGUAGE MODE) AS s
FROM docs WHERE MATCH(title, people, text) AGAINST (? IN NATURAL LANGUAGE MODE)
ORDER BY s DESC LIMIT 10`

// buildMaria creates a fresh database, loads docs with multi-row INSERTs of
// batchRows rows over two connections, then adds the FULLTEXT index (the
// bulk-load path InnoDB recommends: one sort-based build instead of
// maintaining the FTS cache row by row).
func buildMaria(ctx context.Context, adminDSN string, docs []doc, batchRows int) (*mariaEngine, buildInfo, error) {
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		return nil, buildInfo{}, fmt.Errorf("mysql dsn: %w", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, buildInfo{}, err
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, buildInfo{}, fmt.Errorf("mysql: %w (use -skip-mysql to run without MariaDB)", err)
	}
	e := &mariaEngine{admin: admin, name: fmt.Sprintf("curio_bench_search_%d", os.Getpid())}
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+e.name); err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+e.name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	dcfg := cfg.Clone()
	dcfg.DBName = e.name
	dcfg.InterpolateParams = true
	// Session-only: keep the sort of large match sets in memory rather than
	// in on-disk temporary tables under the server's tmpdir.
	if dcfg.Params == nil {
		dcfg.Params = map[string]string{}
	}
	dcfg.Params["tmp_table_size"] = "268435456"
	dcfg.Params["max_heap_table_size"] = "268435456"
	if e.db, err = sql.Open("mysql", dcfg.FormatDSN()); err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	e.db.SetMaxOpenConns(2)
	e.db.SetMaxIdleConns(2)
	// FTS_DOC_ID lets ADD FULLTEXT build in place without rebuilding the table.
	_, err = e.db.ExecContext(ctx, `CREATE TABLE docs (
  FTS_DOC_ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  id VARCHAR(32) NOT NULL,
  title VARCHAR(512) NOT NULL,
  people TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY FTS_DOC_ID_INDEX (FTS_DOC_ID)
) ENGINE=InnoDB`)
	if err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}

	start := time.Now()
	nBatch := (len(docs) + batchRows - 1) / batchRows
	batches := make(chan int)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for bi := range batches {
				if err := e.insert(ctx, docs[bi*batchRows:min(len(docs), (bi+1)*batchRows)]); err != nil {
					errs <- err
					for range batches {
					}
					return
				}
			}
		})
	}
	for bi := range nBatch {
		batches <- bi
	}
	close(batches)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	loaded := time.Since(start)
	if _, err := e.db.ExecContext(ctx, "ALTER TABLE docs ADD FULLTEXT INDEX ft (title, people, text)"); err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	elapsed := time.Since(start)

	if _, err := e.db.ExecContext(ctx, "ANALYZE TABLE docs"); err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	var data, index int64
	err = e.db.QueryRowContext(ctx, `SELECT DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'docs'`, e.name).Scan(&data, &index)
	if err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	// The FULLTEXT index lives in auxiliary FTS_* tables that INDEX_LENGTH
	// does not count.
	var fts sql.NullInt64
	err = e.db.QueryRowContext(ctx, `SELECT SUM(ALLOCATED_SIZE) FROM information_schema.INNODB_SYS_TABLESPACES
WHERE NAME LIKE ?`, e.name+"/fts\\_%").Scan(&fts)
	if err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	if e.stmt, err = e.db.PrepareContext(ctx, mariaSearchSQL); err != nil {
		e.Close()
		return nil, buildInfo{}, err
	}
	return e, buildInfo{
		elapsed: elapsed, memory: data + index + fts.Int64,
		note: fmt.Sprintf("on disk: data %s + indexes %s + FTS tables %s; INSERT %.1fs + ADD FULLTEXT %.1fs",
			mib(data), mib(index), mib(fts.Int64), loaded.Seconds(), (elapsed - loaded).Seconds()),
	}, nil
}

func (e *mariaEngine) insert(ctx context.Context, docs []doc) error {
	var sb strings.Builder
	sb.WriteString("INSERT INTO docs (id, title, people, text) VALUES ")
	args := make([]any, 0, 4*len(docs))
	for i := range docs {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?)")
		d := &docs[i]
		args = append(args, d.ID, d.Title, strings.Join(d.People, ", "), d.Text)
	}
	_, err := e.db.ExecContext(ctx, sb.String(), args...)
	return err
}

// Search runs the FULLTEXT query, retrying once on a server error.
func (e *mariaEngine) Search(q string) ([]string, error) {
	ids, err := e.search(q)
	if err != nil {
		logf("MariaDB: %q: %v; retrying once", q, err)
		ids, err = e.search(q)
	}
	return ids, err
}

func (e *mariaEngine) search(q string) ([]string, error) {
	rows, err := e.stmt.Query(q, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		var s float64
		if err := rows.Scan(&id, &s); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Close drops the benchmark database and closes the connections.
func (e *mariaEngine) Close() error {
	if e.stmt != nil {
		e.stmt.Close()
	}
	if e.db != nil {
		e.db.Close()
	}
	_, err := e.admin.Exec("DROP DATABASE IF EXISTS " + e.name)
	e.admin.Close()
	return err
}
