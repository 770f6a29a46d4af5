package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/events"
)

// MaxDeadLetterPayload is how much of a dead message dead_letters keeps; payload_size
// records the whole size, so a truncated payload can be told apart.
const MaxDeadLetterPayload = 64 << 10

// maxDetail bounds a dead letter's detail text.
const maxDetail = 2000

// checker decodes messages into events: the schema (events.Decode) and the time policy
// against the consumer's clock.
type checker struct {
	policy events.TimePolicy
	now    func() time.Time
}

// decode returns the event in m, or why it is not one.
func (c checker) decode(m *sarama.ConsumerMessage) (events.Event, *events.DecodeError) {
	e, err := events.Decode(m.Value)
	if err == nil {
		err = c.policy.Check(e, c.now())
	}
	if err == nil {
		return e, nil
	}
	var de *events.DecodeError
	if !errors.As(err, &de) {
		de = &events.DecodeError{Reason: "invalid", Detail: err.Error()}
	}
	return e, de
}

// pruneBefore is the event time before which consumed ids can be forgotten: events that
// old are refused by the policy, so a repeat can no longer be mistaken for a new event.
// The zero time means never (no maximum age).
func (c checker) pruneBefore() time.Time {
	if c.policy.MaxAge <= 0 {
		return time.Time{}
	}
	return c.now().Add(-c.policy.MaxAge - time.Hour)
}

// claim records the ids of evs as consumed by consumer, in tx, and reports for each event
// whether it is new: the first occurrence in the batch of an id the consumer never
// consumed before. Repeats (a producer retry after a lost ack, a replayed message) are not.
func claim(ctx context.Context, tx pgx.Tx, consumer string, evs []events.Event) ([]bool, error) {
	fresh := make([]bool, len(evs))
	first := make(map[string]int, len(evs))
	ids := make([]string, 0, len(evs))
	tss := make([]time.Time, 0, len(evs))
	for i, e := range evs {
		if _, dup := first[e.ID]; dup {
			continue
		}
		first[e.ID] = i
		ids = append(ids, e.ID)
		tss = append(tss, e.Time.UTC())
	}
	if len(ids) == 0 {
		return fresh, nil
	}
	// Look the ids up, then COPY the new ones: cheaper than INSERT … ON CONFLICT per row.
	// The batch's transaction holds the partition, so no other writer claims these ids
	// meanwhile except through a rebalance, whose conflict aborts this batch (retried).
	rows, err := tx.Query(ctx, `SELECT event_id FROM consumed_events WHERE consumer = $1 AND event_id = ANY($2)`, consumer, ids)
	if err != nil {
		return nil, fmt.Errorf("look up event ids: %w", err)
	}
	seen, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up event ids: %w", err)
	}
	old := make(map[string]bool, len(seen))
	for _, id := range seen {
		old[id] = true
	}
	newRows := make([][]any, 0, len(ids))
	for i, id := range ids {
		if !old[id] {
			fresh[first[id]] = true
			newRows = append(newRows, []any{consumer, id, tss[i]})
		}
	}
	// In id order, so two batches writing the same ids lock them in one order and cannot
	// deadlock.
	slices.SortFunc(newRows, func(a, b []any) int { return strings.Compare(a[1].(string), b[1].(string)) })
	if len(newRows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"consumed_events"}, []string{"consumer", "event_id", "ts"}, pgx.CopyFromRows(newRows)); err != nil {
			return nil, fmt.Errorf("record event ids: %w", err)
		}
	}
	return fresh, nil
}

// pruneConsumed forgets the consumer's ids of events older than before.
func pruneConsumed(ctx context.Context, db interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, consumer string, before time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM consumed_events WHERE consumer = $1 AND ts < $2`, consumer, before)
	if err != nil {
		return 0, fmt.Errorf("prune consumed event ids: %w", err)
	}
	return tag.RowsAffected(), nil
}

// insertDeadLetter records a message that will not be processed, with the reason. The
// payload is kept up to MaxDeadLetterPayload bytes; a message already recorded (a
// replayed batch) is not recorded twice.
func insertDeadLetter(ctx context.Context, tx pgx.Tx, consumer, topic string, partition int32, offset int64, reason, detail string, payload []byte) error {
	size := len(payload)
	if size > MaxDeadLetterPayload {
		payload = payload[:MaxDeadLetterPayload]
	}
	if _, err := tx.Exec(ctx, `INSERT INTO dead_letters (consumer, topic, kpartition, koffset, reason, detail, payload, payload_size)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`,
		consumer, topic, partition, offset, reason, domain.StorableText(detail, maxDetail), payload, size); err != nil {
		return fmt.Errorf("dead letter %s/%d@%d: %w", topic, partition, offset, err)
	}
	return nil
}

// transientConflict reports whether err is a deadlock or serialization failure.
func transientConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "40")
}

// rejectedByDB reports whether err is PostgreSQL refusing the data itself (a data
// exception, an integrity violation or a size limit such as an index row too large), as
// opposed to an outage or a conflict that a retry of the same batch can get past.
func rejectedByDB(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return nil, false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return pe, true
	}
	return nil, false
}
