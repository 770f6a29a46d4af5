package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/domain"
	"github.com/curiodata/curio/internal/events"
)

// LanderGroup is the default consumer group of the batch line.
const LanderGroup = "curio-lander"

// Lander lands events into raw_events (hour partitions) and invalid messages into
// dead_letters, exactly once.
type Lander struct {
	c   *consumer
	dlq sarama.SyncProducer // optional: dead letters are also forwarded to TopicDeadLetters
}

// NewLander returns a Lander. dlq may be nil.
func NewLander(pool *pgxpool.Pool, opts Options, dlq sarama.SyncProducer) *Lander {
	opts.defaults(LanderGroup)
	l := &Lander{dlq: dlq}
	l.c = &consumer{opts: opts, pool: pool, handler: &landHandler{l: l, group: opts.Group, check: opts.checker()}}
	return l
}

// Run consumes until ctx ends (nil) or a batch fails (its error; restart to resume).
func (l *Lander) Run(ctx context.Context) error { return l.c.run(ctx) }

// Progress reports committed batches and messages.
func (l *Lander) Progress() Progress { return l.c.Progress() }

type landHandler struct {
	l     *Lander
	group string
	check checker
}

func (h *landHandler) reset(string, int32) {}

func eventColumns() []string {
	return []string{"event_id", "type", "user_id", "ts", "session_id", "item_id", "item_type", "country", "query",
		"category", "amount", "source_item", "target_item", "topic", "kpartition", "koffset"}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type deadMessage struct {
	m   *sarama.ConsumerMessage
	err *events.DecodeError
}

func (h *landHandler) handle(ctx context.Context, tx pgx.Tx, topic string, partition int32, msgs []*sarama.ConsumerMessage) error {
	var deads []deadMessage
	valid := make([]events.Event, 0, len(msgs))
	validMsgs := make([]*sarama.ConsumerMessage, 0, len(msgs))
	for _, m := range msgs {
		e, de := h.check.decode(m)
		if de != nil {
			deads = append(deads, deadMessage{m, de})
			continue
		}
		valid = append(valid, e)
		validMsgs = append(validMsgs, m)
	}
	fresh, err := claim(ctx, tx, h.group, valid)
	if err != nil {
		return err
	}
	rows := make([][]any, 0, len(valid))
	hours := map[time.Time]bool{}
	for i, e := range valid {
		m := validMsgs[i]
		if !fresh[i] {
			deads = append(deads, deadMessage{m, &events.DecodeError{Reason: events.ReasonDuplicate, Field: "event_id",
				Detail: fmt.Sprintf("event_id %q was already landed", e.ID)}})
			continue
		}
		ts := e.Time.UTC()
		hours[ts.Truncate(time.Hour)] = true
		var amount any
		if e.Type == events.TypePurchase {
			amount = e.Amount
		}
		rows = append(rows, []any{e.ID, string(e.Type), e.UserID, ts, nullable(e.Session), nullable(e.ItemID), nullable(e.ItemType),
			nullable(e.Country), nullable(e.Query), nullable(e.Category), amount, nullable(e.Source), nullable(e.Target),
			topic, partition, m.Offset})
	}
	for hr := range hours {
		if err := h.ensurePartition(ctx, tx, hr); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"raw_events"}, eventColumns(), pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy %d events: %w", len(rows), err)
		}
	}
	for _, d := range deads {
		if err := insertDeadLetter(ctx, tx, h.group, topic, partition, d.m.Offset, d.err.Reason, d.err.Error(), d.m.Value); err != nil {
			return err
		}
	}
	if h.l.dlq != nil && len(deads) > 0 {
		// Forwarding is best effort and at least once: the table is the record.
		for _, d := range deads {
			value := d.m.Value
			if len(value) > MaxDeadLetterPayload {
				value = value[:MaxDeadLetterPayload]
			}
			_, _, _ = h.l.dlq.SendMessage(&sarama.ProducerMessage{Topic: TopicDeadLetters, Key: sarama.ByteEncoder(d.m.Key),
				Value: sarama.ByteEncoder(value), Headers: []sarama.RecordHeader{
					{Key: []byte("reason"), Value: []byte(d.err.Reason)}, {Key: []byte("detail"), Value: []byte(domain.StorableText(d.err.Detail, maxDetail))},
					{Key: []byte("source"), Value: fmt.Appendf(nil, "%s/%d@%d", topic, partition, d.m.Offset)}}})
		}
	}
	return nil
}

// PartitionName is the raw_events partition table holding the hour starting at hr.
func PartitionName(hr time.Time) string { return "raw_events_" + hr.UTC().Format("2006010215") }

// ensurePartition creates the hour's partition if needed. An advisory lock serializes
// creators so concurrent consumers do not race on the same hour.
func (h *landHandler) ensurePartition(ctx context.Context, tx pgx.Tx, hr time.Time) error {
	name := PartitionName(hr)
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
		return fmt.Errorf("check partition %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, name); err != nil {
		return fmt.Errorf("lock partition %s: %w", name, err)
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF raw_events FOR VALUES FROM ('%s') TO ('%s')`,
		pgx.Identifier{name}.Sanitize(), hr.UTC().Format(time.RFC3339), hr.Add(time.Hour).UTC().Format(time.RFC3339)))
	if err != nil {
		return fmt.Errorf("create partition %s: %w", name, err)
	}
	return nil
}
