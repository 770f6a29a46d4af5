// Package cli is the curio command line: `curio dev`, `curio worker`, `curio run` and the
// rest, each subcommand a thin wiring of library packages. cmd/curio runs it with the
// built-in jobs; a user's program runs it with its own jobs next to them (see
// examples/topsearches and README "Add your own pipeline").
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

const usage = `curio — a workflow-orchestrated data platform on Temporal

Usage:
  curio dev                          run the whole platform on this machine (embedded defaults)
  curio worker [--identity NAME] [--queue QUEUE]
                                     run one worker on the shared task queue
  curio api                          run the API and web app
  curio server [--listen ADDR]       run Temporal (+ UI) and Kafka for workers and APIs on other hosts
                                     (ADDR: this host's IP; ports from CURIO_TEMPORAL_ADDR etc.)
  curio run WORKFLOW [JSON] [--id ID] [--no-wait]
                                     start a workflow and wait for its result
  curio run --list                   list the workflows 'curio run' can start
  curio import FORMAT FILE|URL [...]  load a public dataset (a file or an http(s) URL) into the warehouse
                                     formats: movies-csv, imdb-tsv (basics [ratings]), moma-artists, moma-artworks
  curio scrape parse --source imdb|artsy FILE
                                     parse a saved IMDb page or Artsy API response to JSON lines (no network)
  curio events generate [--rate N] [--users U] [--duration D] [--seed S]
                                     produce simulated user-activity events to Kafka
  curio assets [ASSET]               the asset graph with partition status, or one asset's partitions
  curio automation start|stop|status
                                     the automation workflow (policies, sensors, alerts): start it
                                     (curio dev does), stop it, or show what it did lately
  curio pools                        the concurrency pools, with the runs holding and waiting for slots
  curio schedules apply [--file F]   create or update the Temporal Schedules (idempotent)
  curio backfill ASSET [--from T] [--to T] [--only failed,missing] [--dry-run] [--parallel N]
                                     materialize an asset's partitions, with a progress bar
  curio migrate                      apply database migrations
  curio healthcheck URL              exit 0 when URL answers 2xx (for container health checks)
  curio config                       print the configuration variables and their values

Flags are written --name=value or --name value and may come before or after the other
arguments; '--' ends the flags. A flag a command does not accept is an error (exit status 2,
like any other misuse). -h or --help after any command prints this text and changes nothing.

Configuration comes from CURIO_* environment variables; see 'curio config'.
`

// Main runs the curio command line on args (without the program name) with the user's
// jobs next to the built-in ones, and returns the process exit status: 0, 1 on failure, 2
// on misuse (with the usage text).
func Main(args []string, jobs ...pipeline.Job) int {
	if err := run(args, os.Stdout, os.Stderr, jobs...); err != nil {
		fmt.Fprintln(os.Stderr, "curio:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, "\n"+usage)
			return 2
		}
		return 1
	}
	return 0
}

func run(args []string, stdout, stderr io.Writer, jobs ...pipeline.Job) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" || wantsHelp(args[1:]) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "dev", "api", "migrate", "config", "assets":
		// These commands take no flags (assets takes at most one asset name).
		_, pos, err := splitFlags(args[1:], flagSet{})
		if err == nil && (len(pos) > 1 || len(pos) == 1 && args[0] != "assets") {
			err = fmt.Errorf("unexpected argument %q: %w", pos[len(pos)-1], errUsage)
		}
		if err != nil {
			return fmt.Errorf("curio %s: %w", args[0], err)
		}
		args = append(args[:1:1], pos...)
	}
	defs, err := workflows.Definitions(jobs...)
	if err != nil {
		return err
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
		return cmdDev(ctx, cfg, logger, jobs, stdout)
	case "worker":
		return cmdWorker(ctx, cfg, logger, defs, args[1:])
	case "api":
		return cmdAPI(ctx, cfg, logger, defs)
	case "server":
		return cmdServer(ctx, cfg, logger, args[1:], stdout)
	case "run":
		return cmdRun(ctx, cfg, logger, defs, args[1:], stdout)
	case "import":
		return cmdImport(ctx, cfg, logger, args[1:], stderr)
	case "assets":
		return cmdAssets(ctx, cfg, defs, args[1:], stdout)
	case "pools":
		return cmdPools(ctx, cfg, defs, args[1:], stdout)
	case "automation":
		return cmdAutomation(ctx, cfg, logger, args[1:], stdout)
	case "schedules":
		return cmdSchedules(ctx, cfg, logger, defs, args[1:], stdout)
	case "backfill":
		return cmdBackfill(ctx, cfg, logger, defs, args[1:], stdout, stderr)
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
			} else {
				val = config.Shown(v.Name, val)
			}
			fmt.Fprintf(stdout, "%-28s %s\n", v.Name, val)
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
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

// flagSet declares the flags one command accepts, without their leading "--".
type flagSet struct {
	Values []string // flags that take a value: --name=value or --name value
	Bools  []string // flags that take none: --name (or --name=true / --name=false)
}

func (fs flagSet) has(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

// accepted lists the declared flags for error messages, e.g. "--id, --list, --no-wait".
func (fs flagSet) accepted() string {
	var names []string
	for _, n := range append(append([]string(nil), fs.Values...), fs.Bools...) {
		names = append(names, "--"+n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// splitFlags separates --name=value / --name value flags from positional arguments, so
// flags may come after positional ones (curio run CatalogPipeline '{}' --no-wait). Only the
// flags in fs are accepted: any other --name, a value flag without a value and a bool flag
// with a value other than true/false are errors wrapping errUsage. A bool flag maps to
// "true" or "false". Arguments after "--" are positional even when they start with "--".
func splitFlags(args []string, fs flagSet) (map[string]string, []string, error) {
	flags := map[string]string{}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "--") {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case fs.has(fs.Bools, name):
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, nil, fmt.Errorf("flag --%s takes no value (or true/false), got %q: %w", name, val, errUsage)
				}
				val = strconv.FormatBool(b)
			} else {
				val = "true"
			}
		case !fs.has(fs.Values, name):
			return nil, nil, fmt.Errorf("unknown flag --%s (accepted: %s): %w", name, fs.accepted(), errUsage)
		case hasVal:
		case i+1 < len(args) && !strings.HasPrefix(args[i+1], "--"):
			i++
			val = args[i]
		default:
			return nil, nil, fmt.Errorf("flag --%s needs a value: %w", name, errUsage)
		}
		flags[name] = val
	}
	return flags, pos, nil
}

// wantsHelp reports whether a command's arguments ask for help (-h or --help before "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help":
			return true
		}
	}
	return false
}

// usageError is what a command returns when its arguments do not fit use ("usage: curio
// ..."): err from splitFlags when there is one (it names the bad flag), else errUsage.
func usageError(use string, err error) error {
	if err == nil {
		err = errUsage
	}
	return fmt.Errorf("%s: %w", use, err)
}

// errUsage marks a misuse of the command line: main prints the usage text and exits 2.
var errUsage = errors.New("bad usage")
