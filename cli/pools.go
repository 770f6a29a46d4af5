package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/pools"
	"github.com/curiodata/curio/pipeline"
)

// cmdPools prints every concurrency pool with its limit and jobs, and the runs holding
// its slots or waiting for one.
func cmdPools(ctx context.Context, cfg config.Config, defs *pipeline.Definitions, args []string, stdout io.Writer) error {
	_, pos, err := splitFlags(args, flagSet{})
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q: %w", pos[0], errUsage)
	}
	if err != nil {
		return fmt.Errorf("curio pools: %w", err)
	}
	pg, _, err := openStores(ctx, endpoints(cfg), false)
	if err != nil {
		return err
	}
	defer pg.Close()
	us, err := (&pools.Monitor{Definitions: defs, Store: pg.Pools()}).Usage(ctx)
	if err != nil {
		return err
	}
	return printPools(stdout, us)
}

// printPools writes one line per pool, then, when runs hold or wait for slots, one line
// per run: the holders first, then the waiting runs in the order they will get a slot.
func printPools(w io.Writer, us []pools.Usage) error {
	if len(us) == 0 {
		_, err := fmt.Fprintln(w, "no job declares a pool")
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tLIMIT\tHELD\tWAITING\tJOBS")
	runs := 0
	for _, u := range us {
		limit := fmt.Sprint(u.Limit)
		if u.Limit == 0 {
			limit = "(undeclared)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", u.Pool, limit, len(u.Holders), len(u.Waiting), strings.Join(u.Jobs, ", "))
		runs += len(u.Holders) + len(u.Waiting)
	}
	if err := tw.Flush(); err != nil || runs == 0 {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tSTATE\tSINCE\tRUN")
	for _, u := range us {
		for _, s := range u.Holders {
			state := "holds"
			if s.Shared {
				state = "shares" // its parent's slot
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Pool, state, s.AcquiredAt.UTC().Format(time.DateTime), s.PoolRun)
		}
		for _, s := range u.Waiting {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Pool, "waits", s.RequestedAt.UTC().Format(time.DateTime), s.PoolRun)
		}
	}
	return tw.Flush()
}
