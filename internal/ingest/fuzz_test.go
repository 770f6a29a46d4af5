package ingest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// FuzzLand feeds arbitrary bytes through decode → validate → land, in the lander's own
// commit path: whatever a producer writes, the batch commits, and the message ends up
// either landed once or dead-lettered with a reason — never an error that would stop the
// partition. The seed corpus runs in every `go test`; `go test -fuzz FuzzLand
// ./internal/ingest` explores further.
func FuzzLand(f *testing.F) {
	now := time.Now().UTC()
	ts := now.Format(time.RFC3339Nano)
	seeds := [][]byte{
		rawView("ok-1", "u1", "m1", now),
		rawView("nul", "u\x00x", "m1", now),
		rawView("long", "u1", strings.Repeat("i", 12<<10), now),
		rawView("future", "u1", "m1", time.Date(2199, 12, 31, 23, 0, 0, 0, time.UTC)),
		rawView("past", "u1", "m1", time.Unix(0, 0)),
		[]byte(`{"event_id":"s1","type":"search","user_id":"u1","ts":"` + ts + `","query":"noir \u0000 city","category":"Drama"}`),
		[]byte(`{"event_id":"c1","type":"click","user_id":"u1","ts":"` + ts + `","source_item":"a","target_item":"b"}`),
		[]byte(`{"event_id":"p1","type":"purchase","user_id":"u1","ts":"` + ts + `","item_id":"m1","item_type":"movie","amount":1e308}`),
		[]byte(`{"event_id":"up","type":"upload","user_id":"u1","ts":"` + ts + `","item_id":"a1","item_type":"artwork","country":"JP"}`),
		[]byte(`{"event_id":"\ud800","type":"view","user_id":"u1","ts":"` + ts + `","item_id":"m1","item_type":"movie"}`),
		[]byte("\xff\xfe{"), []byte(`null`), []byte(`{}`), []byte(strings.Repeat("[", 10000)),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	pool, k := setup(f)
	l := NewLander(pool, Options{Brokers: k.Brokers(), Logger: discardLogger()}, nil)
	var offset atomic.Int64
	f.Fuzz(func(t *testing.T, value []byte) {
		ctx := context.Background()
		off := offset.Add(1)
		m := &sarama.ConsumerMessage{Topic: TopicEvents, Partition: 0, Offset: off, Value: value}
		if err := l.c.commit(ctx, TopicEvents, 0, []*sarama.ConsumerMessage{m}); err != nil {
			t.Fatalf("commit of %q failed (the partition would stop): %v", value, err)
		}
		var landed, dead int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM raw_events WHERE kpartition = 0 AND koffset = $1),
			(SELECT count(*) FROM dead_letters WHERE consumer = $2 AND kpartition = 0 AND koffset = $1)`, off, LanderGroup).Scan(&landed, &dead); err != nil {
			t.Fatal(err)
		}
		if landed+dead != 1 {
			t.Fatalf("message %q: landed %d times, dead-lettered %d times; want exactly one of them", value, landed, dead)
		}
	})
}
