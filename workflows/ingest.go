package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/ingestjob"
	"github.com/curiodata/curio/internal/assets"
)

// Workflow type names of the ingestion line.
const (
	IngestEventsName = "IngestEvents"
	LandEventsName   = "LandEvents"
)

// IngestEventsInput configures the supervisor. `{}` runs both consumers in one-hour turns.
type IngestEventsInput struct {
	// Turn is how long each consumer activity runs before the workflow continues as new.
	Turn time.Duration `json:"turn,omitempty"`
	// Roles to run; default both lander and stream.
	Roles []string `json:"roles,omitempty"`
}

// IngestEvents supervises the Kafka consumers: the lander (exactly-once landing into
// raw_events) and the stream processor (5-second popularity windows). Each runs as a
// heartbeating activity; a dead worker's consumer is restarted on another worker and
// resumes from the offsets committed with the data. The workflow continues as new after
// every turn, so its history stays small however long it runs.
func IngestEvents(ctx workflow.Context, in IngestEventsInput) error {
	if in.Turn <= 0 {
		in.Turn = time.Hour
	}
	if len(in.Roles) == 0 {
		in.Roles = []string{ingestjob.RoleLander, ingestjob.RoleStream}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: in.Turn + 5*time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	var a *ingestjob.Activities
	futures := make([]workflow.Future, 0, len(in.Roles))
	for _, role := range in.Roles {
		futures = append(futures, workflow.ExecuteActivity(actx, a.RunConsumer, ingestjob.ConsumeInput{Role: role, For: in.Turn}))
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			return fmt.Errorf("consumer %s: %w", in.Roles[i], err)
		}
	}
	return workflow.NewContinueAsNewError(ctx, IngestEvents, in)
}

// LandEventsInput names the hour partition to record; `{}` means the previous full hour.
type LandEventsInput struct {
	Hour time.Time `json:"hour,omitempty"`
	// Grace is how long after the hour ends to wait for stragglers; default 1 minute.
	Grace time.Duration `json:"grace,omitempty"`
}

// LandEvents records one hour partition of raw_events as a materialized asset once the
// hour is over and the lander has caught up with everything Kafka held.
func LandEvents(ctx workflow.Context, in LandEventsInput) (ingestjob.HourResult, error) {
	if in.Hour.IsZero() {
		in.Hour = workflow.Now(ctx).UTC().Truncate(time.Hour).Add(-time.Hour)
	}
	if in.Grace <= 0 {
		in.Grace = time.Minute
	}
	hr := in.Hour.UTC().Truncate(time.Hour)
	if wait := hr.Add(time.Hour + in.Grace).Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return ingestjob.HourResult{}, err
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
	})
	var a *ingestjob.Activities
	var res ingestjob.HourResult
	started := workflow.Now(ctx)
	if err := workflow.ExecuteActivity(actx, a.MaterializeHour, ingestjob.HourInput{Hour: hr}).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("materialize %s: %w", hr.Format(time.RFC3339), err)
	}
	return res, recordAsset(ctx, activities.MaterializeInput{Asset: assets.RawEvents, Partition: assets.PartitionKey(hr),
		Rows: res.Events, DataVersion: res.Partition, StartedAt: started})
}
