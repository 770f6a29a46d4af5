package activities

import (
	"context"
	"log/slog"
)

// log returns the logger for one activity call (see Logger): a.Logger with the workflow
// id, run id, activity type and attempt, so a log line can be traced to its run in the
// Temporal UI.
func (a *Activities) log(ctx context.Context) *slog.Logger { return Logger(ctx, a.Logger) }
