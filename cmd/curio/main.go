// Command curio is Curio's single binary with the built-in jobs (package cli has the
// subcommands).
package main

import (
	"os"

	"github.com/curiodata/curio/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
