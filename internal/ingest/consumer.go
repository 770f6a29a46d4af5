// Package ingest lands user-activity events from Kafka into PostgreSQL exactly once (the
// batch line) and keeps 5-second popularity windows (the speed line). Both are sarama
// consumer groups whose offsets live in PostgreSQL, written in the same transaction as the
// rows they cover, so a consumer killed at any moment resumes without loss or duplicates.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/kafka"
)

// TopicEvents carries user-activity events, keyed by user.
const TopicEvents = "curio.events"

// TopicDeadLetters receives messages that are not valid events, with the reason in headers.
const TopicDeadLetters = "curio.events.dlq"

// batchHandler writes one batch of a partition inside the consumer's transaction.
type batchHandler interface {
	// handle writes msgs (all from topic/partition, in offset order) using tx.
	handle(ctx context.Context, tx pgx.Tx, topic string, partition int32, msgs []*sarama.ConsumerMessage) error
	// reset drops in-memory state of a partition whose ownership (re)starts.
	reset(topic string, partition int32)
}

// Options configure a consumer.
type Options struct {
	Brokers    []string
	Topic      string        // default TopicEvents
	Group      string        // consumer group and the name its offsets are stored under
	BatchSize  int           // messages per transaction; default 500
	FlushEvery time.Duration // longest a partial batch waits; default 200ms
	// TimePolicy bounds event times against Now; nil means events.DefaultTimePolicy. A
	// consumer remembers event ids (to drop repeats) for the policy's MaxAge.
	TimePolicy *events.TimePolicy
	// Now is the consumer's clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) defaults(group string) {
	if o.Topic == "" {
		o.Topic = TopicEvents
	}
	if o.Group == "" {
		o.Group = group
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.TimePolicy == nil {
		p := events.DefaultTimePolicy()
		o.TimePolicy = &p
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o Options) checker() checker { return checker{policy: *o.TimePolicy, now: o.Now} }

// Progress is what a consumer has committed so far.
type Progress struct {
	Batches  int64 `json:"batches"`
	Messages int64 `json:"messages"`
	// Rejected counts messages the database refused (dead-lettered as db_rejected).
	Rejected int64 `json:"rejected,omitempty"`
}

type consumer struct {
	opts    Options
	pool    *pgxpool.Pool
	handler batchHandler

	mu        sync.Mutex
	progress  Progress
	lastPrune time.Time

	// hooks let tests crash the consumer at the two dangerous moments.
	beforeCommit func() error
	afterCommit  func() error
}

func (c *consumer) Progress() Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.progress
}

// run consumes until ctx ends or a batch fails; a failed batch is rolled back and run
// returns its error (the caller restarts, resuming from the stored offsets).
func (c *consumer) run(ctx context.Context) error {
	cfg := kafka.Config("curio-" + c.opts.Group)
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	cfg.Consumer.Fetch.Max = 4 << 20
	group, err := sarama.NewConsumerGroup(c.opts.Brokers, c.opts.Group, cfg)
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", c.opts.Group, err)
	}
	defer group.Close()
	h := &groupHandler{c: c}
	for ctx.Err() == nil {
		if err := group.Consume(ctx, []string{c.opts.Topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return fmt.Errorf("consume %s: %w", c.opts.Topic, err)
		}
		h.mu.Lock()
		failed := h.failed
		h.mu.Unlock()
		if failed != nil {
			return failed
		}
	}
	return nil
}

type groupHandler struct {
	c      *consumer
	mu     sync.Mutex
	failed error
	next   map[int32]int64
}

func (h *groupHandler) Setup(sess sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	h.next = map[int32]int64{}
	h.mu.Unlock()
	ctx := sess.Context()
	for topic, parts := range sess.Claims() {
		for _, p := range parts {
			h.c.handler.reset(topic, p)
			var next int64
			err := h.c.pool.QueryRow(ctx, `SELECT next_offset FROM consumer_offsets WHERE consumer = $1 AND topic = $2 AND kpartition = $3`,
				h.c.opts.Group, topic, p).Scan(&next)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("load offset of %s/%d: %w", topic, p, err)
			}
			// The database is the source of truth: move Kafka's position there, forward or back.
			sess.MarkOffset(topic, p, next, "")
			sess.ResetOffset(topic, p, next, "")
			h.mu.Lock()
			h.next[p] = next
			h.mu.Unlock()
		}
	}
	return nil
}

