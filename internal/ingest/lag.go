package ingest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// DefaultStuckAfter is how long a partition may show lag without its committed offset
// moving before it is reported stuck.
const DefaultStuckAfter = 2 * time.Minute

// PartitionLag is one consumer's position in one partition against Kafka's high water.
type PartitionLag struct {
	Consumer  string `json:"consumer"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Committed is the next offset the consumer reads, as stored with its data.
	Committed int64 `json:"committed_offset"`
	// HighWater is the next offset Kafka assigns in the partition.
	HighWater int64 `json:"high_water"`
	// Lag is how many messages the consumer has yet to commit.
	Lag int64 `json:"lag"`
	// LastCommit is when the consumer last committed a batch of the partition.
	LastCommit *time.Time `json:"last_commit,omitempty"`
	// Stuck: the partition has had lag while its committed offset did not move for the
	// reader's stuck-after period. Alert on it.
	Stuck bool `json:"stuck"`
}

// lagTracker remembers since when each partition's committed offset has stood still
// while lagging, across calls of Reader.Lag.
type lagTracker struct {
	brokers    []string
	topic      string
	groups     []string
	stuckAfter time.Duration
	now        func() time.Time

	mu    sync.Mutex
	still map[lagKey]stillSince
}

type lagKey struct {
	group     string
	partition int32
}

type stillSince struct {
	committed int64
	since     time.Time // when the partition started lagging at this committed offset
	lagging   bool
}

// LagOptions configure Reader.WithLag.
type LagOptions struct {
	Brokers    []string
	Topic      string        // default TopicEvents
	Groups     []string      // default LanderGroup and StreamGroup
	StuckAfter time.Duration // default DefaultStuckAfter
	Now        func() time.Time
}

// WithLag returns a copy of r that also reports consumer lag (Lag, and Stats.Partitions)
// against the Kafka brokers in o.
func (r *Reader) WithLag(o LagOptions) *Reader {
	if o.Topic == "" {
		o.Topic = TopicEvents
	}
	if len(o.Groups) == 0 {
		o.Groups = []string{LanderGroup, StreamGroup}
	}
	if o.StuckAfter <= 0 {
		o.StuckAfter = DefaultStuckAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Reader{pool: r.pool, lag: &lagTracker{brokers: o.Brokers, topic: o.Topic, groups: o.Groups,
		stuckAfter: o.StuckAfter, now: o.Now, still: map[lagKey]stillSince{}}}
}

// Lag returns every consumer's lag per partition, consumers and partitions in order. It
// returns nil when the reader has no Kafka brokers (see WithLag).
func (r *Reader) Lag(ctx context.Context) ([]PartitionLag, error) {
	t := r.lag
	if t == nil || len(t.brokers) == 0 {
		return nil, nil
	}
	hw, err := highWaterCtx(ctx, t.brokers, t.topic)
	if err != nil {
		return nil, fmt.Errorf("consumer lag: %w", err)
	}
	rows, err := r.pool.Query(ctx, `SELECT consumer, kpartition, next_offset, updated_at FROM consumer_offsets
		WHERE topic = $1 AND consumer = ANY($2)`, t.topic, t.groups)
	if err != nil {
		return nil, fmt.Errorf("consumer lag: %w", err)
	}
	type stored struct {
		next int64
		at   time.Time
	}
	committed := map[lagKey]stored{}
	for rows.Next() {
		var k lagKey
		var s stored
		if err := rows.Scan(&k.group, &k.partition, &s.next, &s.at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("consumer lag: %w", err)
		}
		committed[k] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consumer lag: %w", err)
	}
	parts := slices.Sorted(maps.Keys(hw))
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]PartitionLag, 0, len(t.groups)*len(parts))
	for _, g := range t.groups {
		for _, p := range parts {
			k := lagKey{g, p}
			s, ok := committed[k]
			pl := PartitionLag{Consumer: g, Topic: t.topic, Partition: p, Committed: s.next, HighWater: hw[p]}
			if ok {
				at := s.at.UTC()
				pl.LastCommit = &at
			}
			pl.Lag = max(pl.HighWater-pl.Committed, 0)
			// The clock starts when the partition starts lagging at an offset: a message
			// arriving on a quiet partition is not stuck because the last look was long ago.
			prev, seen := t.still[k]
			if pl.Lag == 0 || !seen || !prev.lagging || prev.committed != pl.Committed {
				t.still[k] = stillSince{committed: pl.Committed, since: now, lagging: pl.Lag > 0}
			} else {
				pl.Stuck = now.Sub(prev.since) >= t.stuckAfter
			}
			out = append(out, pl)
		}
	}
	return out, nil
}

// Stuck returns the partitions of lag that are stuck.
func Stuck(lag []PartitionLag) []PartitionLag {
	var out []PartitionLag
	for _, l := range lag {
		if l.Stuck {
			out = append(out, l)
		}
	}
	return out
}

// highWaterCtx is HighWater bounded by ctx: a Kafka that does not answer must not hold up a
// health probe (sarama's client takes no context, so the lookup is left to finish alone).
func highWaterCtx(ctx context.Context, brokers []string, topic string) (map[int32]int64, error) {
	type result struct {
		hw  map[int32]int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		hw, err := HighWater(brokers, topic)
		done <- result{hw, err}
	}()
	select {
	case r := <-done:
		return r.hw, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("high water of %s: %w", topic, ctx.Err())
	}
}
