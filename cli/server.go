package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/devstack"
	"github.com/curiodata/curio/internal/services"
)

// cmdServer runs the platform's shared services (embedded Temporal server and UI, embedded
// Kafka-protocol broker) for workers and API processes on other hosts, and prints what
// those hosts set to use them.
func cmdServer(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	flags, pos, err := splitFlags(args, flagSet{Values: []string{"listen"}})
	if err != nil || len(pos) > 0 {
		return usageError("usage: curio server [--listen ADDR]", err)
	}
	tAddr, uiAddr, kAddr := cfg.TemporalAddr, cfg.TemporalUIAddr, cfg.KafkaAddr
	if host, ok := flags["listen"]; ok {
		if tAddr, uiAddr, kAddr, err = services.ListenAddrs(host, tAddr, uiAddr, kAddr); err != nil {
			return fmt.Errorf("curio server --listen: %w", err)
		}
	}
	if cfg.TemporalHostPort != "" || len(cfg.KafkaBrokers) > 0 {
		logger.Warn("curio server always runs its own Temporal and Kafka; CURIO_TEMPORAL_HOSTPORT and CURIO_KAFKA_BROKERS are ignored")
	}
	logger.Info("starting curio services", "temporal", tAddr, "ui", uiAddr, "kafka", kAddr, "data_dir", cfg.DataDir)
	s, err := services.Start(ctx, services.Options{TemporalAddr: tAddr, UIAddr: uiAddr, KafkaAddr: kAddr,
		DataDir: cfg.DataDir, Namespace: cfg.TemporalNamespace, TemporalLogLevel: cfg.TemporalLog}, logger)
	if err != nil {
		return err
	}
	defer func() {
		logger.Info("stopping curio services")
		s.Close()
	}()
	// Commands on this host (curio run, curio worker) find the services with no setup.
	if err := devstack.WriteEndpoints(cfg.DataDir, devstack.Endpoints{KafkaBrokers: s.KafkaBrokers,
		TemporalHostPort: s.TemporalHostPort, TemporalUIURL: s.UIURL}); err != nil {
		logger.Warn("could not record endpoints for other curio commands", "err", err)
	}
	fmt.Fprintf(stdout, "\nCurio services are running (no databases, workers or API: run those with `curio worker` and `curio api`).\n")
	if s.UIURL != "" {
		fmt.Fprintf(stdout, "  Temporal UI:  %s/namespaces/%s/workflows\n", s.UIURL, cfg.TemporalNamespace)
	}
	fmt.Fprintf(stdout, "  Temporal:     %s (namespace %s)\n  Kafka:        %s\n\nOn worker and API hosts, set:\n\n",
		s.TemporalHostPort, cfg.TemporalNamespace, strings.Join(s.KafkaBrokers, ","))
	for _, kv := range s.Env(cfg.TemporalNamespace) {
		fmt.Fprintf(stdout, "%s\n", kv)
	}
	fmt.Fprintf(stdout, "\nPress Ctrl-C to stop.\n")
	<-ctx.Done()
	return nil
}