func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *groupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	ctx := sess.Context()
	h.mu.Lock()
	next, known := h.next[claim.Partition()]
	h.mu.Unlock()
	batch := make([]*sarama.ConsumerMessage, 0, h.c.opts.BatchSize)
	timer := time.NewTimer(h.c.opts.FlushEvery)
	defer timer.Stop()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := h.c.commit(ctx, claim.Topic(), claim.Partition(), batch); err != nil {
			return err
		}
		sess.MarkMessage(batch[len(batch)-1], "")
		batch = batch[:0]
		return nil
	}
	fail := func(err error) error {
		h.mu.Lock()
		h.failed = err
		h.mu.Unlock()
		return err
	}
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				if err := flush(); err != nil {
					return fail(err)
				}
				return nil
			}
			if known && m.Offset < next { // already committed in the database
				continue
			}
			batch = append(batch, m)
			if len(batch) >= h.c.opts.BatchSize {
				if err := flush(); err != nil {
					return fail(err)
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return fail(err)
			}
			timer.Reset(h.c.opts.FlushEvery)
		case <-ctx.Done():
			// Rebalance or shutdown: commit what we have; an uncommitted batch is simply
			// read again by the next owner.
			if err := flush(); err != nil && ctx.Err() == nil {
				return fail(err)
			}
			return nil
		}
	}
}

// commit writes one batch and its offset in a single transaction. When the database
// refuses the batch's data (a value it cannot store that validation let through), the
// batch is written again message by message, each under a savepoint, and only the
// messages it refuses are dead-lettered as db_rejected with the database's error: no
// single message can stop a partition.
func (c *consumer) commit(ctx context.Context, topic string, partition int32, msgs []*sarama.ConsumerMessage) error {
	// A batch that began must finish or roll back as a whole, even while shutting down.
	ctx = context.WithoutCancel(ctx)
	err := c.commitBatch(ctx, topic, partition, msgs, false)
	// A deadlock or serialization failure (SQLSTATE class 40) is another transaction's
	// timing, not this batch's data: try again before failing the run.
	for attempt := 1; attempt < 4 && transientConflict(err); attempt++ {
		c.opts.Logger.Warn("batch conflicted with another transaction; retrying", "consumer", c.opts.Group,
			"topic", topic, "partition", partition, "attempt", attempt, "err", err)
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		err = c.commitBatch(ctx, topic, partition, msgs, false)
	}
	if _, refused := rejectedByDB(err); !refused {
		return err
	}
	c.opts.Logger.Warn("the database refused a batch; writing it message by message",
		"consumer", c.opts.Group, "topic", topic, "partition", partition,
		"first_offset", msgs[0].Offset, "messages", len(msgs), "err", err)
	return c.commitBatch(ctx, topic, partition, msgs, true)
}

