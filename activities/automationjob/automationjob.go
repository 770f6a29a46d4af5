// Package automationjob holds the activity of the automation workflow: one evaluation of
// the automation policies and sensors (package internal/automation).
package automationjob

import (
	"context"
	"time"

	"github.com/curiodata/curio/internal/automation"
)

// Activities evaluate automation.
type Activities struct {
	Evaluator *automation.Evaluator
}

// TickInput numbers a tick (for the Temporal UI).
type TickInput struct {
	Tick int64 `json:"tick"`
}

// AutomationTick evaluates every automation policy and due sensor once and starts the runs
// they call for (see automation.Evaluator.Tick).
func (a *Activities) AutomationTick(ctx context.Context, _ TickInput) (automation.Summary, error) {
	return a.Evaluator.Tick(ctx, time.Now().UTC())
}
