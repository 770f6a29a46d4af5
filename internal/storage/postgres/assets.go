package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/assets"
)

// RecordMaterialization stores one run's outcome for an asset partition (idempotent per
// run: a retried activity replaces its row).
func (s *Store) RecordMaterialization(ctx context.Context, m assets.Materialization) error {
	checks, err := json.Marshal(m.Checks)
	if err != nil {
		return fmt.Errorf("encode checks: %w", err)
	}
	if m.Checks == nil {
		checks = []byte("[]")
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO asset_materializations (asset, partition, status, workflow_id, run_id, rows,
			data_version, started_at, finished_at, checks, error)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,now(),$9::jsonb,$10)
		ON CONFLICT (asset, partition, run_id) DO UPDATE SET status = EXCLUDED.status, rows = EXCLUDED.rows,
			data_version = EXCLUDED.data_version, finished_at = now(), checks = EXCLUDED.checks, error = EXCLUDED.error`,
		m.Asset, m.Partition, m.Status, m.WorkflowID, m.RunID, m.Rows, m.DataVersion, m.StartedAt, string(checks), m.Error)
	if err != nil {
		return fmt.Errorf("record materialization of %s[%s]: %w", m.Asset, m.Partition, err)
	}
	return nil
}

func scanMaterialization(r pgx.CollectableRow) (assets.Materialization, error) {
	var m assets.Materialization
	var checks []byte
	err := r.Scan(&m.Asset, &m.Partition, &m.Status, &m.WorkflowID, &m.RunID, &m.Rows, &m.DataVersion, &m.StartedAt,
		&m.FinishedAt, &checks, &m.Error)
	if err == nil {
		err = json.Unmarshal(checks, &m.Checks)
	}
	return m, err
}

const materializationCols = `asset, partition, status, workflow_id, run_id, rows, data_version, started_at, finished_at, checks, error`

// LatestMaterializations returns, for each partition of asset, its most recent record.
func (s *Store) LatestMaterializations(ctx context.Context, asset string) (map[string]assets.Materialization, error) {
	return s.latest(ctx, asset, false)
}

// LatestSuccesses returns, for each partition of asset, its most recent successful record
// (a later failure does not hide it).
func (s *Store) LatestSuccesses(ctx context.Context, asset string) (map[string]assets.Materialization, error) {
	return s.latest(ctx, asset, true)
}

func (s *Store) latest(ctx context.Context, asset string, successOnly bool) (map[string]assets.Materialization, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (partition) `+materializationCols+` FROM asset_materializations
		WHERE asset = $1 AND (NOT $2 OR status = 'materialized') ORDER BY partition, finished_at DESC, id DESC`, asset, successOnly)
	if err != nil {
		return nil, fmt.Errorf("materializations of %s: %w", asset, err)
	}
	ms, err := pgx.CollectRows(rows, scanMaterialization)
	if err != nil {
		return nil, fmt.Errorf("materializations of %s: %w", asset, err)
	}
	out := make(map[string]assets.Materialization, len(ms))
	for _, m := range ms {
		out[m.Partition] = m
	}
	return out, nil
}

// MaxHistory caps the materializations one MaterializationHistory call returns.
const MaxHistory = 500

// MaterializationHistory returns asset's recorded materializations, newest first, at most
// limit of them (1 to MaxHistory; out of range: MaxHistory). A non-empty partition keeps
// that partition's only; "" keeps every partition (an unpartitioned asset's only partition
// is "" anyway).
func (s *Store) MaterializationHistory(ctx context.Context, asset, partition string, limit int) ([]assets.Materialization, error) {
	if limit <= 0 || limit > MaxHistory {
		limit = MaxHistory
	}
	rows, err := s.pool.Query(ctx, `SELECT `+materializationCols+` FROM asset_materializations
		WHERE asset = $1 AND ($2 = '' OR partition = $2) ORDER BY finished_at DESC, id DESC LIMIT $3`, asset, partition, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", asset, err)
	}
	ms, err := pgx.CollectRows(rows, scanMaterialization)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", asset, err)
	}
	return ms, nil
}

// LastSuccess returns when each asset last materialized successfully (any partition).
func (s *Store) LastSuccess(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT asset, max(finished_at) FROM asset_materializations WHERE status = 'materialized' GROUP BY asset`)
	if err != nil {
		return nil, fmt.Errorf("last successes: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var a string
		var t time.Time
		if err := rows.Scan(&a, &t); err != nil {
			return nil, fmt.Errorf("last successes: %w", err)
		}
		out[a] = t
	}
	return out, rows.Err()
}

// EventHourRange returns the first and last hour holding landed events (zero times if none).
func (s *Store) EventHourRange(ctx context.Context) (time.Time, time.Time, error) {
	var from, to *time.Time
	err := s.pool.QueryRow(ctx, `SELECT date_trunc('hour', min(ts)), date_trunc('hour', max(ts)) FROM raw_events`).Scan(&from, &to)
	if err != nil || from == nil {
		return time.Time{}, time.Time{}, err
	}
	return from.UTC(), to.UTC(), nil
}
