package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
)

// sensorTimeout bounds one sensor evaluation.
const sensorTimeout = time.Minute

// evaluateSensor evaluates s when it is due, starts a run for each new key it returns and
// records the tick with its new cursor.
func (e *Evaluator) evaluateSensor(ctx context.Context, s pipeline.SensorOf, now time.Time, sum *Summary) error {
	st, err := e.Store.SensorState(ctx, s.Name)
	if err != nil {
		return err
	}
	interval := s.Interval
	if interval <= 0 {
		interval = pipeline.DefaultSensorInterval
	}
	if !st.LastTickAt.IsZero() && now.Sub(st.LastTickAt) < interval {
		return nil // not due
	}
	sum.Sensors++
	tick := postgres.SensorTick{Sensor: s.Name, Job: s.Job, At: now}
	res, err := e.evaluate(ctx, s, st.Cursor, now)
	if err != nil {
		tick.Status, tick.Reason = postgres.TickFailed, err.Error()
		e.log().Warn("sensor evaluation failed", "sensor", s.Name, "err", err)
		return e.Store.RecordTick(ctx, tick, nil)
	}
	var notes []string
	dup, failed := 0, 0
	for _, rr := range res.Runs {
		wid, started, err := e.startForSensor(ctx, s, rr, sum)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return err
			}
			notes = append(notes, fmt.Sprintf("key %q: %v", rr.Key, err))
			failed++
		case started:
			tick.WorkflowIDs = append(tick.WorkflowIDs, wid)
		default:
			dup++
		}
	}
	switch {
	case len(tick.WorkflowIDs) > 0:
		tick.Status = postgres.TickFired
	case len(notes) > 0:
		tick.Status = postgres.TickFailed
	default:
		tick.Status = postgres.TickSkipped
	}
	if res.Skip != "" {
		notes = append([]string{res.Skip}, notes...)
	}
	if dup > 0 {
		notes = append(notes, fmt.Sprintf("%d key(s) already triggered", dup))
	}
	if len(notes) == 0 && tick.Status == postgres.TickSkipped {
		notes = append(notes, "nothing new")
	}
	tick.Reason = strings.Join(notes, "; ")
	// A key that failed may never come back once the cursor moves past it (a file sensor
	// remembers what it returned): the cursor moves only when every key was claimed.
	var cursor *string
	if res.Cursor != "" && failed == 0 {
		cursor = &res.Cursor
	}
	return e.Store.RecordTick(ctx, tick, cursor)
}

// evaluate runs the sensor's function with a deadline, turning a panic into an error.
func (e *Evaluator) evaluate(ctx context.Context, s pipeline.SensorOf, cursor string, now time.Time) (res pipeline.SensorResult, err error) {
	ctx, cancel := context.WithTimeout(ctx, sensorTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sensor %s panicked: %v", s.Name, r)
		}
	}()
	env := e.Env
	env.Now = now
	if env.Logger == nil {
		env.Logger = e.log()
	}
	env.Logger = env.Logger.With("sensor", s.Name)
	return s.Evaluate(ctx, env, cursor)
}

// startForSensor claims the key of rr and starts the sensor's job; started is false for a
// key that was triggered before.
func (e *Evaluator) startForSensor(ctx context.Context, s pipeline.SensorOf, rr pipeline.RunRequest, sum *Summary) (string, bool, error) {
	if rr.Key == "" {
		return "", false, fmt.Errorf("sensor %s returned a run request without a key", s.Name)
	}
	raw := []byte("{}")
	if rr.Input != nil {
		b, err := json.Marshal(rr.Input)
		if err != nil {
			return "", false, fmt.Errorf("input: %w", err)
		}
		raw = b
	}
	if _, err := e.Defs.DecodeInput(s.Job, raw); err != nil {
		return "", false, err
	}
	// The key alone makes the trigger (the reason is free text, and may change between ticks).
	claim := postgres.AutomationRun{Job: s.Job, Trigger: "sensor:" + s.Name + ":" + rr.Key, Source: "sensor:" + s.Name,
		WorkflowID: WorkflowID("sensor-"+s.Name, s.Job, "", rr.Key), Input: raw}
	r, claimed, err := e.Store.Claim(ctx, claim)
	if err != nil {
		return "", false, err
	}
	if !claimed && (r.RunID != "" || r.ClosedAt != nil) {
		return r.WorkflowID, false, nil
	}
	if err := e.start(ctx, r, sum); err != nil {
		return "", false, err
	}
	return r.WorkflowID, true, nil
}
