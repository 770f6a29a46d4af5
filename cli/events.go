package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// cmdEvents implements `curio events generate --rate N --users U --duration D [--seed S]`.
func cmdEvents(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stderr io.Writer) error {
	const use = "usage: curio events generate [--rate N] [--users U] [--duration D] [--seed S]"
	if len(args) == 0 || args[0] != "generate" {
		return fmt.Errorf("%s: %w", use, errUsage)
	}
	flags, pos, err := splitFlags(args[1:], flagSet{Values: []string{"rate", "users", "duration", "seed"}})
	if err != nil || len(pos) > 0 {
		return usageError(use, err)
	}
	rate, users, seed, dur := 50.0, 1000, uint64(time.Now().UnixNano()), time.Duration(0)
	if v, ok := flags["rate"]; ok {
		if rate, err = strconv.ParseFloat(v, 64); err != nil || rate <= 0 {
			return fmt.Errorf("--rate must be a positive number of events per second, got %q", v)
		}
	}
	if v, ok := flags["users"]; ok {
		if users, err = strconv.Atoi(v); err != nil || users <= 0 {
			return fmt.Errorf("--users must be a positive integer, got %q", v)
		}
	}
	if v, ok := flags["duration"]; ok {
		if dur, err = time.ParseDuration(v); err != nil || dur <= 0 {
			return fmt.Errorf("--duration must be a duration like 30s or 10m, got %q", v)
		}
	}
	if v, ok := flags["seed"]; ok {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return fmt.Errorf("--seed must be an unsigned integer, got %q", v)
		}
	}
	e := endpoints(cfg)
	if len(e.KafkaBrokers) == 0 {
		return fmt.Errorf("CURIO_KAFKA_BROKERS is not set and no `curio dev` is running with this CURIO_DATA_DIR")
	}
	pg, _, err := openStores(ctx, e, false)
	if err != nil {
		return err
	}
	defer pg.Close()
	g, err := newGenerator(ctx, pg, users, seed)
	if err != nil {
		return err
	}
	p, err := ingest.NewProducer(e.KafkaBrokers, "curio-generator")
	if err != nil {
		return err
	}
	defer p.Close()
	var health healthState
	if err := serveHealth(ctx, cfg.HealthAddr, "generator", &health, logger); err != nil {
		return err
	}
	start := time.Now()
	last := time.Time{}
	n, err := ingest.Generate(ctx, p, g, ingest.GenerateOptions{Rate: rate, Duration: dur, Logger: logger, Progress: func(sent int64) {
		health.set(nil) // sends succeed
		if time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "\r%d events sent (%.0f/s)", sent, float64(sent)/time.Since(start).Seconds())
		}
	}})
	fmt.Fprintln(stderr)
	health.set(err)
	logger.Info("generator stopped", "sent", n, "took", time.Since(start).Round(time.Millisecond))
	return err
}

// newGenerator builds a simulated user population over the catalog in the warehouse.
func newGenerator(ctx context.Context, pg *postgres.Store, users int, seed uint64) (*events.Generator, error) {
	refs, err := pg.ItemRefs(ctx, 20000)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("the catalog is empty: run `curio run CatalogPipeline` (or `curio dev`) first")
	}
	items := make([]events.Item, len(refs))
	for i, r := range refs {
		items[i] = events.Item{ID: r.ID, Type: r.Type, Categories: r.Categories}
	}
	return events.NewGenerator(items, events.GeneratorOptions{Users: users, Seed: seed})
}
