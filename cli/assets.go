package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/schedules"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// cmdAssets prints the asset graph with partition status counts, or one asset's partitions.
func cmdAssets(ctx context.Context, cfg config.Config, defs *pipeline.Definitions, args []string, stdout io.Writer) error {
	pg, _, err := openStores(ctx, endpoints(cfg), false)
	if err != nil {
		return err
	}
	defer pg.Close()
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	if len(args) == 1 {
		a, ok := defs.Asset(args[0])
		if !ok {
			return fmt.Errorf("unknown asset %q: known assets are %s", args[0], strings.Join(defs.AssetNames(), ", "))
		}
		ps, err := assets.PartitionsOf(ctx, pg, defs, a, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "PARTITION\tSTATUS\tROWS\tFINISHED\tRUN\tCHECKS")
		for _, p := range ps {
			part := p.Partition
			if part == "" {
				part = "(all)"
			}
			if p.Last == nil {
				fmt.Fprintf(tw, "%s\t%s\t\t\t\t\n", part, p.Status)
				continue
			}
			var checks []string
			for _, c := range p.Last.Checks {
				mark := "ok"
				if !c.Passed {
					mark = "FAILED"
				}
				checks = append(checks, c.Name+":"+mark)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", part, p.Status, p.Last.Rows, p.Last.FinishedAt.Format(time.DateTime),
				p.Last.WorkflowID, strings.Join(checks, " "))
		}
		return nil
	}
	nodes, err := assets.Graph(ctx, pg, defs, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(tw, "ASSET\tWORKFLOW\tUPSTREAMS\tPARTITIONS\tLAST SUCCESS\tFRESH")
	for _, n := range nodes {
		var counts []string
		for _, s := range []string{assets.StatusMaterialized, assets.StatusStale, assets.StatusFailed, assets.StatusMissing} {
			if n.Counts[s] > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n.Counts[s], s))
			}
		}
		last, fresh := "never", "-"
		if n.LastSuccess != nil {
			last = n.LastSuccess.Format(time.DateTime)
		}
		if n.Fresh != nil {
			fresh = map[bool]string{true: "yes", false: "NO"}[*n.Fresh]
		}
		ups := make([]string, len(n.Upstreams))
		for i, u := range n.Upstreams {
			ups[i] = u.Asset
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Job, strings.Join(ups, ","), strings.Join(counts, ", "), last, fresh)
	}
	return nil
}

// cmdSchedules implements `curio schedules apply [--file F]`.
func cmdSchedules(ctx context.Context, cfg config.Config, logger *slog.Logger, defs *pipeline.Definitions, args []string, stdout io.Writer) error {
	flags, pos, err := splitFlags(args, flagSet{Values: []string{"file"}})
	if err != nil || len(pos) != 1 || pos[0] != "apply" {
		return usageError("usage: curio schedules apply [--file schedules.yaml]", err)
	}
	sc, err := schedules.FromDefinitions(defs)
	if f := flags["file"]; f != "" {
		var b []byte
		if b, err = os.ReadFile(f); err == nil {
			sc, err = schedules.Parse(b)
		}
	}
	if err != nil {
		return err
	}
	c, err := dialTemporal(ctx, cfg, endpoints(cfg), logger)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := schedules.ApplyWithRetry(ctx, c, sc, cfg.TaskQueue, schedules.RetryOptions{Logger: logger})
	for _, r := range res {
		fmt.Fprintf(stdout, "%-28s %s\n", r.ID, r.Action)
	}
	return err
}

// cmdBackfill implements `curio backfill ASSET --from --to [--only failed,missing] [--dry-run]`,
// showing a progress bar while the Backfill workflow runs.
func cmdBackfill(ctx context.Context, cfg config.Config, logger *slog.Logger, defs *pipeline.Definitions, args []string, stdout, stderr io.Writer) error {
	flags, pos, err := splitFlags(args, flagSet{Values: []string{"from", "to", "only", "parallel"}, Bools: []string{"dry-run"}})
	if err != nil || len(pos) != 1 {
		return usageError("usage: curio backfill ASSET [--from T] [--to T] [--only failed,missing] [--dry-run] [--parallel N]", err)
	}
	in := workflows.BackfillInput{Asset: pos[0], From: flags["from"], To: flags["to"], DryRun: flags["dry-run"] == "true"}
	if o := flags["only"]; o != "" {
		in.Only = strings.Split(o, ",")
	}
	if p := flags["parallel"]; p != "" {
		if _, err := fmt.Sscan(p, &in.MaxParallel); err != nil || in.MaxParallel <= 0 {
			return fmt.Errorf("--parallel must be a positive integer, got %q", p)
		}
	}
	asset, ok := defs.Asset(in.Asset)
	if !ok {
		return fmt.Errorf("unknown asset %q: known assets are %s", in.Asset, strings.Join(defs.AssetNames(), ", "))
	}
	// Check the range here, with the same rules as the workflow, so a typo or an oversized
	// range is a clear error now rather than a failed run.
	in.MaxPartitions = cfg.BackfillMaxPartitions
	if _, err := assets.ParseBackfillRange(asset, in.From, in.To, time.Now(), in.MaxPartitions); err != nil {
		return fmt.Errorf("curio backfill %s: %w", in.Asset, err)
	}
	c, err := dialTemporal(ctx, cfg, endpoints(cfg), logger)
	if err != nil {
		return err
	}
	defer c.Close()
	id := "backfill-" + in.Asset + "-" + time.Now().UTC().Format("20060102T150405Z")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.BackfillName, in)
	if err != nil {
		return fmt.Errorf("start backfill: %w", err)
	}
	fmt.Fprintf(stderr, "backfill %s started (workflow %s)\n", in.Asset, run.GetID())
	done := make(chan error, 1)
	var res workflows.BackfillProgress
	go func() { done <- run.Get(ctx, &res) }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			printBar(stderr, res)
			fmt.Fprintln(stderr)
			if in.DryRun {
				fmt.Fprintf(stdout, "%d partitions would be backfilled:\n", len(res.Partitions))
				for _, p := range res.Partitions {
					fmt.Fprintln(stdout, "  "+p)
				}
			} else {
				fmt.Fprintf(stdout, "done %d, failed %d, skipped (already running) %d of %d partitions\n",
					len(res.Done), len(res.Failed), len(res.Skipped), len(res.Partitions))
			}
			return err
		case <-tick.C:
			// By workflow id alone: the query goes to the latest run, as the backfill continues as new.
			if v, err := c.QueryWorkflow(ctx, run.GetID(), "", workflows.ProgressQuery); err == nil {
				var p workflows.BackfillProgress
				if v.Get(&p) == nil {
					printBar(stderr, p)
				}
			}
		case <-ctx.Done():
			fmt.Fprintf(stderr, "\nstopped watching; the backfill goes on in workflow %s\n", run.GetID())
			return nil
		}
	}
}

func printBar(w io.Writer, p workflows.BackfillProgress) {
	total := max(len(p.Partitions), 1)
	n := len(p.Done) + len(p.Failed) + len(p.Skipped)
	const width = 30
	filled := width * n / total
	fmt.Fprintf(w, "\r[%s%s] %d/%d partitions, %d running, %d failed ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		n, len(p.Partitions), len(p.Running), len(p.Failed))
}
