package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/internal/testdb"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testNow is the consumers' clock in tests whose events are dated 2026-11-23 09:58–11:13.
func testNow() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

func setup(t testing.TB) (*pgxpool.Pool, *kafka.Embedded) {
	t.Helper()
	ctx := context.Background()
	pg, err := postgres.Open(ctx, testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if _, err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := kafka.StartEmbedded("127.0.0.1:0", "", 3, TopicEvents, TopicDeadLetters)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return pg.Pool(), k
}

// produce sends n valid events spread over two hours of event time, plus one malformed
// message of each kind, and returns the valid events.
func produce(t *testing.T, brokers []string, n int) ([]events.Event, int) {
	t.Helper()
	p, err := NewProducer(brokers, "test-producer")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	g, err := events.NewGenerator([]events.Item{
		{ID: "m1", Type: "movie", Categories: []string{"Drama"}}, {ID: "m2", Type: "movie", Categories: []string{"Comedy"}},
		{ID: "a1", Type: "artwork", Categories: []string{"Photograph"}}, {ID: "a2", Type: "artwork", Categories: []string{"Painting"}},
	}, events.GeneratorOptions{Users: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 9, 58, 0, 0, time.UTC)
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = g.Next(start.Add(time.Duration(i) * 1500 * time.Millisecond))
	}
	for i := 0; i < n; i += 200 {
		if err := Send(p, TopicEvents, evs[i:min(i+200, n)]); err != nil {
			t.Fatal(err)
		}
	}
	bad := []string{`{"type":"view"`, `[1,2,3]`, `{"event_id":"x","type":"teleport","user_id":"u","ts":"2026-11-23T10:00:00Z"}`,
		`{"event_id":"y","type":"view","ts":"2026-11-23T10:00:00Z"}`, `{"event_id":"z","type":"view","user_id":"u","ts":"2026-11-23T10:00:00Z","item_id":"m1","item_type":"movie","amount":"lots"}`,
		`{"event_id":"big","type":"search","user_id":"u","ts":"2026-11-23T10:00:00Z","query":"` + strings.Repeat("q", 20000) + `"}`}
	for i, b := range bad {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: TopicEvents, Key: sarama.StringEncoder(fmt.Sprint("bad", i)), Value: sarama.StringEncoder(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return evs, len(bad)
}

func highWater(t *testing.T, brokers []string) map[int32]int64 {
	c, err := sarama.NewClient(brokers, kafka.Config("hw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts, err := c.Partitions(TopicEvents)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		if out[p], err = c.GetOffset(TopicEvents, p, sarama.OffsetNewest); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func caughtUp(ctx context.Context, pool *pgxpool.Pool, group string, hw map[int32]int64) bool {
	got, err := Offsets(ctx, pool, group, TopicEvents)
	if err != nil {
		return false
	}
	for p, want := range hw {
		if want > 0 && got[p] != want {
			return false
		}
	}
	return true
}

var errCrash = errors.New("simulated crash")

// runWithCrashes runs consumers built by mk until they have committed everything, crashing
// them at random moments (before the database commit, after it but before Kafka hears of it,
// or by cancelling mid-batch), and returns how many times they crashed.
func runWithCrashes(t *testing.T, pool *pgxpool.Pool, group string, hw map[int32]int64, mk func() *consumer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rng := rand.New(rand.NewPCG(1, 2))
	crashes := 0
	for !caughtUp(ctx, pool, group, hw) {
		if ctx.Err() != nil {
			t.Fatal("consumers never caught up")
		}
		c := mk()
		var n atomic.Int32
		crashAt := int32(1 + rng.IntN(4))
		mode := rng.IntN(3)
		rctx, rcancel := context.WithCancel(ctx)
		switch mode {
		case 0:
			c.beforeCommit = func() error {
				if n.Add(1) == crashAt {
					return errCrash
				}
				return nil
			}
		case 1:
			c.afterCommit = func() error {
				if n.Add(1) == crashAt {
					return errCrash
				}
				return nil
			}
		case 2:
			c.afterCommit = func() error {
				if n.Add(1) == crashAt {
					rcancel() // killed while other partitions may be mid-batch
				}
				return nil
			}
		}
		done := make(chan error, 1)
		go func() { done <- c.run(rctx) }()
		deadline := time.After(20 * time.Second)
	wait:
		for {
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, errCrash) {
					t.Fatalf("consumer failed: %v", err)
				}
				if err != nil || rctx.Err() != nil {
					crashes++
				}
				break wait
			case <-time.After(100 * time.Millisecond):
				if caughtUp(ctx, pool, group, hw) {
					rcancel()
				}
			case <-deadline:
				rcancel()
			}
		}
		rcancel()
	}
	return crashes
}

func TestLandingExactlyOnceAcrossRestart(t *testing.T) {
	pool, k := setup(t)
	evs, bad := produce(t, k.Brokers(), 3000)
	hw := highWater(t, k.Brokers())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	crashes := runWithCrashes(t, pool, LanderGroup, hw, func() *consumer {
		return NewLander(pool, Options{Brokers: k.Brokers(), BatchSize: 97, Logger: logger, Now: testNow}, nil).c
	})
	if crashes == 0 {
		t.Fatal("the test never crashed a consumer")
	}
	ctx := context.Background()
	var rows, distinct, parts int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id) FROM raw_events`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(evs)) || distinct != rows {
		t.Fatalf("after %d crashes: %d rows, %d distinct, want exactly %d", crashes, rows, distinct, len(evs))
	}
	hours := map[time.Time]bool{}
	for _, e := range evs {
		hours[e.Time.UTC().Truncate(time.Hour)] = true
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_events'::regclass`).Scan(&parts); err != nil || parts != int64(len(hours)) {
		t.Errorf("hour partitions = %d, %v; events span %d hours", parts, err, len(hours))
	}
	reasons := map[string]int{}
	r, err := pool.Query(ctx, `SELECT reason, count(*) FROM dead_letters GROUP BY reason`)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for r.Next() {
		var reason string
		var n int
		_ = r.Scan(&reason, &n)
		reasons[reason] = n
		total += n
	}
	if total != bad || reasons["malformed_json"] < 2 || reasons["oversized"] != 1 || reasons["unknown_type"] != 1 || reasons["missing_field"] != 1 {
		t.Errorf("dead letters %v, want %d in all", reasons, bad)
	}
	t.Logf("landed %d events exactly once across %d crashes", rows, crashes)
}

func TestStreamWindowsExactlyOnce(t *testing.T) {
	pool, k := setup(t)
	// Catalog titles of two of the generated items, so views count terms too (a2 stays
	// unknown and contributes none).
	if _, err := pool.Exec(context.Background(), `INSERT INTO movies (id, title, genres, source) VALUES
		('m1', 'The Matrix Reloaded', '{Sci-Fi,Action}', 't'), ('m2', 'Matrix of Love', '{Comedy}', 't');
		INSERT INTO artworks (id, title, classification, source) VALUES ('a1', 'Untitled (Matrix)', 'Photograph', 't')`); err != nil {
		t.Fatal(err)
	}
	evs, _ := produce(t, k.Brokers(), 2000)
	hw := highWater(t, k.Brokers())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runWithCrashes(t, pool, StreamGroup, hw, func() *consumer {
		return NewStream(pool, Options{Brokers: k.Brokers(), BatchSize: 61, Logger: logger, Now: testNow}, StreamOptions{}).c
	})
	want := map[string]int64{}
	uploads := map[string]int64{}
	for _, e := range evs {
		item := e.ItemID
		if e.Type == events.TypeClick {
			item = e.Target
		}
		if item == "" {
			continue
		}
		want[fmt.Sprintf("%s|%s|%s", e.Time.UTC().Truncate(Window).Format(time.RFC3339), item, e.Type)]++
		if e.Type == events.TypeUpload {
			uploads[e.Country]++
		}
	}
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT window_start, item_id, event_type, count FROM popularity_windows`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for rows.Next() {
		var ws time.Time
		var item, typ string
		var n int64
		_ = rows.Scan(&ws, &item, &typ, &n)
		got[fmt.Sprintf("%s|%s|%s", ws.UTC().Format(time.RFC3339), item, typ)] = n
	}
	if len(got) != len(want) {
		t.Fatalf("%d windows, want %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("window %s: %d, want %d", k, got[k], n)
		}
	}
	for c, n := range uploads {
		var m int64
		_ = pool.QueryRow(ctx, `SELECT count FROM upload_countries WHERE country = $1`, c).Scan(&m)
		if m != n {
			t.Errorf("uploads %s: %d, want %d", c, m, n)
		}
	}
	checkTermWindows(t, pool, evs)
}

// checkTermWindows compares term_windows with counts computed from the events: the words
// and tags of a known title count once per view or collect of it, a search's once per search.
func checkTermWindows(t *testing.T, pool *pgxpool.Pool, evs []events.Event) {
	t.Helper()
	titled := map[string][2][]string{ // words, tags
		"m1": {{"matrix", "reloaded"}, {"#sci-fi", "#action"}}, "m2": {{"matrix", "love"}, {"#comedy"}},
		"a1": {{"untitled", "matrix"}, {"#photograph"}}}
	want := map[string]int64{}
	for _, e := range evs {
		for name, size := range TermWindows() {
			key := func(kind, term string) string {
				return fmt.Sprintf("%s|%s|%s|%s", name, e.Time.UTC().Truncate(size).Format(time.RFC3339), kind, term)
			}
			switch e.Type {
			case events.TypeView, events.TypeCollect:
				if text, ok := titled[e.ItemID]; ok {
					for _, w := range text[0] {
						want[key(KindTerm, w)]++
					}
					for _, tag := range text[1] {
						want[key(KindTag, tag)]++
					}
				}
			case events.TypeSearch:
				words, tags := eventTerms(e)
				for _, w := range words {
					want[key(KindTerm, w)]++
				}
				for _, tag := range tags {
					want[key(KindTag, tag)]++
				}
			}
		}
	}
	rows, err := pool.Query(context.Background(), `SELECT window_size, window_start, kind, term, count FROM term_windows`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int64{}
	for rows.Next() {
		var size, kind, term string
		var ws time.Time
		var n int64
		if err := rows.Scan(&size, &ws, &kind, &term, &n); err != nil {
			t.Fatal(err)
		}
		got[fmt.Sprintf("%s|%s|%s|%s", size, ws.UTC().Format(time.RFC3339), kind, term)] += n
	}
	if want[fmt.Sprintf("1h|%s|term|matrix", evs[0].Time.UTC().Truncate(time.Hour).Format(time.RFC3339))] == 0 {
		t.Fatal("test data has no views of titled items in the first hour")
	}
	for k, n := range want {
		// Search words other than the titles' come from the generator's queries; all must match.
		if got[k] != n {
			t.Errorf("term window %s: %d, want %d", k, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d term windows, want %d", len(got), len(want))
	}
}

// TestLateEventsCountedNotDropped sends an event far behind the watermark: it lands in
// its own (old) window and is reported as late.
func TestLateEventsCountedNotDropped(t *testing.T) {
	pool, k := setup(t)
	p, err := NewProducer(k.Brokers(), "late")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	mk := func(id string, ts time.Time) events.Event {
		return events.Event{ID: id, Type: events.TypeView, UserID: "u1", Time: ts, ItemID: "m1", ItemType: "movie"}
	}
	// Same user → same partition → one watermark.
	if err := Send(p, TopicEvents, []events.Event{mk("e1", base), mk("e2", base.Add(3*time.Second)), mk("e3", base.Add(time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := Send(p, TopicEvents, []events.Event{mk("e4", base.Add(time.Second)), mk("e5", base.Add(58*time.Second))}); err != nil {
		t.Fatal(err)
	}
	hw := highWater(t, k.Brokers())
	s := NewStream(pool, Options{Brokers: k.Brokers(), BatchSize: 1, Now: testNow}, StreamOptions{Lateness: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { _ = s.Run(ctx) }()
	for !caughtUp(ctx, pool, StreamGroup, hw) {
		if ctx.Err() != nil {
			t.Fatal("stream never caught up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	var first, late, seen int64
	_ = pool.QueryRow(context.Background(), `SELECT count FROM popularity_windows WHERE window_start = $1`, base).Scan(&first)
	_ = pool.QueryRow(context.Background(), `SELECT sum(events), sum(late) FROM stream_stats WHERE consumer = $1`, StreamGroup).Scan(&seen, &late)
	if first != 3 || seen != 5 || late != 1 {
		t.Errorf("first window %d (want 3: e1, e2 and late e4), events %d (5), late %d (1)", first, seen, late)
	}
}

func TestReaderQueries(t *testing.T) {
	pool, _ := setup(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	_, err := pool.Exec(ctx, `INSERT INTO popularity_windows (window_start, item_id, event_type, count) VALUES
		($1, 'a', 'view', 3), ($1, 'a', 'click', 1), ($2, 'a', 'view', 2), ($1, 'b', 'view', 4), ($3, 'c', 'view', 100)`,
		now.Add(-time.Minute), now.Add(-30*time.Second), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO upload_countries VALUES ('FR', 2), ('US', 5)`); err != nil {
		t.Fatal(err)
	}
	r := NewReader(pool)
	got, err := r.Trending(ctx, now, 5*time.Minute, nil, 10)
	if err != nil || len(got) != 2 || got[0] != (ItemCount{"a", 6}) || got[1] != (ItemCount{"b", 4}) {
		t.Errorf("trending all types = %+v, %v", got, err)
	}
	got, err = r.Trending(ctx, now, 5*time.Minute, []string{"click"}, 10)
	if err != nil || len(got) != 1 || got[0] != (ItemCount{"a", 1}) {
		t.Errorf("trending clicks = %+v, %v", got, err)
	}
	pts, err := r.ItemTrend(ctx, "a", now.Add(-time.Hour), now)
	if err != nil || len(pts) != 2 || pts[0].Total != 4 || pts[0].Counts["click"] != 1 || pts[1].Total != 2 {
		t.Errorf("trend = %+v, %v", pts, err)
	}
	cs, err := r.UploadsByCountry(ctx)
	if err != nil || len(cs) != 2 || cs[0].Country != "US" {
		t.Errorf("uploads = %+v, %v", cs, err)
	}
	st, err := r.Stats(ctx)
	if err != nil || st.Landed != 0 || st.DeadLetters == nil {
		t.Errorf("stats = %+v, %v", st, err)
	}

	// Terms: the 10:00 hour is half over at 10:30; "harbor" is at 4 (pace 8) after 2 in the
	// 09:00 hour, "storm" at 3 (pace 6) after none, "noir" at 10 (pace 20) after 30 (falling),
	// "rare" at 2 (below MinRisingCount).
	hr := now
	if _, err := pool.Exec(ctx, `INSERT INTO term_windows (window_size, window_start, kind, term, count) VALUES
		('1h', $1, 'term', 'harbor', 4), ('1h', $2, 'term', 'harbor', 2), ('1h', $1, 'term', 'storm', 3),
		('1h', $1, 'term', 'noir', 10), ('1h', $2, 'term', 'noir', 30), ('1h', $1, 'term', 'rare', 2),
		('1h', $1, 'tag', '#drama', 5), ('1m', $1, 'term', 'harbor', 4)`, hr, hr.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	tw, err := r.TrendingTerms(ctx, "1h", hr.Add(30*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tw.Terms) != 4 || tw.Terms[0] != (TermCount{"noir", 10}) || len(tw.Tags) != 1 || tw.Tags[0] != (TermCount{"#drama", 5}) || !tw.From.Equal(hr) {
		t.Errorf("trending terms = %+v", tw)
	}
	// storm: (3*2+1)/(0+1) = 7; harbor: (4*2+1)/(2+1) = 3.
	if len(tw.Rising) != 2 || tw.Rising[0].Term != "storm" || tw.Rising[0].Growth != 7 || tw.Rising[1].Term != "harbor" || tw.Rising[1].Previous != 2 {
		t.Errorf("rising = %+v", tw.Rising)
	}
	if _, err := r.TrendingTerms(ctx, "1d", hr, 10); err == nil {
		t.Error("unknown window accepted")
	}
}

// TestDeadLettersForwardedToTopic checks that invalid messages reach the dead-letter topic
// with their reason, besides the table.
func TestDeadLettersForwardedToTopic(t *testing.T) {
	pool, k := setup(t)
	p, err := NewProducer(k.Brokers(), "dlq-test")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: TopicEvents, Value: sarama.StringEncoder(`{"type":"view"}`)}); err != nil {
		t.Fatal(err)
	}
	hw := highWater(t, k.Brokers())
	l := NewLander(pool, Options{Brokers: k.Brokers()}, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { _ = l.Run(ctx) }()
	for !caughtUp(ctx, pool, LanderGroup, hw) {
		if ctx.Err() != nil {
			t.Fatal("lander never caught up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, err := sarama.NewConsumer(k.Brokers(), kafka.Config("dlq-read"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts, _ := c.Partitions(TopicDeadLetters)
	for _, part := range parts {
		pc, err := c.ConsumePartition(TopicDeadLetters, part, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-pc.Messages():
			reason := ""
			for _, h := range m.Headers {
				if string(h.Key) == "reason" {
					reason = string(h.Value)
				}
			}
			if reason != "missing_field" {
				t.Errorf("dead letter reason header %q", reason)
			}
			pc.Close()
			return
		case <-time.After(2 * time.Second):
			pc.Close()
		}
	}
	t.Fatal("no message on the dead-letter topic")
}
