package sensors

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/pipeline"
)

// KafkaBatch is the range of messages a Kafka sensor fired for: per partition, the
// offsets from From (inclusive) to To (exclusive). A consumer reads the batch by
// consuming each partition from From[p] up to To[p].
type KafkaBatch struct {
	Topic    string          `json:"topic"`
	From     map[int32]int64 `json:"from"`
	To       map[int32]int64 `json:"to"`
	Messages int64           `json:"messages"` // the sum over partitions of To - From
}

// ErrNoBrokers is returned by a Kafka sensor's evaluation on a worker that has no Kafka
// brokers configured (CURIO_KAFKA_BROKERS, or the broker `curio dev` runs).
var ErrNoBrokers = errors.New("no Kafka brokers configured")

// Kafka returns a sensor that starts its job each time threshold new messages have
// arrived on topic (a threshold below 1 counts as 1). It checks every 15 seconds, using
// the brokers the worker is configured with (pipeline.SensorEnv.KafkaBrokers); it never
// consumes messages or commits offsets, it only compares each partition's high watermark
// with the offsets at its last firing, which its cursor holds.
//
// A new sensor starts counting at the topic's current offsets: its first evaluation only
// records them, so it never fires for the topic's history. A partition added later counts
// from its first offset. When messages were deleted by retention before the sensor fired,
// the batch starts at the partition's first remaining offset, so it only names messages
// that can still be read.
//
// The run's key is the topic and the To offsets ("TOPIC:0=120,1=98"), and its input is
// built by input from the batch; nil runs the job with its default input. Below the
// threshold the evaluation skips, saying how many messages are waiting.
func Kafka(name, topic string, threshold int64, input func(KafkaBatch) any) pipeline.Sensor {
	threshold = max(threshold, 1)
	return pipeline.Sensor{
		Name:        name,
		Description: fmt.Sprintf("every %d new messages on Kafka topic %s", threshold, topic),
		Interval:    15 * time.Second,
		Evaluate: func(ctx context.Context, env pipeline.SensorEnv, cursor string) (pipeline.SensorResult, error) {
			switch {
			case topic == "":
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: no topic", name)
			case len(env.KafkaBrokers) == 0:
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, ErrNoBrokers)
			}
			offs, err := fetchOffsets(ctx, env.KafkaBrokers, clientID(name), topic)
			if err != nil {
				return pipeline.SensorResult{}, fmt.Errorf("sensor %s: %w", name, err)
			}
			return evaluateKafka(env, name, topic, threshold, input, cursor, offs)
		},
	}
}

// kafkaCursor is a Kafka sensor's state: the offsets at its last firing (or at its first
// evaluation).
type kafkaCursor struct {
	Topic   string          `json:"topic"`
	Offsets map[int32]int64 `json:"offsets"`
}

// partitionOffsets are a partition's first and next offsets (log start, high watermark).
type partitionOffsets struct{ oldest, newest int64 }

func evaluateKafka(env pipeline.SensorEnv, name, topic string, threshold int64, input func(KafkaBatch) any, cursor string, offs map[int32]partitionOffsets) (pipeline.SensorResult, error) {
	prev, ok := readCursor[kafkaCursor](env, name, cursor)
	if !ok || prev.Topic != topic {
		start := kafkaCursor{Topic: topic, Offsets: map[int32]int64{}}
		for p, o := range offs {
			start.Offsets[p] = o.newest
		}
		c, err := writeCursor(name, start)
		if err != nil {
			return pipeline.SensorResult{}, err
		}
		return pipeline.SensorResult{
			Cursor: c,
			Skip:   fmt.Sprintf("started counting at the current offsets of %s (%d partitions)", topic, len(offs)),
		}, nil
	}

	b := KafkaBatch{Topic: topic, From: map[int32]int64{}, To: map[int32]int64{}}
	for p, o := range offs {
		from, seen := prev.Offsets[p]
		switch {
		case !seen: // a partition added since: all of it is new
			from = o.oldest
		case from > o.newest: // the topic was recreated: start over
			from = o.oldest
		case from < o.oldest: // retention deleted the start of the range
			from = o.oldest
		}
		b.From[p], b.To[p] = from, o.newest
		b.Messages += o.newest - from
	}
	if b.Messages < threshold {
		return pipeline.SensorResult{
			Skip: fmt.Sprintf("%d new messages on %s, threshold %d", b.Messages, topic, threshold),
		}, nil
	}
	c, err := writeCursor(name, kafkaCursor{Topic: topic, Offsets: b.To})
	if err != nil {
		return pipeline.SensorResult{}, err
	}
	var in any
	if input != nil {
		in = input(b)
	}
	return pipeline.SensorResult{
		Runs: []pipeline.RunRequest{{
			Key:    batchKey(topic, b.To),
			Input:  in,
			Reason: fmt.Sprintf("%d new messages on %s (threshold %d)", b.Messages, topic, threshold),
		}},
		Cursor: c,
	}, nil
}

// batchKey encodes offsets stably: the topic, then partition=offset in partition order.
func batchKey(topic string, to map[int32]int64) string {
	parts := make([]int32, 0, len(to))
	for p := range to {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var sb strings.Builder
	sb.WriteString(topic)
	sb.WriteByte(':')
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(int64(p), 10))
		sb.WriteByte('=')
		sb.WriteString(strconv.FormatInt(to[p], 10))
	}
	return sb.String()
}

var invalidClientIDChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// clientID is the Kafka client id for a sensor: its name, in the characters Kafka allows.
func clientID(sensor string) string {
	return "curio-sensor-" + invalidClientIDChars.ReplaceAllString(sensor, "-")
}

// fetchOffsets returns the first and next offset of every partition of topic. sarama
// takes no context, so the lookup runs aside and is abandoned (it ends on its own, bounded
// by the client's timeouts and retries) when ctx ends first.
func fetchOffsets(ctx context.Context, brokers []string, clientID, topic string) (map[int32]partitionOffsets, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		offs map[int32]partitionOffsets
		err  error
	}
	done := make(chan result, 1)
	go func() {
		offs, err := fetchOffsetsSync(ctx, brokers, clientID, topic)
		done <- result{offs, err}
	}()
	select {
	case r := <-done:
		return r.offs, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func fetchOffsetsSync(ctx context.Context, brokers []string, clientID, topic string) (map[int32]partitionOffsets, error) {
	cfg := kafka.Config(clientID)
	cfg.Metadata.AllowAutoTopicCreation = false // a sensor never creates the topic it watches
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("kafka %v: %w", brokers, err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("partitions of topic %s: %w", topic, err)
	}
	offs := make(map[int32]partitionOffsets, len(parts))
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var o partitionOffsets
		if o.newest, err = client.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
			return nil, fmt.Errorf("high watermark of %s/%d: %w", topic, p, err)
		}
		if o.oldest, err = client.GetOffset(topic, p, sarama.OffsetOldest); err != nil {
			return nil, fmt.Errorf("first offset of %s/%d: %w", topic, p, err)
		}
		offs[p] = o
	}
	return offs, nil
}