func (c *consumer) commitBatch(ctx context.Context, topic string, partition int32, msgs []*sarama.ConsumerMessage, oneByOne bool) error {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var rejected int64
	if !oneByOne {
		// A failed handle changed no in-memory state (handlers update it only on success), so
		// the fallback below starts from the same watermark.
		if err := c.handler.handle(ctx, tx, topic, partition, msgs); err != nil {
			return err
		}
	} else {
		for _, m := range msgs {
			ok, err := c.handleOne(ctx, tx, topic, partition, m)
			if err != nil {
				c.handler.reset(topic, partition)
				return err
			}
			if !ok {
				rejected++
			}
		}
	}
	last := msgs[len(msgs)-1].Offset
	if _, err := tx.Exec(ctx, `INSERT INTO consumer_offsets (consumer, topic, kpartition, next_offset, updated_at)
		VALUES ($1, $2, $3, $4, now()) ON CONFLICT (consumer, topic, kpartition)
		DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`, c.opts.Group, topic, partition, last+1); err != nil {
		return fmt.Errorf("store offset: %w", err)
	}
	if c.beforeCommit != nil {
		if err := c.beforeCommit(); err != nil {
			c.handler.reset(topic, partition)
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		c.handler.reset(topic, partition)
		return fmt.Errorf("commit batch: %w", err)
	}
	c.mu.Lock()
	c.progress.Batches++
	c.progress.Messages += int64(len(msgs))
	c.progress.Rejected += rejected
	prune := time.Since(c.lastPrune) > pruneEvery
	if prune {
		c.lastPrune = time.Now()
	}
	c.mu.Unlock()
	if prune {
		c.prune(ctx)
	}
	if c.afterCommit != nil {
		return c.afterCommit()
	}
	return nil
}

// handleOne writes one message under a savepoint. It reports false when the database
// refused it, in which case the message is dead-lettered instead.
func (c *consumer) handleOne(ctx context.Context, tx pgx.Tx, topic string, partition int32, m *sarama.ConsumerMessage) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	herr := c.handler.handle(ctx, sp, topic, partition, []*sarama.ConsumerMessage{m})
	if herr == nil {
		if err := sp.Commit(ctx); err != nil {
			return false, fmt.Errorf("release savepoint: %w", err)
		}
		return true, nil
	}
	pe, refused := rejectedByDB(herr)
	if err := sp.Rollback(ctx); err != nil {
		return false, errors.Join(herr, fmt.Errorf("roll back to savepoint: %w", err))
	}
	if !refused {
		return false, herr
	}
	c.opts.Logger.Warn("the database refused a message; dead-lettered", "consumer", c.opts.Group,
		"topic", topic, "partition", partition, "offset", m.Offset, "code", pe.Code, "err", pe.Message)
	detail := fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	if err := insertDeadLetter(ctx, tx, c.opts.Group, topic, partition, m.Offset, events.ReasonDBRejected, detail, m.Value); err != nil {
		return false, err
	}
	return false, nil
}

// pruneEvery is how often a consumer forgets event ids older than its maximum age.
const pruneEvery = 10 * time.Minute

// prune forgets consumed event ids past the dedupe horizon; a failure is logged and
// retried at the next prune, as the table only grows meanwhile.
func (c *consumer) prune(ctx context.Context) {
	before := c.opts.checker().pruneBefore()
	if before.IsZero() {
		return
	}
	n, err := pruneConsumed(ctx, c.pool, c.opts.Group, before)
	if err != nil {
		c.opts.Logger.Warn("prune consumed event ids", "consumer", c.opts.Group, "err", err)
		return
	}
	if n > 0 {
		c.opts.Logger.Info("pruned consumed event ids", "consumer", c.opts.Group, "rows", n, "before", before)
	}
}

// Offsets returns the stored next offsets of a consumer, by partition.
func Offsets(ctx context.Context, pool *pgxpool.Pool, group, topic string) (map[int32]int64, error) {
	rows, err := pool.Query(ctx, `SELECT kpartition, next_offset FROM consumer_offsets WHERE consumer = $1 AND topic = $2`, group, topic)
	if err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", group, err)
	}
	defer rows.Close()
	out := map[int32]int64{}
	for rows.Next() {
		var p int32
		var o int64
		if err := rows.Scan(&p, &o); err != nil {
			return nil, fmt.Errorf("offsets of %s: %w", group, err)
		}
		out[p] = o
	}
	return out, rows.Err()
}

// HighWater returns the next offset Kafka will assign in each partition of topic.
func HighWater(brokers []string, topic string) (map[int32]int64, error) {
	c, err := sarama.NewClient(brokers, kafka.Config("curio-highwater"))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		if out[p], err = c.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
			return nil, fmt.Errorf("high water of %s/%d: %w", topic, p, err)
		}
	}
	return out, nil
}
