package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/kafka"
)

// manualProducer sends raw messages to chosen partitions.
func manualProducer(t *testing.T, brokers []string) sarama.SyncProducer {
	t.Helper()
	cfg := kafka.Config("poison-test")
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func sendRaw(t *testing.T, p sarama.SyncProducer, partition int32, key string, value []byte) {
	t.Helper()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: TopicEvents, Partition: partition,
		Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(value)}); err != nil {
		t.Fatal(err)
	}
}

// rawView is a view event's wire form built by hand, so it can hold what Encode refuses.
func rawView(id, user, item string, ts time.Time) []byte {
	b, _ := json.Marshal(map[string]string{"event_id": id, "type": "view", "user_id": user,
		"ts": ts.UTC().Format(time.RFC3339Nano), "item_id": item, "item_type": "movie"})
	return b
}

// TestPoisonEventsNeverStopIngestion is the hardening issue's scenario: on every partition,
// events that looked valid but halted the partition for good (a NUL in user_id, a 12 KB
// item_id, a date in 2199, a repeated event_id) and one the database itself refuses, then
// valid events. The valid ones land and count exactly once, the others are dead letters
// with their reasons, and no partition is left behind.
func TestPoisonEventsNeverStopIngestion(t *testing.T) {
	pool, k := setup(t)
	ctx := context.Background()
	// The second line of defence: a value validation accepts but the database refuses.
	for _, q := range []string{
		`ALTER TABLE raw_events ADD CONSTRAINT test_refuse CHECK (user_id <> 'refused-by-db')`,
		`ALTER TABLE popularity_windows ADD CONSTRAINT test_refuse CHECK (item_id <> 'refused-by-db')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	p := manualProducer(t, k.Brokers())
	now := time.Now().UTC()
	const partitions, valid = 3, 20
	wantReasons := map[string]int{}
	for part := range int32(partitions) {
		tag := fmt.Sprint("p", part)
		sendRaw(t, p, part, "nul", rawView(tag+"-nul", "u\x00x", "m1", now))
		sendRaw(t, p, part, "long", rawView(tag+"-long", "u1", strings.Repeat("i", 12<<10), now))
		sendRaw(t, p, part, "future", rawView(tag+"-2199", "u1", "m1", time.Date(2199, 12, 31, 23, 0, 0, 0, time.UTC)))
		sendRaw(t, p, part, "dup", rawView(tag+"-dup", "u1", "m1", now))
		sendRaw(t, p, part, "dup", rawView(tag+"-dup", "u1", "m1", now)) // a producer retry
		sendRaw(t, p, part, "db", rawView(tag+"-db", "refused-by-db", "refused-by-db", now))
		for i := range valid {
			sendRaw(t, p, part, "ok", rawView(fmt.Sprintf("%s-ok-%d", tag, i), "u2", "m2", now.Add(time.Duration(i)*time.Millisecond)))
		}
	}
	wantReasons[events.ReasonInvalidField] = 2 * partitions // NUL user_id, 12 KB item_id
	wantReasons[events.ReasonFutureTime] = partitions
	wantReasons[events.ReasonDuplicate] = partitions
	wantReasons[events.ReasonDBRejected] = partitions

	hw := highWater(t, k.Brokers())
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	lander := NewLander(pool, Options{Brokers: k.Brokers(), BatchSize: 50}, nil)
	stream := NewStream(pool, Options{Brokers: k.Brokers(), BatchSize: 50}, StreamOptions{})
	errs := make(chan error, 2)
	go func() { errs <- lander.Run(runCtx) }()
	go func() { errs <- stream.Run(runCtx) }()
	for !caughtUp(runCtx, pool, LanderGroup, hw) || !caughtUp(runCtx, pool, StreamGroup, hw) {
		select {
		case err := <-errs:
			t.Fatalf("a consumer stopped: %v", err)
		case <-runCtx.Done():
			t.Fatal("consumers never caught up: a poison message stopped a partition")
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()

	// Valid events landed exactly once: the 20 per partition and the first copy of the repeat.
	var landed, distinct int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id) FROM raw_events`).Scan(&landed, &distinct); err != nil {
		t.Fatal(err)
	}
	if want := int64(partitions * (valid + 1)); landed != want || distinct != want {
		t.Errorf("landed %d rows, %d distinct ids; want %d", landed, distinct, want)
	}
	got := deadReasons(t, pool, LanderGroup)
	for reason, n := range wantReasons {
		if got[reason] != n {
			t.Errorf("lander dead letters %s = %d, want %d (all: %v)", reason, got[reason], n, got)
		}
	}
	var detail string
	if err := pool.QueryRow(ctx, `SELECT detail FROM dead_letters WHERE consumer = $1 AND reason = 'db_rejected' LIMIT 1`, LanderGroup).Scan(&detail); err != nil || !strings.Contains(detail, "test_refuse") {
		t.Errorf("db_rejected detail %q (%v) does not carry the database's error", detail, err)
	}
	// The stream counted each valid view once (the repeat once) and dead-lettered what the
	// database refused.
	var counted int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0)::bigint FROM popularity_windows`).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if want := int64(partitions * (valid + 1)); counted != want {
		t.Errorf("stream counted %d views, want %d", counted, want)
	}
	if got := deadReasons(t, pool, StreamGroup); got[events.ReasonDBRejected] != partitions || len(got) != 1 {
		t.Errorf("stream dead letters %v, want %d db_rejected", got, partitions)
	}
	if pr := lander.Progress(); pr.Rejected != partitions {
		t.Errorf("lander progress %+v, want %d rejected", pr, partitions)
	}

	// No lag is left on any partition, and none is stuck.
	lag, err := NewReader(pool).WithLag(LagOptions{Brokers: k.Brokers()}).Lag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lag) != 2*partitions {
		t.Fatalf("lag has %d rows, want %d", len(lag), 2*partitions)
	}
	for _, l := range lag {
		if l.Lag != 0 || l.Stuck || l.LastCommit == nil {
			t.Errorf("partition lag %+v, want caught up", l)
		}
	}
}

func deadReasons(t *testing.T, pool *pgxpool.Pool, consumer string) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT reason, count(*) FROM dead_letters WHERE consumer = $1 GROUP BY reason`, consumer)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			t.Fatal(err)
		}
		out[r] = n
	}
	return out
}

