package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities/alerting"
	"github.com/curiodata/curio/activities/automationjob"
	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/automation"
)

// The automation workflow: its type name, the id `curio dev` starts it under, its query
// and the signal that makes it evaluate at once.
const (
	AutomationName       = "CurioAutomation"
	AutomationWorkflowID = "curio-automation"
	AutomationQuery      = "status"
	AutomationSignal     = "evaluate"
)

// AutomationInput configures the automation workflow; `{}` evaluates every 15 s.
type AutomationInput struct {
	Interval time.Duration `json:"interval,omitempty"`
	// TicksPerRun is how many evaluations one run makes before it continues as new
	// (earlier when Temporal suggests it); default 240.
	TicksPerRun int  `json:"ticks_per_run,omitempty"`
	NoAlerts    bool `json:"no_alerts,omitempty"`
	// State is carried from run to run; never set it yourself.
	State *AutomationState `json:"state,omitempty"`
}

// AutomationState is what the automation workflow carries across continue-as-new.
type AutomationState struct {
	Ticks     int64               `json:"ticks"`
	Runs      int64               `json:"runs_started"`
	Alerts    int64               `json:"alerts_delivered"`
	LastTick  *automation.Summary `json:"last_tick,omitempty"`
	LastError string              `json:"last_error,omitempty"`
}

// AutomationStatus answers the status query.
type AutomationStatus struct {
	AutomationState
	Interval          time.Duration `json:"interval"`
	PendingDeliveries int           `json:"pending_deliveries"`
}

// evaluationTimeout bounds one tick (the policies over the whole asset graph and sensors).
const evaluationTimeout = 5 * time.Minute

// Automation evaluates the automation policies of every asset and the sensors of every
// job once per Interval (or at once on the evaluate signal), and the alerts: it starts the
// runs they call for, each carrying its trigger, and delivers alert notices with retries.
// What it has seen lives in the warehouse (claims, cursors, ticks), so terminating and
// restarting it loses no trigger and fires none twice; it continues as new every
// TicksPerRun evaluations, so its history stays small however long it runs.
func Automation(ctx workflow.Context, in AutomationInput) error {
	if in.Interval <= 0 {
		in.Interval = 15 * time.Second
	}
	if in.TicksPerRun <= 0 {
		in.TicksPerRun = 240
	}
	state := AutomationState{}
	if in.State != nil {
		state = *in.State
	}
	pending := 0
	if err := workflow.SetQueryHandler(ctx, AutomationQuery, func() (AutomationStatus, error) {
		return AutomationStatus{AutomationState: state, Interval: in.Interval, PendingDeliveries: pending}, nil
	}); err != nil {
		return err
	}
	logger := workflow.GetLogger(ctx)
	tickCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: evaluationTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 3},
	})
	deliverCtx := workflow.WithActivityOptions(ctx, alerting.DeliveryActivityOptions())
	wake := workflow.GetSignalChannel(ctx, AutomationSignal)
	var a *automationjob.Activities
	var al *alerting.Activities
	// Past TicksPerRun the loop goes on while alert deliveries are pending (continuing as new
	// would wait for them), so evaluation never pauses for a slow receiver.
	for i := 0; i < in.TicksPerRun || pending > 0; i++ {
		state.Ticks++
		var sum automation.Summary
		if err := workflow.ExecuteActivity(tickCtx, a.AutomationTick, automationjob.TickInput{Tick: state.Ticks}).Get(ctx, &sum); err != nil {
			// The next tick tries again: the automation never stops over one bad evaluation.
			state.LastError = err.Error()
			logger.Warn("automation tick failed", "tick", state.Ticks, "err", err)
		} else {
			state.LastTick, state.LastError = &sum, ""
			state.Runs += int64(len(sum.Started))
		}
		if !in.NoAlerts {
			var deliveries []alerts.Delivery
			if err := workflow.ExecuteActivity(tickCtx, al.EvaluateAlerts, alerting.EvaluateAlertsInput{}).Get(ctx, &deliveries); err != nil {
				logger.Warn("alert evaluation failed", "tick", state.Ticks, "err", err)
			}
			for _, d := range deliveries {
				pending++
				workflow.Go(ctx, func(gctx workflow.Context) {
					defer func() { pending-- }()
					if err := workflow.ExecuteActivity(deliverCtx, al.DeliverAlert, d).Get(gctx, nil); err != nil {
						logger.Warn("alert delivery gave up", "err", err) // recorded by the activity; a later tick retries
						return
					}
					state.Alerts++
				})
			}
		}
		if pending == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			break
		}
		timerCtx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(timerCtx, in.Interval)
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(workflow.Future) {})
		sel.AddReceive(wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.Select(ctx)
		cancel()
	}
	if err := workflow.Await(ctx, func() bool { return pending == 0 }); err != nil {
		return err
	}
	for wake.ReceiveAsync(nil) { // a signal is a request to evaluate: the next run does
	}
	in.State = &state
	return workflow.NewContinueAsNewError(ctx, AutomationName, in)
}
