// Command curio-topsearches is Curio with one more pipeline: every curio subcommand (dev,
// worker, run, assets, backfill, schedules ...) with the TopSearchTerms job next to the
// built-in ones.
//
//	go run ./examples/topsearches/cmd/curio-topsearches dev
//	go run ./examples/topsearches/cmd/curio-topsearches run TopSearchTerms '{"day":"2026-12-04"}'
package main

import (
	"os"

	"github.com/curiodata/curio/cli"
	"github.com/curiodata/curio/examples/topsearches"
)

func main() { os.Exit(cli.Main(os.Args[1:], topsearches.Job())) }
