package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// ModelRow is one published row of a batch model.
type ModelRow struct {
	Key     string
	Rank    int
	Payload []byte // JSON
}

// PutModelRows upserts rows of a model version (idempotent).
func (s *Store) PutModelRows(ctx context.Context, model, version string, rows []ModelRow) error {
	const per = 500
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO model_rows (model, version, row_key, `rank`, payload) VALUES ")
		args := make([]any, 0, len(batch)*5)
		for i, r := range batch {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?,?,?)")
			args = append(args, model, version, r.Key, r.Rank, string(r.Payload))
		}
		q.WriteString(" ON DUPLICATE KEY UPDATE `rank` = VALUES(`rank`), payload = VALUES(payload)")
		if _, err := s.db.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("put %d %s rows: %w", len(batch), model, err)
		}
	}
	return nil
}

// SwitchModel makes version the served one for model and drops rows of versions other
// than it and the previous one.
func (s *Store) SwitchModel(ctx context.Context, model, version string) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("switch %s: %w", model, err)
	}
	defer func() { _ = tx.Rollback() }()
	var rows int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM model_rows WHERE model = ? AND version = ?`, model, version).Scan(&rows); err != nil {
		return 0, fmt.Errorf("switch %s: %w", model, err)
	}
	var prev string
	err = tx.QueryRowContext(ctx, `SELECT version FROM model_current WHERE model = ? FOR UPDATE`, model).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("switch %s: %w", model, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO model_current (model, version, `rows`) VALUES (?, ?, ?) "+
		"ON DUPLICATE KEY UPDATE version = VALUES(version), `rows` = VALUES(`rows`), switched_at = CURRENT_TIMESTAMP(6)", model, version, rows); err != nil {
		return 0, fmt.Errorf("switch %s: %w", model, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM model_rows WHERE model = ? AND version <> ? AND version <> ?`, model, version, prev); err != nil {
		return 0, fmt.Errorf("switch %s: prune: %w", model, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("switch %s: %w", model, err)
	}
	return rows, nil
}

// ModelRow returns one row of the served version of model, or ErrNotFound.
func (s *Store) ModelRow(ctx context.Context, model, key string) ([]byte, error) {
	var payload []byte
	err := s.db.QueryRowContext(ctx, `SELECT r.payload FROM model_rows r JOIN model_current c ON c.model = r.model AND c.version = r.version
		WHERE r.model = ? AND r.row_key = ?`, model, key).Scan(&payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s row %q: %w", model, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s row %s: %w", model, key, err)
	}
	return payload, nil
}

// TopModelRows returns the served version's rows of model with the lowest ranks.
func (s *Store) TopModelRows(ctx context.Context, model string, limit int) ([]ModelRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT r.row_key, r.`rank`, r.payload FROM model_rows r "+
		"JOIN model_current c ON c.model = r.model AND c.version = r.version WHERE r.model = ? ORDER BY r.`rank`, r.row_key LIMIT ?", model, limit)
	if err != nil {
		return nil, fmt.Errorf("top %s rows: %w", model, err)
	}
	defer rows.Close()
	var out []ModelRow
	for rows.Next() {
		var r ModelRow
		if err := rows.Scan(&r.Key, &r.Rank, &r.Payload); err != nil {
			return nil, fmt.Errorf("top %s rows: %w", model, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
