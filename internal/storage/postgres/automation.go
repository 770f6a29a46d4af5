package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/domain"
)

// AutomationStore holds what the automation workflow must not forget: the runs it
// claimed (one per trigger, ever), the cursors of its cron policies, and its sensors'
// cursors and ticks.
type AutomationStore struct{ pool *pgxpool.Pool }

// Automation returns the automation store.
func (s *Store) Automation() *AutomationStore { return &AutomationStore{pool: s.pool} }

// AutomationRun is one run the automation claimed for a trigger.
type AutomationRun struct {
	Job        string     `json:"job"`
	Partition  string     `json:"partition,omitempty"`
	Trigger    string     `json:"trigger"`
	Source     string     `json:"source"`
	Assets     []string   `json:"assets,omitempty"`
	WorkflowID string     `json:"workflow_id"`
	Input      []byte     `json:"-"` // JSON
	RunID      string     `json:"run_id,omitempty"`
	ClaimedAt  time.Time  `json:"claimed_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	Status     string     `json:"status,omitempty"`
	Error      string     `json:"error,omitempty"`
}

const automationRunCols = `job, partition, trigger, source, assets, workflow_id, input, run_id, claimed_at, started_at, closed_at, status, error`

func scanAutomationRun(r pgx.CollectableRow) (AutomationRun, error) {
	var a AutomationRun
	err := r.Scan(&a.Job, &a.Partition, &a.Trigger, &a.Source, &a.Assets, &a.WorkflowID, &a.Input, &a.RunID, &a.ClaimedAt,
		&a.StartedAt, &a.ClosedAt, &a.Status, &a.Error)
	return a, err
}

// automationLock is the advisory lock one evaluation holds (hashtext('curio-automation')):
// two evaluations at once (an automation workflow restarted while its last tick still
// runs) would each see the other's runs as not yet in flight.
const automationLock = `hashtext('curio-automation')`

// TryLock takes the automation's advisory lock on a connection of its own; ok is false
// when another evaluation holds it. unlock releases it.
func (s *AutomationStore) TryLock(ctx context.Context) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("automation lock: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+automationLock+`)`).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, false, fmt.Errorf("automation lock: %w", err)
		}
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(`+automationLock+`)`); err != nil {
			conn.Conn().Close(ctx) // the session ends, and its lock with it
		}
		conn.Release()
	}, true, nil
}

// Claim records that trigger starts a run of job's partition as workflowID. It returns the
// row and whether this call created it; an existing row means the trigger was claimed
// before (its run may not have started yet when RunID is "").
func (s *AutomationStore) Claim(ctx context.Context, r AutomationRun) (AutomationRun, bool, error) {
	if r.Assets == nil {
		r.Assets = []string{}
	}
	if len(r.Input) == 0 {
		r.Input = []byte("{}")
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO automation_runs (job, partition, trigger, source, assets, workflow_id, input)
		VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb) ON CONFLICT DO NOTHING RETURNING `+automationRunCols,
		r.Job, r.Partition, r.Trigger, r.Source, r.Assets, r.WorkflowID, string(r.Input))
	if err != nil {
		return AutomationRun{}, false, fmt.Errorf("claim %s[%s] for %s: %w", r.Job, r.Partition, r.Trigger, err)
	}
	got, err := pgx.CollectRows(rows, scanAutomationRun)
	if err != nil {
		return AutomationRun{}, false, fmt.Errorf("claim %s[%s] for %s: %w", r.Job, r.Partition, r.Trigger, err)
	}
	if len(got) == 1 {
		return got[0], true, nil
	}
	rows, err = s.pool.Query(ctx, `SELECT `+automationRunCols+` FROM automation_runs
		WHERE job = $1 AND partition = $2 AND md5(trigger) = md5($3) AND trigger = $3`,
		r.Job, r.Partition, r.Trigger)
	if err != nil {
		return AutomationRun{}, false, fmt.Errorf("claimed run of %s[%s] for %s: %w", r.Job, r.Partition, r.Trigger, err)
	}
	existing, err := pgx.CollectExactlyOneRow(rows, scanAutomationRun)
	if err != nil {
		return AutomationRun{}, false, fmt.Errorf("claimed run of %s[%s] for %s: %w", r.Job, r.Partition, r.Trigger, err)
	}
	return existing, false, nil
}

// Started records the run a claim started (or found already started).
func (s *AutomationStore) Started(ctx context.Context, r AutomationRun, runID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE automation_runs SET run_id = $4, started_at = coalesce(started_at, now()), error = ''
		WHERE job = $1 AND partition = $2 AND md5(trigger) = md5($3) AND trigger = $3`, r.Job, r.Partition, r.Trigger, runID)
	if err != nil {
		return fmt.Errorf("record start of %s: %w", r.WorkflowID, err)
	}
	return nil
}

// StartFailed records why a claimed run could not start; the next evaluation tries again.
func (s *AutomationStore) StartFailed(ctx context.Context, r AutomationRun, cause error) error {
	_, err := s.pool.Exec(ctx, `UPDATE automation_runs SET error = $4 WHERE job = $1 AND partition = $2 AND md5(trigger) = md5($3) AND trigger = $3`,
		r.Job, r.Partition, r.Trigger, domain.StorableText(cause.Error(), 2000))
	if err != nil {
		return fmt.Errorf("record failed start of %s: %w", r.WorkflowID, err)
	}
	return nil
}

