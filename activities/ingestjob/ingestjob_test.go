package ingestjob_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/curiodata/curio/activities"
	"github.com/curiodata/curio/activities/ingestjob"
	"github.com/curiodata/curio/internal/events"
	"github.com/curiodata/curio/internal/ingest"
	"github.com/curiodata/curio/internal/kafka"
	"github.com/curiodata/curio/internal/teststores"
)

// setup returns the activities on a fresh warehouse, with brokers (nil: none) and a
// test activity environment they are registered in.
func setup(t *testing.T, brokers []string) (*ingestjob.Activities, *testsuite.TestActivityEnvironment) {
	t.Helper()
	pg, _, _ := teststores.Open(t)
	a := &ingestjob.Activities{Store: pg.EventPartitions(), Ingest: pg.Pool(), KafkaBrokers: brokers,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, env
}

func isBadInput(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == activities.ErrTypeBadInput && app.NonRetryable()
}

func TestRunConsumerRejectsBadInput(t *testing.T) {
	a, env := setup(t, nil)
	if _, err := env.ExecuteActivity(a.RunConsumer, ingestjob.ConsumeInput{Role: ingestjob.RoleLander, For: time.Second}); !isBadInput(err) {
		t.Errorf("no brokers: %v, want a non-retryable %s", err, activities.ErrTypeBadInput)
	}
	a.KafkaBrokers = []string{"127.0.0.1:1"}
	if _, err := env.ExecuteActivity(a.RunConsumer, ingestjob.ConsumeInput{Role: "janitor", For: time.Second}); !isBadInput(err) {
		t.Errorf("unknown role: %v, want a non-retryable %s", err, activities.ErrTypeBadInput)
	}
}

// TestLanderThenMaterializeHour lands events from an embedded Kafka with RunConsumer, then
// records their hour with MaterializeHour, which waits for the lander to have caught up.
func TestLanderThenMaterializeHour(t *testing.T) {
	k, err := kafka.StartEmbedded("127.0.0.1:0", "", 2, ingest.TopicEvents, ingest.TopicDeadLetters)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	a, env := setup(t, k.Brokers())
	a.EventPolicy = &events.TimePolicy{MaxFuture: time.Hour, MaxAge: 24 * time.Hour}

	p, err := ingest.NewProducer(k.Brokers(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	g, err := events.NewGenerator([]events.Item{{ID: "m1", Type: "movie", Categories: []string{"Drama"}}},
		events.GeneratorOptions{Users: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The current hour: dead letters are dated when they are received.
	hour := time.Now().UTC().Truncate(time.Hour)
	evs := make([]events.Event, 20)
	for i := range evs {
		evs[i] = g.Next(hour.Add(time.Duration(i) * time.Second))
	}
	if err := ingest.Send(p, ingest.TopicEvents, evs); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: ingest.TopicEvents, Value: sarama.StringEncoder(`{"type":"view"`)}); err != nil {
		t.Fatal(err)
	}

	// MaterializeHour waits for the lander, which runs meanwhile.
	landed := make(chan error, 1)
	go func() {
		var s testsuite.WorkflowTestSuite
		lenv := s.NewTestActivityEnvironment()
		lenv.RegisterActivity(a)
		v, err := lenv.ExecuteActivity(a.RunConsumer, ingestjob.ConsumeInput{Role: ingestjob.RoleLander, For: 5 * time.Second})
		if err == nil {
			var res ingestjob.ConsumeResult
			if err = v.Get(&res); err == nil && (res.Role != ingestjob.RoleLander || res.Progress.Messages < int64(len(evs))) {
				err = errors.New("lander result: too few messages")
			}
		}
		landed <- err
	}()
	v, err := env.ExecuteActivity(a.MaterializeHour, ingestjob.HourInput{Hour: hour.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var res ingestjob.HourResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	wantDead := int64(1)
	if !time.Now().UTC().Truncate(time.Hour).Equal(hour) {
		wantDead = -1 // the dead letter may have been received in the next hour
	}
	if !res.Hour.Equal(hour) || res.Partition != ingest.PartitionName(hour) || res.Events != int64(len(evs)) ||
		(wantDead >= 0 && res.DeadLetters != wantDead) {
		t.Errorf("materialized %+v, want hour %s with %d events and 1 dead letter", res, hour, len(evs))
	}
	if err := <-landed; err != nil {
		t.Errorf("RunConsumer: %v", err)
	}
}
