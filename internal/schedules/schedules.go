// Package schedules keeps Curio's Temporal Schedules in step with the schedules the jobs
// declare (or a YAML file of the same shape): Apply creates the missing ones and updates the
// rest, so running it twice changes nothing.
package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/curiodata/curio/pipeline"
)

// Schedule is one configured schedule.
type Schedule struct {
	ID            string         `yaml:"id"`
	Workflow      string         `yaml:"workflow"`
	Cron          string         `yaml:"cron"`
	Input         map[string]any `yaml:"input"`
	Overlap       string         `yaml:"overlap"` // skip, buffer_one, buffer_all, cancel_other, terminate_other, allow_all
	Jitter        time.Duration  `yaml:"jitter"`
	CatchupWindow time.Duration  `yaml:"catchup_window"`
	Paused        bool           `yaml:"paused"`
}

// Config is the file's shape.
type Config struct {
	Schedules []Schedule `yaml:"schedules"`
}

// FromDefinitions returns the schedules the jobs of defs declare (pipeline.Job.Schedules),
// the default set that `curio schedules apply` and `curio dev` apply.
func FromDefinitions(defs *pipeline.Definitions) (Config, error) {
	var c Config
	for _, js := range defs.Schedules() {
		raw, err := pipeline.ScheduleInput(js.Schedule)
		if err != nil {
			return c, err
		}
		var input map[string]any
		if err := json.Unmarshal(raw, &input); err != nil {
			return c, fmt.Errorf("schedule %s: input is not a JSON object: %w", js.ID, err)
		}
		c.Schedules = append(c.Schedules, Schedule{ID: js.ID, Workflow: js.Job, Cron: js.Cron, Input: input,
			Overlap: js.Overlap, Jitter: js.Jitter, CatchupWindow: js.CatchupWindow, Paused: js.Paused})
	}
	return c, nil
}

// Parse reads and validates a config.
func Parse(b []byte) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("schedules config: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range c.Schedules {
		switch {
		case s.ID == "" || s.Workflow == "" || s.Cron == "":
			return c, fmt.Errorf("schedules config: every schedule needs id, workflow and cron: %+v", s)
		case seen[s.ID]:
			return c, fmt.Errorf("schedules config: duplicate id %q", s.ID)
		}
		if _, err := overlap(s.Overlap); err != nil {
			return c, fmt.Errorf("schedules config: %s: %w", s.ID, err)
		}
		seen[s.ID] = true
	}
	return c, nil
}

func overlap(s string) (enums.ScheduleOverlapPolicy, error) {
	switch s {
	case "", "skip":
		return enums.SCHEDULE_OVERLAP_POLICY_SKIP, nil
	case "buffer_one":
		return enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, nil
	case "buffer_all":
		return enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL, nil
	case "cancel_other":
		return enums.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, nil
	case "terminate_other":
		return enums.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER, nil
	case "allow_all":
		return enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, nil
	}
	return 0, fmt.Errorf("unknown overlap policy %q", s)
}

// Result says what Apply did with one schedule.
type Result struct {
	ID     string `json:"id"`
	Action string `json:"action"` // created or updated
}

func (s Schedule) action(taskQueue string) (*client.ScheduleWorkflowAction, error) {
	input := s.Input
	if input == nil {
		input = map[string]any{}
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("schedule %s input: %w", s.ID, err)
	}
	return &client.ScheduleWorkflowAction{ID: "scheduled-" + s.ID, Workflow: s.Workflow, TaskQueue: taskQueue,
		Args: []any{json.RawMessage(raw)}}, nil
}

// Apply creates or updates every schedule of c on Temporal, running workflows on taskQueue.
func Apply(ctx context.Context, c client.Client, cfg Config, taskQueue string) ([]Result, error) {
	var out []Result
	for _, s := range cfg.Schedules {
		act, err := s.action(taskQueue)
		if err != nil {
			return out, err
		}
		pol, _ := overlap(s.Overlap)
		spec := client.ScheduleSpec{CronExpressions: []string{s.Cron}, Jitter: s.Jitter}
		_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: s.ID, Spec: spec, Action: act, Overlap: pol, CatchupWindow: s.CatchupWindow, Paused: s.Paused,
			Note: "managed by curio schedules apply",
		})
		if err == nil {
			out = append(out, Result{ID: s.ID, Action: "created"})
			continue
		}
		var exists *serviceerror.AlreadyExists
		if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
			return out, fmt.Errorf("create schedule %s: %w", s.ID, err)
		}
		h := c.ScheduleClient().GetHandle(ctx, s.ID)
		err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sch := in.Description.Schedule
			sch.Spec = &spec
			sch.Action = act
			if sch.Policy == nil {
				sch.Policy = &client.SchedulePolicies{}
			}
			sch.Policy.Overlap = pol
			sch.Policy.CatchupWindow = s.CatchupWindow
			return &client.ScheduleUpdate{Schedule: &sch}, nil
		}})
		if err != nil {
			return out, fmt.Errorf("update schedule %s: %w", s.ID, err)
		}
		out = append(out, Result{ID: s.ID, Action: "updated"})
	}
	return out, nil
}

// RetryOptions bound ApplyWithRetry. Zero fields take the defaults.
type RetryOptions struct {
	// MaxElapsed is the total time allowed, attempts and waits together (default 1 minute).
	MaxElapsed time.Duration
	// InitialBackoff is the first wait between attempts (default 500 ms); it doubles up to MaxBackoff.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts (default 5 s).
	MaxBackoff time.Duration
	// Logger logs each retry (default slog.Default()).
	Logger *slog.Logger
}

// ApplyWithRetry is Apply, retried with exponential backoff while Temporal answers with a
// transient error (see IsTransient), as a server that has just started does, for at most
// opts.MaxElapsed in all. Schedules applied by an earlier attempt are not applied again.
// Other errors, an invalid spec for instance, are returned at once.
func ApplyWithRetry(ctx context.Context, c client.Client, cfg Config, taskQueue string, opts RetryOptions) ([]Result, error) {
	if opts.MaxElapsed <= 0 {
		opts.MaxElapsed = time.Minute
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(opts.MaxElapsed))
	defer cancel()

	var done []Result
	remaining := cfg.Schedules
	wait := opts.InitialBackoff
	for attempt := 1; ; attempt++ {
		res, err := Apply(ctx, c, Config{Schedules: remaining}, taskQueue)
		done = append(done, res...)
		if err == nil {
			return done, nil
		}
		// Apply handles schedules in order and stops at the first failure.
		remaining = remaining[min(len(res), len(remaining)):]
		if !IsTransient(err) {
			return done, err
		}
		if time.Since(start)+wait >= opts.MaxElapsed || ctx.Err() != nil {
			return done, fmt.Errorf("schedules apply gave up after %d attempts in %v: %w", attempt, time.Since(start).Round(time.Millisecond), err)
		}
		opts.Logger.Warn("schedules apply failed, retrying", "attempt", attempt, "wait", wait, "remaining", len(remaining), "err", err)
		select {
		case <-ctx.Done():
			return done, fmt.Errorf("schedules apply gave up after %d attempts: %w", attempt, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, opts.MaxBackoff)
	}
}

// IsTransient reports whether err is worth retrying: a deadline or an unavailable,
// overloaded or not yet ready Temporal server ("Not enough hosts to serve the request").
// A cancelled context is not; ApplyWithRetry also stops once its context ends.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Not enough hosts") {
		return true
	}
	var (
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		exhausted   *serviceerror.ResourceExhausted
	)
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return true
	}
	return false
}
