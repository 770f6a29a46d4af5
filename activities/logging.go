package activities

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"
)

// log returns the logger for one activity call: a.Logger with the workflow id, run id,
// activity type and attempt of ctx's activity, so that a log line can be traced to its run
// in the Temporal UI. Outside an activity context (a direct call, as in tests) it is
// a.Logger as is; with no a.Logger it is slog.Default().
func (a *Activities) log(ctx context.Context) *slog.Logger {
	l := a.Logger
	if l == nil {
		l = slog.Default()
	}
	if ctx == nil || !activity.IsActivity(ctx) {
		return l
	}
	info := activity.GetInfo(ctx)
	return l.With("workflow_id", info.WorkflowExecution.ID, "run_id", info.WorkflowExecution.RunID,
		"activity", info.ActivityType.Name, "attempt", info.Attempt)
}
