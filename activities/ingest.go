package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/internal/ingest"
)

// Consumer roles supervised by IngestEvents.
const (
	RoleLander = "lander"
	RoleStream = "stream"
)

// ConsumeInput runs one consumer role for a while.
type ConsumeInput struct {
	Role string `json:"role"` // lander or stream
	// For bounds one activity run; the workflow starts the next one (keeps histories short).
	For time.Duration `json:"for"`
}

// ConsumeResult reports what one run committed.
type ConsumeResult struct {
	Role     string          `json:"role"`
	Progress ingest.Progress `json:"progress"`
}

// RunConsumer runs the lander or the stream processor until For elapses or the activity is
// cancelled, heartbeating its progress. Offsets live in PostgreSQL with the data, so a run
// that dies anywhere (worker killed, batch failed) is retried from where it committed.
func (a *Activities) RunConsumer(ctx context.Context, in ConsumeInput) (ConsumeResult, error) {
	if len(a.KafkaBrokers) == 0 {
		return ConsumeResult{}, nonRetryable(ErrTypeBadInput, errors.New("worker has no Kafka brokers configured"))
	}
	if in.For <= 0 {
		in.For = time.Hour
	}
	opts := ingest.Options{Brokers: a.KafkaBrokers, Logger: a.log(ctx), TimePolicy: a.EventPolicy}
	var run func(context.Context) error
	var progress func() ingest.Progress
	switch in.Role {
	case RoleLander:
		// Dead letters also go to their topic, for consumers that alert on them.
		dlq, err := ingest.NewProducer(a.KafkaBrokers, "curio-dead-letters")
		if err != nil {
			return ConsumeResult{}, err
		}
		defer dlq.Close()
		l := ingest.NewLander(a.PG.Pool(), opts, dlq)
		run, progress = l.Run, l.Progress
	case RoleStream:
		s := ingest.NewStream(a.PG.Pool(), opts, ingest.StreamOptions{})
		run, progress = s.Run, s.Progress
	default:
		return ConsumeResult{}, nonRetryable(ErrTypeBadInput, fmt.Errorf("unknown consumer role %q: want lander or stream", in.Role))
	}
	rctx, cancel := context.WithTimeout(ctx, in.For)
	defer cancel()
	// A stopping worker ends the run at once: offsets are committed with the data, so the
	// next attempt (on any worker) resumes exactly where this one stopped.
	go func() {
		select {
		case <-activity.GetWorkerStopChannel(ctx):
			cancel()
		case <-rctx.Done():
		}
	}()
	done := make(chan error, 1)
	go func() { done <- run(rctx) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			res := ConsumeResult{Role: in.Role, Progress: progress()}
			if err != nil {
				return res, fmt.Errorf("%s: %w", in.Role, err)
			}
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, nil
		case <-tick.C:
			activity.RecordHeartbeat(ctx, progress())
		}
	}
}

// HourInput names an hour partition of raw_events.
type HourInput struct {
	Hour time.Time `json:"hour"`
}

// HourResult describes a materialized hour partition.
type HourResult struct {
	Hour        time.Time `json:"hour"`
	Partition   string    `json:"partition"`
	Events      int64     `json:"events"`
	DeadLetters int64     `json:"dead_letters"`
}

// MaterializeHour waits until the lander has committed everything Kafka held when the call
// began (so no event of the hour is still in flight), then records the hour partition as
// a materialized asset with its row count.
func (a *Activities) MaterializeHour(ctx context.Context, in HourInput) (HourResult, error) {
	hr := in.Hour.UTC().Truncate(time.Hour)
	res := HourResult{Hour: hr, Partition: ingest.PartitionName(hr)}
	if len(a.KafkaBrokers) > 0 {
		hw, err := ingest.HighWater(a.KafkaBrokers, ingest.TopicEvents)
		if err != nil {
			return res, err
		}
		for {
			got, err := ingest.Offsets(ctx, a.PG.Pool(), ingest.LanderGroup, ingest.TopicEvents)
			if err != nil {
				return res, err
			}
			behind := int64(0)
			for p, want := range hw {
				behind += max(0, want-got[p])
			}
			if behind == 0 {
				break
			}
			activity.RecordHeartbeat(ctx, behind)
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	info := activity.GetInfo(ctx)
	err := a.PG.Pool().QueryRow(ctx, `WITH n AS (
			SELECT (SELECT count(*) FROM raw_events WHERE ts >= $1 AND ts < $2) AS events,
			       (SELECT count(*) FROM dead_letters WHERE received_at >= $1 AND received_at < $2) AS dead)
		INSERT INTO event_partitions (hour, status, events, dead_letters, workflow_id, materialized_at)
		SELECT $1, 'materialized', n.events, n.dead, $3, now() FROM n
		ON CONFLICT (hour) DO UPDATE SET status = 'materialized', events = EXCLUDED.events,
			dead_letters = EXCLUDED.dead_letters, workflow_id = EXCLUDED.workflow_id, materialized_at = now()
		RETURNING events, dead_letters`, hr, hr.Add(time.Hour), info.WorkflowExecution.ID).Scan(&res.Events, &res.DeadLetters)
	if err != nil {
		return res, fmt.Errorf("materialize %s: %w", res.Partition, err)
	}
	return res, nil
}
