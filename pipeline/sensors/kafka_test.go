package sensors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/pipeline"
)

// broker is a kfake cluster with a two-partition topic "events" and a producer that
// writes to a chosen partition.
type broker struct {
	cluster  *kfake.Cluster
	client   sarama.Client
	producer sarama.SyncProducer
}

func startBroker(t *testing.T) *broker {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := kafka.Config("sensors-test")
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	client, err := sarama.NewClient(c.ListenAddrs(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); client.Close() })
	return &broker{cluster: c, client: client, producer: p}
}

// produce writes n messages to each of partitions.
func (b *broker) produce(t *testing.T, n int, partitions ...int32) {
	t.Helper()
	var msgs []*sarama.ProducerMessage
	for _, p := range partitions {
		for i := range n {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: "events", Partition: p, Value: sarama.StringEncoder(fmt.Sprint(i))})
		}
	}
	if err := b.producer.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
}

func (b *broker) admin(t *testing.T) sarama.ClusterAdmin {
	t.Helper()
	a, err := sarama.NewClusterAdmin(b.cluster.ListenAddrs(), kafka.Config("sensors-test-admin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestKafka(t *testing.T) {
	b := startBroker(t)
	env := pipeline.SensorEnv{KafkaBrokers: b.cluster.ListenAddrs()}
	var batches []KafkaBatch
	s := Kafka("events-batch", "events", 10, func(kb KafkaBatch) any { batches = append(batches, kb); return kb })
	if s.Interval != 15*time.Second || s.Description == "" {
		t.Errorf("defaults: interval %s, description %q", s.Interval, s.Description)
	}

	b.produce(t, 5, 0, 1) // history: never counted
	var cursor string
	t.Run("first evaluation starts at the current offsets", func(t *testing.T) {
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, "")
		if len(res.Runs) != 0 || !strings.Contains(res.Skip, "current offsets") {
			t.Fatalf("runs %v, skip %q", keys(res), res.Skip)
		}
	})

	t.Run("below the threshold", func(t *testing.T) {
		b.produce(t, 2, 0, 1)
		res, _ := evaluate(t, s, env, cursor)
		if len(res.Runs) != 0 || res.Skip != "4 new messages on events, threshold 10" {
			t.Fatalf("runs %v, skip %q", keys(res), res.Skip)
		}
	})

	t.Run("reaching the threshold fires once", func(t *testing.T) {
		b.produce(t, 3, 0, 1)
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, cursor)
		if len(res.Runs) != 1 {
			t.Fatalf("runs %v, skip %q: want one", keys(res), res.Skip)
		}
		want := KafkaBatch{Topic: "events", From: map[int32]int64{0: 5, 1: 5}, To: map[int32]int64{0: 10, 1: 10}, Messages: 10}
		got := res.Runs[0].Input.(KafkaBatch)
		if got.Topic != want.Topic || got.Messages != want.Messages || !maps.Equal(got.From, want.From) || !maps.Equal(got.To, want.To) {
			t.Errorf("batch %+v, want %+v", got, want)
		}
		if res.Runs[0].Key != "events:0=10,1=10" {
			t.Errorf("key %q", res.Runs[0].Key)
		}
	})

	t.Run("then nothing until threshold more", func(t *testing.T) {
		res, _ := evaluate(t, s, env, cursor)
		if len(res.Runs) != 0 || res.Skip != "0 new messages on events, threshold 10" {
			t.Fatalf("runs %v, skip %q", keys(res), res.Skip)
		}
		b.produce(t, 9, 1)
		if res, _ = evaluate(t, s, env, cursor); len(res.Runs) != 0 {
			t.Fatalf("9 messages: runs %v", keys(res))
		}
		b.produce(t, 1, 0)
		res, cursor = evaluate(t, s, env, cursor)
		if len(res.Runs) != 1 || res.Runs[0].Key != "events:0=11,1=19" {
			t.Fatalf("10 messages: runs %v, skip %q", keys(res), res.Skip)
		}
	})

	t.Run("retention and new partitions", func(t *testing.T) {
		a := b.admin(t)
		b.produce(t, 4, 0)
		if err := a.DeleteRecords("events", map[int32]int64{0: 13}); err != nil {
			t.Fatal(err)
		}
		if err := a.CreatePartitions("events", 3, nil, false); err != nil {
			t.Fatal(err)
		}
		if err := b.client.RefreshMetadata("events"); err != nil {
			t.Fatal(err)
		}
		b.produce(t, 8, 2)
		var res pipeline.SensorResult
		res, cursor = evaluate(t, s, env, cursor)
		if len(res.Runs) != 1 {
			t.Fatalf("runs %v, skip %q: want one", keys(res), res.Skip)
		}
		got := res.Runs[0].Input.(KafkaBatch)
		// Partition 0: 11..15, of which 11 and 12 were deleted; partition 2 is all new.
		if want := map[int32]int64{0: 13, 1: 19, 2: 0}; !maps.Equal(got.From, want) || got.Messages != 10 {
			t.Errorf("batch %+v, want from %v and 10 messages", got, want)
		}
	})

	if len(batches) != 3 {
		t.Errorf("input called %d times, want once per firing (3)", len(batches))
	}
}

func TestKafkaErrors(t *testing.T) {
	s := Kafka("no-brokers", "events", 1, nil)
	if _, err := s.Evaluate(context.Background(), pipeline.SensorEnv{}, ""); !errors.Is(err, ErrNoBrokers) {
		t.Errorf("no brokers: %v, want ErrNoBrokers", err)
	}

	b := startBroker(t)
	env := pipeline.SensorEnv{KafkaBrokers: b.cluster.ListenAddrs()}
	_, err := Kafka("unknown", "no-such-topic", 1, nil).Evaluate(context.Background(), env, "")
	if !errors.Is(err, sarama.ErrUnknownTopicOrPartition) || !strings.Contains(err.Error(), "no-such-topic") {
		t.Errorf("unknown topic: %v, want unknown-topic naming it", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Kafka("canceled", "events", 1, nil).Evaluate(ctx, env, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v, want context.Canceled", err)
	}
}

func TestClientID(t *testing.T) {
	if got := clientID("new files: /in"); got != "curio-sensor-new-files-in" {
		t.Errorf("clientID %q", got)
	}
}
