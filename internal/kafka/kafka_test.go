package kafka

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestAnnounceAndWatch runs sarama against the embedded kfake broker: a watcher started
// before an announcement sees it, exactly once.
func TestAnnounceAndWatch(t *testing.T) {
	k, err := StartEmbedded("127.0.0.1:0", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	n, err := NewNotifier(k.Brokers())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan string, 10)
	go WatchVersions(ctx, k.Brokers(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(v string) { got <- v })

	// The watcher starts at the newest offset; keep announcing until it is attached.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if err := n.PublishVersion(ctx, "v-probe"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-tick.C:
			continue
		case <-ctx.Done():
			t.Fatal("watcher never saw an announcement")
		}
		break
	}
	if err := n.PublishVersion(ctx, "v2"); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case v := <-got:
			if v == "v2" {
				return
			}
		case <-ctx.Done():
			t.Fatal("v2 not seen")
		}
	}
}

func TestStartEmbeddedBadAddress(t *testing.T) {
	if _, err := StartEmbedded("nonsense", "", 1); err == nil {
		t.Fatal("want error")
	}
}
