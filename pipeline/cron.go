package pipeline

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Cron is a parsed five-field UTC cron expression (minute hour day month weekday).
type Cron struct {
	expr  string
	sched cron.Schedule
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a five-field cron expression (or a descriptor such as @hourly).
func ParseCron(expr string) (Cron, error) {
	s, err := cronParser.Parse(expr)
	if err != nil {
		return Cron{}, fmt.Errorf("cron %q: %w", expr, err)
	}
	return Cron{expr: expr, sched: s}, nil
}

// String returns the expression.
func (c Cron) String() string { return c.expr }

// Next returns the first tick after t (UTC).
func (c Cron) Next(t time.Time) time.Time { return c.sched.Next(t.UTC()) }

// Latest returns the last tick in (after, now], and whether there is one.
func (c Cron) Latest(after, now time.Time) (time.Time, bool) {
	t := c.Next(after)
	if t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	for {
		n := c.Next(t)
		if n.IsZero() || n.After(now) {
			return t, true
		}
		t = n
	}
}