// TestLagReportsStuckPartition: a partition whose messages nobody commits shows its lag
// and, once its offset has stood still for the stuck-after period, is reported stuck; it
// recovers when the consumer catches up.
func TestLagReportsStuckPartition(t *testing.T) {
	pool, k := setup(t)
	ctx := context.Background()
	p := manualProducer(t, k.Brokers())
	now := time.Now().UTC()
	clock := now
	r := NewReader(pool).WithLag(LagOptions{Brokers: k.Brokers(), Groups: []string{LanderGroup}, StuckAfter: time.Minute,
		Now: func() time.Time { return clock }})
	// A quiet partition looked at long ago is not stuck the moment messages arrive.
	if _, err := r.Lag(ctx); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(5 * time.Minute)
	for i := range 5 {
		sendRaw(t, p, 1, "u", rawView(fmt.Sprint("s", i), "u1", "m1", now))
	}
	lagOf := func() PartitionLag {
		t.Helper()
		lag, err := r.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lag {
			if l.Partition == 1 {
				return l
			}
		}
		t.Fatalf("partition 1 missing from %+v", lag)
		return PartitionLag{}
	}
	if l := lagOf(); l.Lag != 5 || l.Stuck {
		t.Fatalf("first look %+v, want lag 5, not yet stuck", l)
	}
	clock = clock.Add(2 * time.Minute)
	if l := lagOf(); !l.Stuck {
		t.Fatalf("after 2 minutes without progress %+v, want stuck", l)
	}
	st, err := r.Stats(ctx)
	if err != nil || st.StuckPartitions != 1 || st.Lag != 5 {
		t.Fatalf("stats %+v, %v; want 1 stuck partition, lag 5", st, err)
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() { _ = NewLander(pool, Options{Brokers: k.Brokers()}, nil).Run(runCtx) }()
	for !caughtUp(runCtx, pool, LanderGroup, highWater(t, k.Brokers())) {
		if runCtx.Err() != nil {
			t.Fatal("lander never caught up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if l := lagOf(); l.Lag != 0 || l.Stuck {
		t.Fatalf("after catching up %+v", l)
	}
}

// TestStatsWithoutKafka: with the brokers unreachable, Stats still answers the warehouse's
// counters, at once, and says the lag is unavailable.
func TestStatsWithoutKafka(t *testing.T) {
	pool, _ := setup(t)
	r := NewReader(pool).WithLag(LagOptions{Brokers: []string{"127.0.0.1:1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st, err := r.Stats(ctx)
	if err != nil || st.LagError == "" || st.Partitions != nil || st.DeadLetters == nil {
		t.Fatalf("stats %+v, %v; want the counters and a lag error", st, err)
	}
}
