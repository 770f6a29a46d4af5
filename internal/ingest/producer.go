package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"

	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/kafka"
)

// NewProducer returns an idempotent, acks=all sarama producer: retries cannot duplicate or
// reorder messages within a partition.
func NewProducer(brokers []string, clientID string) (sarama.SyncProducer, error) {
	cfg := kafka.Config(clientID)
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Partitioner = sarama.NewHashPartitioner // keyed by user: a user's events stay in order
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("kafka producer %v: %w", brokers, err)
	}
	return p, nil
}

// Send produces events to topic in one request.
func Send(p sarama.SyncProducer, topic string, evs []events.Event) error {
	msgs := make([]*sarama.ProducerMessage, 0, len(evs))
	for _, e := range evs {
		b, err := e.Encode()
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(e.Key()), Value: sarama.ByteEncoder(b)})
	}
	if err := p.SendMessages(msgs); err != nil {
		return fmt.Errorf("send %d events: %w", len(msgs), err)
	}
	return nil
}

// GenerateOptions drive Generate.
type GenerateOptions struct {
	Topic    string        // default TopicEvents
	Rate     float64       // events per second; default 50
	Duration time.Duration // 0 runs until ctx ends
	Logger   *slog.Logger
	Progress func(sent int64)
}

// Generate produces simulated user events at a steady rate until ctx ends or the duration
// passes, and returns how many it sent.
func Generate(ctx context.Context, p sarama.SyncProducer, g *events.Generator, o GenerateOptions) (int64, error) {
	if o.Topic == "" {
		o.Topic = TopicEvents
	}
	if o.Rate <= 0 {
		o.Rate = 50
	}
	var deadline <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		deadline = t.C
	}
	// Send in small batches every tick so the rate holds without a request per event.
	tick := 100 * time.Millisecond
	perTick := o.Rate * tick.Seconds()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	var sent int64
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return sent, nil
		case <-deadline:
			return sent, nil
		case now := <-ticker.C:
			owed += perTick
			n := int(owed)
			owed -= float64(n)
			if n == 0 {
				continue
			}
			batch := make([]events.Event, n)
			for i := range batch {
				batch[i] = g.Next(now)
			}
			if err := Send(p, o.Topic, batch); err != nil {
				return sent, err
			}
			sent += int64(n)
			if o.Progress != nil {
				o.Progress(sent)
			}
		}
	}
}
