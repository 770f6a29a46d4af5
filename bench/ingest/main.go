// Command ingest measures Curio's event landing against the raw limits of the same broker
// and database in the same run: sarama consume-only throughput, COPY-only throughput, the
// lander's end-to-end throughput, and event-to-queryable latency at a fixed rate.
//
//	go run ./bench/ingest -events 200000 -rate 2000 -seconds 10
//
// It creates (and drops) its own database on the PostgreSQL server named by
// -pg (default: the local server) and runs an embedded kfake broker.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/internal/storage/postgres"
)

func main() {
	n := flag.Int("events", 200000, "events for the throughput runs")
	rate := flag.Float64("rate", 2000, "events per second for the latency run")
	seconds := flag.Int("seconds", 10, "length of the latency run")
	admin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin DSN")
	flag.Parse()
	ctx := context.Background()

	db := fmt.Sprintf("curio_bench_%d", time.Now().UnixNano())
	ac, err := pgx.Connect(ctx, *admin)
	check(err)
	_, err = ac.Exec(ctx, "CREATE DATABASE "+db)
	check(err)
	defer func() { _, _ = ac.Exec(ctx, "DROP DATABASE "+db+" WITH (FORCE)"); ac.Close(ctx) }()
	u, _ := url.Parse(*admin)
	u.Path = "/" + db
	pg, err := postgres.Open(ctx, u.String())
	check(err)
	defer pg.Close()
	_, err = pg.Migrate(ctx)
	check(err)

	k, err := kafka.StartEmbedded("127.0.0.1:0", "", 3, ingest.TopicEvents)
	check(err)
	defer k.Close()
	prod, err := ingest.NewProducer(k.Brokers(), "bench")
	check(err)
	defer prod.Close()
	items := make([]events.Item, 5000)
	for i := range items {
		items[i] = events.Item{ID: fmt.Sprintf("demo-m-%06d", i), Type: "movie", Categories: []string{"Drama", "Comedy"}}
	}
	g, err := events.NewGenerator(items, events.GeneratorOptions{Users: 10000, Seed: uint64(time.Now().UnixNano())})
	check(err)
	start := time.Now().UTC().Truncate(time.Hour)
	evs := make([]events.Event, *n)
	for i := range evs {
		evs[i] = g.Next(start.Add(time.Duration(i) * time.Millisecond))
	}
	t0 := time.Now()
	for i := 0; i < len(evs); i += 1000 {
		check(ingest.Send(prod, ingest.TopicEvents, evs[i:min(i+1000, len(evs))]))
	}
	fmt.Printf("produced %d events in %v (%.0f/s, idempotent, acks=all)\n", *n, time.Since(t0).Round(time.Millisecond), float64(*n)/time.Since(t0).Seconds())

	consumeOnly := consumeAll(k.Brokers(), int64(*n))
	copyOnly := copyAll(ctx, pg, evs)
	landed := land(ctx, pg, k.Brokers(), int64(*n))
	fmt.Printf("\n| path | events/s | vs consume-only | vs COPY-only |\n|---|---|---|---|\n")
	fmt.Printf("| sarama consume-only (same broker) | %.0f | 1.00 | %.2f |\n", consumeOnly, consumeOnly/copyOnly)
	fmt.Printf("| COPY-only into raw_events (same PostgreSQL) | %.0f | %.2f | 1.00 |\n", copyOnly, copyOnly/consumeOnly)
	fmt.Printf("| lander: consume + decode + COPY + offsets, one tx per batch | %.0f | %.2f | %.2f |\n", landed, landed/consumeOnly, landed/copyOnly)

	p50, p99, count := latency(ctx, pg, prod, g, *rate, time.Duration(*seconds)*time.Second, k.Brokers())
	fmt.Printf("\nevent-to-queryable latency at %.0f events/s for %ds (%d events): p50 %v, p99 %v\n", *rate, *seconds, count, p50, p99)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// consumeAll reads n messages with a bare sarama consumer and returns messages/s.
func consumeAll(brokers []string, n int64) float64 {
	c, err := sarama.NewConsumer(brokers, kafka.Config("bench-consume"))
	check(err)
	defer c.Close()
	parts, err := c.Partitions(ingest.TopicEvents)
	check(err)
	var got int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	hw, err := ingest.HighWater(brokers, ingest.TopicEvents)
	check(err)
	for _, p := range parts {
		pc, err := c.ConsumePartition(ingest.TopicEvents, p, sarama.OffsetOldest)
		check(err)
		wg.Go(func() {
			defer pc.Close()
			for m := range pc.Messages() {
				mu.Lock()
				got++
				mu.Unlock()
				if m.Offset+1 >= hw[p] {
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(got) / time.Since(start).Seconds()
}

// copyAll COPYs the same rows the lander writes into a scratch copy of raw_events.
func copyAll(ctx context.Context, pg *postgres.Store, evs []events.Event) float64 {
	_, err := pg.Pool().Exec(ctx, `CREATE TABLE bench_copy (LIKE raw_events INCLUDING DEFAULTS)`)
	check(err)
	rows := make([][]any, len(evs))
	for i, e := range evs {
		rows[i] = []any{e.ID, string(e.Type), e.UserID, e.Time, e.Session, e.ItemID, e.ItemType, e.Country, e.Query, e.Category,
			e.Amount, e.Source, e.Target, ingest.TopicEvents, int32(0), int64(i)}
	}
	cols := []string{"event_id", "type", "user_id", "ts", "session_id", "item_id", "item_type", "country", "query",
		"category", "amount", "source_item", "target_item", "topic", "kpartition", "koffset"}
	start := time.Now()
	for i := 0; i < len(rows); i += 500 { // the lander's batch size
		_, err := pg.Pool().CopyFrom(ctx, pgx.Identifier{"bench_copy"}, cols, pgx.CopyFromRows(rows[i:min(i+500, len(rows))]))
		check(err)
	}
	return float64(len(rows)) / time.Since(start).Seconds()
}

func land(ctx context.Context, pg *postgres.Store, brokers []string, n int64) float64 {
	l := ingest.NewLander(pg.Pool(), ingest.Options{Brokers: brokers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go func() { _ = l.Run(rctx) }()
	for l.Progress().Messages < n {
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	cancel()
	return float64(n) / took.Seconds()
}

// latency produces at a fixed rate with event time = send time and measures, for every
// event, when it became visible in raw_events (landed_at is set in the committing batch).
func latency(ctx context.Context, pg *postgres.Store, prod sarama.SyncProducer, g *events.Generator, rate float64, d time.Duration, brokers []string) (time.Duration, time.Duration, int) {
	_, err := pg.Pool().Exec(ctx, `TRUNCATE raw_events; DELETE FROM consumer_offsets`)
	check(err)
	l := ingest.NewLander(pg.Pool(), ingest.Options{Brokers: brokers, Group: "bench-latency", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Start from the end of the topic: only the latency run's events count.
	hw, err := ingest.HighWater(brokers, ingest.TopicEvents)
	check(err)
	for p, off := range hw {
		_, err := pg.Pool().Exec(ctx, `INSERT INTO consumer_offsets (consumer, topic, kpartition, next_offset) VALUES ('bench-latency', $1, $2, $3)`, ingest.TopicEvents, p, off)
		check(err)
	}
	go func() { _ = l.Run(rctx) }()
	time.Sleep(2 * time.Second) // group join
	sent, err := ingest.Generate(ctx, prod, g, ingest.GenerateOptions{Rate: rate, Duration: d})
	check(err)
	deadline := time.Now().Add(30 * time.Second)
	var landed int64
	for time.Now().Before(deadline) {
		check(pg.Pool().QueryRow(ctx, `SELECT count(*) FROM raw_events`).Scan(&landed))
		if landed >= sent {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows, err := pg.Pool().Query(ctx, `SELECT extract(epoch FROM landed_at - ts) FROM raw_events`)
	check(err)
	var lat []float64
	for rows.Next() {
		var s float64
		check(rows.Scan(&s))
		lat = append(lat, s)
	}
	sort.Float64s(lat)
	if len(lat) == 0 {
		fmt.Fprintln(os.Stderr, "no events landed in the latency run")
		return 0, 0, 0
	}
	q := func(p float64) time.Duration {
		return time.Duration(lat[int(p*float64(len(lat)-1))] * float64(time.Second)).Round(time.Millisecond)
	}
	return q(0.50), q(0.99), len(lat)
}
