// Package kafka holds Curio's Kafka plumbing: the embedded Kafka-protocol broker used by
// `curio dev` and tests (franz-go's kfake), and sarama producers and consumers, which are
// the only Kafka client the platform itself uses.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TopicCatalogVersions carries one message per published catalog version.
const TopicCatalogVersions = "curio.catalog.versions"

// Embedded is an in-process Kafka-protocol broker.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
}

// StartEmbedded starts a one-broker kfake cluster on addr (host:port; port 0 picks one),
// persisting its log under dataDir when dataDir is not empty. topics are created with the
// given partition count; other topics are auto-created on first use.
func StartEmbedded(addr, dataDir string, partitions int32, topics ...string) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("kafka address %q: %w", addr, err)
	}
	if port == 0 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("kafka: find free port: %w", err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// Bind where asked rather than on all interfaces.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(partitions)),
		kfake.SeedTopics(partitions, append([]string{TopicCatalogVersions}, topics...)...),
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka on %s:%d (set CURIO_KAFKA_ADDR or CURIO_KAFKA_BROKERS): %w", host, port, err)
	}
	return &Embedded{cluster: c, addr: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// Brokers returns the bootstrap addresses.
func (e *Embedded) Brokers() []string { return []string{e.addr} }

// Close stops the broker.
func (e *Embedded) Close() { e.cluster.Close() }

// Config returns the sarama configuration Curio uses for a client called clientID.
func Config(clientID string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = clientID
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 5
	cfg.Producer.Retry.Backoff = 200 * time.Millisecond
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Consumer.Return.Errors = true
	return cfg
}

// Notifier announces published catalog versions so API processes reload at once instead of
// waiting for their next poll.
type Notifier struct {
	producer sarama.SyncProducer
}

// NewNotifier connects a producer to brokers.
func NewNotifier(brokers []string) (*Notifier, error) {
	p, err := sarama.NewSyncProducer(brokers, Config("curio-notifier"))
	if err != nil {
		return nil, fmt.Errorf("kafka producer %v: %w", brokers, err)
	}
	return &Notifier{producer: p}, nil
}

// PublishVersion sends version to TopicCatalogVersions.
func (n *Notifier) PublishVersion(_ context.Context, version string) error {
	_, _, err := n.producer.SendMessage(&sarama.ProducerMessage{
		Topic: TopicCatalogVersions,
		Key:   sarama.StringEncoder("catalog"),
		Value: sarama.StringEncoder(version),
	})
	if err != nil {
		return fmt.Errorf("announce version %s: %w", version, err)
	}
	return nil
}

// Close closes the producer.
func (n *Notifier) Close() error { return n.producer.Close() }

// WatchVersions calls fn with every version announced after it starts, until ctx ends.
// Connection failures are retried with backoff and logged; they never end the watch.
func WatchVersions(ctx context.Context, brokers []string, logger *slog.Logger, fn func(version string)) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := watchOnce(ctx, brokers, fn)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("catalog version watch interrupted; polling continues", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func watchOnce(ctx context.Context, brokers []string, fn func(string)) error {
	consumer, err := sarama.NewConsumer(brokers, Config("curio-api-watch"))
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer consumer.Close()
	parts, err := consumer.Partitions(TopicCatalogVersions)
	if err != nil {
		return fmt.Errorf("partitions of %s: %w", TopicCatalogVersions, err)
	}
	msgs := make(chan *sarama.ConsumerMessage)
	errs := make(chan error, len(parts))
	for _, p := range parts {
		pc, err := consumer.ConsumePartition(TopicCatalogVersions, p, sarama.OffsetNewest)
		if err != nil {
			return fmt.Errorf("consume %s/%d: %w", TopicCatalogVersions, p, err)
		}
		defer pc.Close()
		go func() {
			for {
				select {
				case m, ok := <-pc.Messages():
					if !ok {
						errs <- errors.New("partition consumer closed")
						return
					}
					select {
					case msgs <- m:
					case <-ctx.Done():
						return
					}
				case e, ok := <-pc.Errors():
					if ok {
						errs <- e
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case m := <-msgs:
			fn(string(m.Value))
		}
	}
}
