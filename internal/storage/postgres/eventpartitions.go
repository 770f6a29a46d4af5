package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EventPartitionStore owns event_partitions: the hour partitions of raw_events that
// LandEvents recorded as materialized assets (package activities/ingestjob). It only reads
// raw_events and dead_letters, which internal/ingest's lander owns.
type EventPartitionStore struct {
	pool *pgxpool.Pool
}

// EventPartitions returns the store of the materialized event hour partitions.
func (s *Store) EventPartitions() *EventPartitionStore { return &EventPartitionStore{pool: s.pool} }

// EventPartition is one materialized hour of raw_events.
type EventPartition struct {
	Hour        time.Time
	Events      int64 // landed events of the hour
	DeadLetters int64 // dead letters received during the hour
}

// MaterializeHour records the hour starting at hour (truncated to the hour, in UTC) as
// materialized by workflowID, with its counts of events and dead letters, replacing an
// earlier record of the hour.
func (s *EventPartitionStore) MaterializeHour(ctx context.Context, hour time.Time, workflowID string) (EventPartition, error) {
	p := EventPartition{Hour: hour.UTC().Truncate(time.Hour)}
	err := s.pool.QueryRow(ctx, `WITH n AS (
			SELECT (SELECT count(*) FROM raw_events WHERE ts >= $1 AND ts < $2) AS events,
			       (SELECT count(*) FROM dead_letters WHERE received_at >= $1 AND received_at < $2) AS dead)
		INSERT INTO event_partitions (hour, status, events, dead_letters, workflow_id, materialized_at)
		SELECT $1, 'materialized', n.events, n.dead, $3, now() FROM n
		ON CONFLICT (hour) DO UPDATE SET status = 'materialized', events = EXCLUDED.events,
			dead_letters = EXCLUDED.dead_letters, workflow_id = EXCLUDED.workflow_id, materialized_at = now()
		RETURNING events, dead_letters`, p.Hour, p.Hour.Add(time.Hour), workflowID).Scan(&p.Events, &p.DeadLetters)
	if err != nil {
		return p, fmt.Errorf("event partition %s: %w", p.Hour.Format(time.RFC3339), err)
	}
	return p, nil
}
