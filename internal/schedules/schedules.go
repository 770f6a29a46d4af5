// Package schedules keeps Curio's Temporal Schedules in step with a checked-in config:
// Apply creates the missing ones and updates the rest, so running it twice changes nothing.
package schedules

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"gopkg.in/yaml.v3"
)

//go:embed schedules.yaml
var defaultConfig []byte

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

// Default returns the embedded config (internal/schedules/schedules.yaml).
func Default() (Config, error) { return Parse(defaultConfig) }

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