// Closed records that a started run finished with status.
func (s *AutomationStore) Closed(ctx context.Context, r AutomationRun, status string) error {
	_, err := s.pool.Exec(ctx, `UPDATE automation_runs SET closed_at = now(), status = $4
		WHERE job = $1 AND partition = $2 AND md5(trigger) = md5($3) AND trigger = $3`, r.Job, r.Partition, r.Trigger, status)
	if err != nil {
		return fmt.Errorf("record close of %s: %w", r.WorkflowID, err)
	}
	return nil
}

// Open returns the claimed runs not yet seen closed (unstarted claims included).
func (s *AutomationStore) Open(ctx context.Context) ([]AutomationRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+automationRunCols+` FROM automation_runs WHERE closed_at IS NULL ORDER BY claimed_at`)
	if err != nil {
		return nil, fmt.Errorf("open automation runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAutomationRun)
	if err != nil {
		return nil, fmt.Errorf("open automation runs: %w", err)
	}
	return out, nil
}

// Recent returns the newest claimed runs, newest first; job "" selects every job.
func (s *AutomationStore) Recent(ctx context.Context, job string, limit int) ([]AutomationRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+automationRunCols+` FROM automation_runs WHERE $1 = '' OR job = $1
		ORDER BY claimed_at DESC LIMIT $2`, job, limit)
	if err != nil {
		return nil, fmt.Errorf("recent automation runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAutomationRun)
	if err != nil {
		return nil, fmt.Errorf("recent automation runs: %w", err)
	}
	return out, nil
}

// Cursor returns a named cursor, and false when it was never set.
func (s *AutomationStore) Cursor(ctx context.Context, name string) (time.Time, bool, error) {
	var t time.Time
	err := s.pool.QueryRow(ctx, `SELECT value FROM automation_cursors WHERE name = $1`, name).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("automation cursor %s: %w", name, err)
	}
	return t, true, nil
}

// SetCursor moves a named cursor forward (never back).
func (s *AutomationStore) SetCursor(ctx context.Context, name string, t time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO automation_cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = greatest(automation_cursors.value, EXCLUDED.value)`, name, t)
	if err != nil {
		return fmt.Errorf("set automation cursor %s: %w", name, err)
	}
	return nil
}

// SensorState is a sensor's durable cursor and when it was last evaluated.
type SensorState struct {
	Cursor     string
	LastTickAt time.Time
}

// SensorState returns a sensor's state (zero when never evaluated).
func (s *AutomationStore) SensorState(ctx context.Context, sensor string) (SensorState, error) {
	var st SensorState
	var last *time.Time
	err := s.pool.QueryRow(ctx, `SELECT cursor, last_tick_at FROM sensor_state WHERE sensor = $1`, sensor).Scan(&st.Cursor, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return SensorState{}, nil
	}
	if err != nil {
		return SensorState{}, fmt.Errorf("sensor %s state: %w", sensor, err)
	}
	if last != nil {
		st.LastTickAt = *last
	}
	return st, nil
}

// SensorTick is one evaluation of a sensor.
type SensorTick struct {
	Sensor      string    `json:"sensor"`
	Job         string    `json:"job"`
	At          time.Time `json:"at"`
	Status      string    `json:"status"` // fired, skipped or failed
	Reason      string    `json:"reason,omitempty"`
	WorkflowIDs []string  `json:"workflow_ids,omitempty"`
}

// Sensor tick statuses.
const (
	TickFired   = "fired"
	TickSkipped = "skipped"
	TickFailed  = "failed"
)

// RecordTick records a sensor's evaluation and, when cursor is not nil, its new cursor.
func (s *AutomationStore) RecordTick(ctx context.Context, t SensorTick, cursor *string) error {
	if t.WorkflowIDs == nil {
		t.WorkflowIDs = []string{}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sensor_ticks (sensor, job, at, status, reason, workflow_ids) VALUES ($1,$2,$3,$4,$5,$6)`,
			t.Sensor, t.Job, t.At, t.Status, domain.StorableText(t.Reason, 2000), t.WorkflowIDs); err != nil {
			return fmt.Errorf("record tick of sensor %s: %w", t.Sensor, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sensor_state (sensor, cursor, last_tick_at) VALUES ($1, coalesce($2, ''), $3)
			ON CONFLICT (sensor) DO UPDATE SET cursor = coalesce($2, sensor_state.cursor), last_tick_at = EXCLUDED.last_tick_at`,
			t.Sensor, cursor, t.At); err != nil {
			return fmt.Errorf("save sensor %s state: %w", t.Sensor, err)
		}
		return nil
	})
}

// Ticks returns a sensor's newest ticks, newest first ("" for every sensor).
func (s *AutomationStore) Ticks(ctx context.Context, sensor string, limit int) ([]SensorTick, error) {
	rows, err := s.pool.Query(ctx, `SELECT sensor, job, at, status, reason, workflow_ids FROM sensor_ticks
		WHERE $1 = '' OR sensor = $1 ORDER BY at DESC, id DESC LIMIT $2`, sensor, limit)
	if err != nil {
		return nil, fmt.Errorf("sensor ticks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SensorTick, error) {
		var t SensorTick
		err := r.Scan(&t.Sensor, &t.Job, &t.At, &t.Status, &t.Reason, &t.WorkflowIDs)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("sensor ticks: %w", err)
	}
	return out, nil
}

// PruneTicks deletes sensor ticks older than before.
func (s *AutomationStore) PruneTicks(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sensor_ticks WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune sensor ticks: %w", err)
	}
	return tag.RowsAffected(), nil
}
