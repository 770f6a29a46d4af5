// Command curio is Curio's single binary; each subcommand wires library packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/curiodata/curio/internal/config"
)

const usage = `curio — a workflow-orchestrated data platform on Temporal

Usage:
  curio dev                          run the whole platform on this machine (embedded defaults)
  curio worker [--identity NAME]     run one worker on the shared task queue
  curio api                          run the API and web app
  curio run WORKFLOW [JSON] [--id ID] [--no-wait]
                                     start a workflow (see 'curio run --help' for the list) and wait for its result
  curio import FORMAT FILE [FILE]    load a public dataset into the warehouse
                                     formats: movies-csv, imdb-tsv (basics [ratings]), moma-artists, moma-artworks
  curio scrape parse --source imdb|artsy FILE
                                     parse a saved IMDb page or Artsy API response to JSON lines (no network)
  curio events generate [--rate N] [--users U] [--duration D]
                                     produce simulated user-activity events to Kafka
  curio assets [ASSET]               the asset graph with partition status, or one asset's partitions
  curio schedules apply [--file F]   create or update the Temporal Schedules (idempotent)
  curio backfill ASSET [--from T] [--to T] [--only failed,missing] [--dry-run]
                                     materialize an asset's partitions, with a progress bar
  curio migrate                      apply database migrations
  curio healthcheck URL              exit 0 when URL answers 2xx (for container health checks)
  curio config                       print the configuration variables and their values

Configuration comes from CURIO_* environment variables; see 'curio config'.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "curio:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "dev":
		return cmdDev(ctx, cfg, logger, stdout)
	case "worker":
		return cmdWorker(ctx, cfg, logger, args[1:])
	case "api":
		return cmdAPI(ctx, cfg, logger)
	case "run":
		return cmdRun(ctx, cfg, logger, args[1:], stdout)
	case "import":
		return cmdImport(ctx, cfg, logger, args[1:], stderr)
	case "assets":
		return cmdAssets(ctx, cfg, args[1:], stdout)
	case "schedules":
		return cmdSchedules(ctx, cfg, logger, args[1:], stdout)
	case "backfill":
		return cmdBackfill(ctx, cfg, logger, args[1:], stdout, stderr)
	case "events":
		return cmdEvents(ctx, cfg, logger, args[1:], stderr)
	case "scrape":
		return cmdScrape(args[1:], stdout)
	case "migrate":
		return cmdMigrate(ctx, cfg, logger)
	case "healthcheck":
		return cmdHealthcheck(ctx, args[1:], stdout)
	case "config":
		for _, v := range config.Vars() {
			val, ok := os.LookupEnv(v.Name)
			if !ok {
				val = v.Default + " (default)"
			} else if v.Name == "CURIO_ADMIN_TOKEN" && val != "" {
				val = "(set, not shown)"
			} else if config.Secret(v.Name) {
				val = redact(val)
			}
			fmt.Fprintf(stdout, "%-28s %s\n", v.Name, val)
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// splitFlags separates --name=value / --name value flags from positional arguments, so
// flags may come after positional ones (curio run CatalogPipeline '{}' --no-wait).
func splitFlags(args []string, boolFlags ...string) (map[string]string, []string, error) {
	flags := map[string]string{}
	var pos []string
	isBool := func(n string) bool {
		for _, b := range boolFlags {
			if b == n {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") || a == "--" {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case hasVal:
		case isBool(name):
			val = "true"
		case i+1 < len(args):
			i++
			val = args[i]
		default:
			return nil, nil, fmt.Errorf("flag --%s needs a value", name)
		}
		flags[name] = val
	}
	return flags, pos, nil
}

var errUsage = errors.New("bad usage")
