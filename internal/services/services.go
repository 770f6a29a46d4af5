// Package services runs the platform's shared services in one process — the embedded
// Temporal server with its Web UI, and the embedded Kafka-protocol broker — bound to one
// address of this host, so workers and API processes on other machines reach them
// (`curio server --listen ADDR`). It starts no database, worker or API: those are
// `curio worker` and `curio api` on the other hosts.
package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/internal/temporaldev"
)

// Options configure Start.
type Options struct {
	// TemporalAddr, UIAddr and KafkaAddr are host:port listen addresses. Clients are given
	// the same host: Temporal and the broker advertise the address they are bound to (kfake
	// puts its listener's address in metadata responses), so it must be one other hosts can
	// dial, not 0.0.0.0 (see ListenAddrs).
	TemporalAddr, UIAddr, KafkaAddr string
	// DataDir holds temporal.db and the broker's log (kafka/).
	DataDir string
	// Namespace is registered (with Curio's search attributes) at start.
	Namespace string
	// TemporalLogLevel is the server's own log level (debug, info, warn, error).
	TemporalLogLevel string
	// NoUI leaves the Temporal Web UI off.
	NoUI bool
}

// Services are running platform services.
type Services struct {
	// TemporalHostPort is the frontend address clients dial (CURIO_TEMPORAL_HOSTPORT).
	TemporalHostPort string
	// UIURL is the Temporal Web UI's base URL; empty with NoUI.
	UIURL string
	// KafkaBrokers are the bootstrap brokers (CURIO_KAFKA_BROKERS).
	KafkaBrokers []string

	closers []func()
}

// ListenAddrs puts host in front of the ports of the three configured addresses (e.g.
// 127.0.0.1:7233 and host 10.0.0.5 give 10.0.0.5:7233). host must be an address other
// machines can reach this one at: an unspecified address (0.0.0.0, ::) is refused, since
// the services would advertise it to their clients.
func ListenAddrs(host string, temporalAddr, uiAddr, kafkaAddr string) (t, ui, k string, err error) {
	if host == "" {
		return "", "", "", errors.New("listen address is empty")
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return "", "", "", fmt.Errorf("listen address %q has a port: give the address alone (ports come from CURIO_TEMPORAL_ADDR, CURIO_TEMPORAL_UI_ADDR and CURIO_KAFKA_ADDR)", host)
	}
	host = strings.Trim(host, "[]")
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "", "", "", fmt.Errorf("listen address %s is unspecified: name the address other hosts reach this one at (Temporal and Kafka advertise it to clients)", host)
	}
	withHost := func(addr string) (string, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", fmt.Errorf("address %q: %w", addr, err)
		}
		return net.JoinHostPort(host, port), nil
	}
	if t, err = withHost(temporalAddr); err != nil {
		return "", "", "", err
	}
	if ui, err = withHost(uiAddr); err != nil {
		return "", "", "", err
	}
	if k, err = withHost(kafkaAddr); err != nil {
		return "", "", "", err
	}
	return t, ui, k, nil
}

// Start starts the broker, the Temporal server (registering the namespace) and its UI,
// and returns once the frontend answers. On error, whatever was started is stopped again.
func Start(ctx context.Context, opts Options, logger *slog.Logger) (_ *Services, err error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	s := &Services{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", opts.DataDir, err)
	}

	k, err := kafka.StartEmbedded(opts.KafkaAddr, filepath.Join(opts.DataDir, "kafka"), 3, ingest.TopicEvents, ingest.TopicDeadLetters)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, k.Close)
	s.KafkaBrokers = k.Brokers()

	ts, err := temporaldev.Start(temporaldev.Options{
		Addr:         opts.TemporalAddr,
		DatabaseFile: filepath.Join(opts.DataDir, "temporal.db"),
		Namespaces:   []string{opts.Namespace},
		LogLevel:     opts.TemporalLogLevel,
	})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = ts.Stop() })
	s.TemporalHostPort = ts.HostPort()

	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := temporaldev.DialRetry(dctx, client.Options{HostPort: s.TemporalHostPort, Namespace: opts.Namespace,
		Logger: sdklog.NewStructuredLogger(logger.With("component", "temporal-client"))})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := runs.EnsureSearchAttributes(dctx, c, opts.Namespace); err != nil {
		logger.Warn("runs start without the CurioTrigger search attribute (their trigger stays in the memo)", "err", err)
	}

	if !opts.NoUI {
		ui, err := temporaldev.StartUI(opts.UIAddr, s.TemporalHostPort)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, ui.Stop)
		s.UIURL = ui.URL()
	}
	return s, nil
}

// Env is what a worker or API host sets to use these services, one VAR=value per line.
func (s *Services) Env(namespace string) []string {
	env := []string{
		"CURIO_TEMPORAL_HOSTPORT=" + s.TemporalHostPort,
		"CURIO_TEMPORAL_NAMESPACE=" + namespace,
		"CURIO_KAFKA_BROKERS=" + strings.Join(s.KafkaBrokers, ","),
	}
	if s.UIURL != "" {
		env = append(env, "CURIO_TEMPORAL_UI_URL="+s.UIURL)
	}
	return env
}

// Close stops the UI, the Temporal server and the broker, in that order. It is safe to
// call twice.
func (s *Services) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}
