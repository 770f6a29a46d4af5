package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/curiodata/curio/internal/config"
	"github.com/curiodata/curio/internal/runs"
	"github.com/curiodata/curio/pipeline"
	"github.com/curiodata/curio/workflows"
)

// cmdAutomation starts, stops or shows the automation workflow: `curio automation start`
// on a deployment without `curio dev` (which starts it itself), `status` for its last
// evaluation, the runs it started and its sensors' ticks.
func cmdAutomation(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	_, pos, err := splitFlags(args, flagSet{})
	if err == nil && (len(pos) != 1 || !strings.Contains(" start stop status ", " "+pos[0]+" ")) {
		err = fmt.Errorf("want start, stop or status: %w", errUsage)
	}
	if err != nil {
		return fmt.Errorf("curio automation: %w", err)
	}
	e := endpoints(cfg)
	c, err := dialTemporal(ctx, cfg, e, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	switch pos[0] {
	case "start":
		if err := runs.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
			logger.Warn("runs start without the CurioTrigger search attribute", "err", err)
		}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AutomationWorkflowID, TaskQueue: cfg.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			Memo:                     map[string]any{pipeline.TriggerMemo: "manual:cli"}},
			workflows.AutomationName, workflows.AutomationInput{Interval: cfg.AutomationInterval})
		if err != nil {
			return fmt.Errorf("start the automation: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "automation running: workflow %s, run %s, evaluating every %s\n", run.GetID(), run.GetRunID(), cfg.AutomationInterval)
		return err
	case "stop":
		if err := c.TerminateWorkflow(ctx, workflows.AutomationWorkflowID, "", "curio automation stop"); err != nil {
			return fmt.Errorf("stop the automation: %w", err)
		}
		_, err := fmt.Fprintln(stdout, "automation stopped; runs it started go on (start it again with 'curio automation start')")
		return err
	}
	var st workflows.AutomationStatus
	q, err := c.QueryWorkflow(ctx, workflows.AutomationWorkflowID, "", workflows.AutomationQuery)
	if err == nil {
		err = q.Get(&st)
	}
	if err != nil {
		return fmt.Errorf("automation status (is it running? 'curio automation start'): %w", err)
	}
	fmt.Fprintf(stdout, "automation: every %s, %d evaluations, %d runs started, %d alerts delivered, %d deliveries pending\n",
		st.Interval, st.Ticks, st.Runs, st.Alerts, st.PendingDeliveries)
	if st.LastError != "" {
		fmt.Fprintf(stdout, "last evaluation FAILED: %s\n", st.LastError)
	}
	if t := st.LastTick; t != nil {
		fmt.Fprintf(stdout, "last evaluation %s: %d started, %d skipped, %d in flight, %d sensors evaluated\n",
			t.At.Format(time.RFC3339), len(t.Started), t.SkippedCount, t.InFlight, t.Sensors)
		for _, s := range t.Skipped {
			fmt.Fprintf(stdout, "  skipped %s[%s]: %s\n", s.Asset, s.Partition, s.Reason)
		}
		for _, e := range t.Errors {
			fmt.Fprintf(stdout, "  error: %s\n", e)
		}
	}
	pg, _, err := openStores(ctx, e, false)
	if err != nil {
		return err
	}
	defer pg.Close()
	recent, err := pg.Automation().Recent(ctx, "", 20)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSTARTED\tJOB\tPARTITION\tTRIGGER\tSTATUS\tWORKFLOW")
	for _, r := range recent {
		status := r.Status
		switch {
		case r.RunID == "" && r.Error != "":
			status = "not started: " + r.Error
		case status == "":
			status = "running"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ClaimedAt.Format(time.RFC3339), r.Job, r.Partition, r.Trigger, status, r.WorkflowID)
	}
	ticks, err := pg.Automation().Ticks(ctx, "", 20)
	if err != nil {
		return err
	}
	fmt.Fprintln(tw, "\nSENSOR TICK\tSENSOR\tJOB\tSTATUS\tREASON\tRUNS")
	for _, t := range ticks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.At.Format(time.RFC3339), t.Sensor, t.Job, t.Status, t.Reason, strings.Join(t.WorkflowIDs, ","))
	}
	return tw.Flush()
}
