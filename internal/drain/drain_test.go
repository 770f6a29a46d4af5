package drain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestHandlerQuietsCancellationsWhileStopping(t *testing.T) {
	var buf bytes.Buffer
	d := New(slog.Default())
	log := slog.New(d.Handler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("component", "temporal-client")
	cancelled := fmt.Errorf("heartbeat: %w", context.Canceled)

	log.Warn("before the stop", "Error", cancelled)
	d.Stopping()
	log.Warn("cancelled while stopping", "Error", cancelled)
	log.Error("other error while stopping", "Error", errors.New("boom"))
	out := buf.String()
	for _, want := range []string{"before the stop", "other error while stopping"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cancelled while stopping") {
		t.Errorf("a cancellation while stopping was logged above debug:\n%s", out)
	}
}

func TestWait(t *testing.T) {
	d := New(slog.Default())
	if n := d.Wait(context.Background(), time.Second); n != 0 {
		t.Fatalf("Wait with nothing in flight = %d", n)
	}
	d.add("a")
	d.add("b")
	start := time.Now()
	if n := d.Wait(context.Background(), 50*time.Millisecond); n != 2 {
		t.Fatalf("Wait = %d, want 2", n)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("Wait took %s past its limit", time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := d.Wait(ctx, time.Minute); n != 2 {
		t.Fatalf("Wait with a done context = %d, want 2", n)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		d.done("a")
		d.done("b")
	}()
	if n := d.Wait(context.Background(), 5*time.Second); n != 0 {
		t.Fatalf("Wait = %d after the reports, want 0", n)
	}
}
