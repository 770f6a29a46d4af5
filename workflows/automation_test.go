package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities/alerting"
	"github.com/curiodata/curio/activities/automationjob"
	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/automation"
)

// TestAutomationTicksDeliversAndContinuesAsNew: each tick evaluates the policies and the
// alerts, every claimed notice is delivered (retried by Temporal until it goes through),
// a failed tick does not stop the loop, the evaluate signal cuts the wait short, and the
// run continues as new with its counters after TicksPerRun ticks.
func TestAutomationTicksDeliversAndContinuesAsNew(t *testing.T) {
	env := newEnv(t)
	env.RegisterActivity(&automationjob.Activities{})
	env.RegisterActivity(&alerting.Activities{})
	var a *automationjob.Activities
	var al *alerting.Activities
	var tickTimes []time.Time // of each tick's first attempt
	env.OnActivity(a.AutomationTick, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in automationjob.TickInput) (automation.Summary, error) {
			if int(in.Tick) > len(tickTimes) {
				tickTimes = append(tickTimes, env.Now())
			}
			if in.Tick == 2 {
				return automation.Summary{}, errors.New("warehouse down")
			}
			return automation.Summary{Started: []automation.Started{{Job: "J", Trigger: "eager:x@1"}}}, nil
		})
	evaluations := 0
	env.OnActivity(al.EvaluateAlerts, mock.Anything, mock.Anything).Return(
		func(context.Context, alerting.EvaluateAlertsInput) ([]alerts.Delivery, error) {
			evaluations++
			if evaluations == 1 {
				return []alerts.Delivery{{ID: 7, State: alerts.StateOpen}}, nil
			}
			return nil, nil
		})
	attempts := 0
	env.OnActivity(al.DeliverAlert, mock.Anything, mock.Anything).Return(func(context.Context, alerts.Delivery) error {
		attempts++
		if attempts < 3 {
			return errors.New("receiver answered 500")
		}
		return nil
	})
	// The third tick comes at once on the signal, not after the hour-long interval.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(AutomationSignal, nil) }, 90*time.Minute)
	env.ExecuteWorkflow(Automation, AutomationInput{Interval: time.Hour, TicksPerRun: 3})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	if len(tickTimes) != 3 || evaluations != 3 || attempts != 3 {
		t.Fatalf("ticks %d, alert evaluations %d, delivery attempts %d", len(tickTimes), evaluations, attempts)
	}
	if gap := tickTimes[2].Sub(tickTimes[1]); gap >= 50*time.Minute {
		t.Errorf("the signal did not wake the workflow: %s between ticks", gap)
	}
	var next AutomationInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.State.Ticks != 3 || next.State.Runs != 2 || next.State.Alerts != 1 || next.State.LastError != "" {
		t.Errorf("carried state %+v", next.State)
	}
}
