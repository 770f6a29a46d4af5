// Package ingestjob holds the activities of the ingestion line: RunConsumer (the Kafka
// lander and stream processor of internal/ingest, supervised by IngestEvents) and
// MaterializeHour (LandEvents' record of an hour partition of raw_events). internal/ingest
// owns raw_events, consumer_offsets and dead_letters and works on its own connection pool;
// the activities' own SQL lives in postgres.EventPartitionStore.
//
// The method names are the Temporal activity names: recorded histories refer to them, so
// they must not change.
package ingestjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/storage/postgres"
)

// Activities are the activities of the ingestion line.
type Activities struct {
	Store *postgres.EventPartitionStore // event_partitions
	// Ingest is the warehouse pool internal/ingest lands events and commits offsets with
	// (raw_events, consumer_offsets, dead_letters).
	Ingest *pgxpool.Pool
	// KafkaBrokers are where user-activity events are consumed from.
	KafkaBrokers []string
	// EventPolicy bounds consumed events' times; nil means events.DefaultTimePolicy.
	EventPolicy *events.TimePolicy
	Logger      *slog.Logger // nil means slog.Default()
}

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
		return ConsumeResult{}, activities.BadInput(errors.New("worker has no Kafka brokers configured"))
	}
	if in.For <= 0 {
		in.For = time.Hour
	}
	opts := ingest.Options{Brokers: a.KafkaBrokers, Logger: activities.Logger(ctx, a.Logger), TimePolicy: a.EventPolicy}
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
		l := ingest.NewLander(a.Ingest, opts, dlq)
		run, progress = l.Run, l.Progress
	case RoleStream:
		s := ingest.NewStream(a.Ingest, opts, ingest.StreamOptions{})
		run, progress = s.Run, s.Progress
	default:
		return ConsumeResult{}, activities.BadInput(fmt.Errorf("unknown consumer role %q: want lander or stream", in.Role))
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
			got, err := ingest.Offsets(ctx, a.Ingest, ingest.LanderGroup, ingest.TopicEvents)
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
	p, err := a.Store.MaterializeHour(ctx, hr, activity.GetInfo(ctx).WorkflowExecution.ID)
	if err != nil {
		return res, fmt.Errorf("materialize %s: %w", res.Partition, err)
	}
	res.Events, res.DeadLetters = p.Events, p.DeadLetters
	return res, nil
}
