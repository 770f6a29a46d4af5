package schedules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not enough hosts", serviceerror.NewUnavailable("Not enough hosts to serve the request"), true},
		{"not enough hosts, wrapped text", fmt.Errorf("create schedule x: %w", errors.New("Not enough hosts to serve the request")), true},
		{"unavailable", fmt.Errorf("create schedule x: %w", serviceerror.NewUnavailable("connection refused")), true},
		{"service deadline", serviceerror.NewDeadlineExceeded("context deadline exceeded"), true},
		{"context deadline", fmt.Errorf("create schedule x: %w", context.DeadlineExceeded), true},
		{"grpc unavailable", status.Error(codes.Unavailable, "no connection"), true},
		{"grpc deadline", status.Error(codes.DeadlineExceeded, "deadline"), true},
		{"resource exhausted", serviceerror.NewResourceExhausted(0, "busy"), true},
		{"canceled", fmt.Errorf("create schedule x: %w", context.Canceled), false},
		{"invalid spec", serviceerror.NewInvalidArgument("invalid cron string"), false},
		{"grpc invalid", status.Error(codes.InvalidArgument, "bad"), false},
		{"namespace not found", serviceerror.NewNamespaceNotFound("default"), false},
		{"plain", errors.New("boom"), false},
	} {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// fakeClient answers ScheduleClient().Create with errs in turn, then success.
type fakeClient struct {
	client.Client
	sc *fakeSchedules
}

func (f fakeClient) ScheduleClient() client.ScheduleClient { return f.sc }

type fakeSchedules struct {
	client.ScheduleClient
	errs    []error
	created []string
}

func (f *fakeSchedules) Create(_ context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return nil, err
		}
	}
	f.created = append(f.created, o.ID)
	return nil, nil
}

var twoSchedules = Config{Schedules: []Schedule{
	{ID: "a", Workflow: "W", Cron: "0 1 * * *"},
	{ID: "b", Workflow: "W", Cron: "0 2 * * *"},
}}

func quietRetry() RetryOptions {
	return RetryOptions{MaxElapsed: 5 * time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestApplyWithRetryRetriesTransient(t *testing.T) {
	hosts := serviceerror.NewUnavailable("Not enough hosts to serve the request")
	// a fails twice, is created, then b fails once (deadline) and is created.
	sc := &fakeSchedules{errs: []error{hosts, hosts, nil, serviceerror.NewDeadlineExceeded("deadline")}}
	res, err := ApplyWithRetry(context.Background(), fakeClient{sc: sc}, twoSchedules, "q", quietRetry())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0] != (Result{"a", "created"}) || res[1] != (Result{"b", "created"}) {
		t.Fatalf("results %+v", res)
	}
	if fmt.Sprint(sc.created) != "[a b]" {
		t.Fatalf("created %v, want each once", sc.created)
	}
}

func TestApplyWithRetryFailsAtOnceOnInvalid(t *testing.T) {
	sc := &fakeSchedules{errs: []error{serviceerror.NewInvalidArgument("invalid cron string"), nil}}
	_, err := ApplyWithRetry(context.Background(), fakeClient{sc: sc}, twoSchedules, "q", quietRetry())
	var invalid *serviceerror.InvalidArgument
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v, want the InvalidArgument", err)
	}
	if len(sc.errs) != 1 {
		t.Fatalf("retried a non-transient error")
	}
}

func TestApplyWithRetryGivesUp(t *testing.T) {
	errs := make([]error, 1000)
	for i := range errs {
		errs[i] = serviceerror.NewUnavailable("Not enough hosts to serve the request")
	}
	sc := &fakeSchedules{errs: errs}
	opts := quietRetry()
	opts.MaxElapsed = 50 * time.Millisecond
	start := time.Now()
	_, err := ApplyWithRetry(context.Background(), fakeClient{sc: sc}, twoSchedules, "q", opts)
	if err == nil || !IsTransient(err) {
		t.Fatalf("err = %v, want the last transient error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("gave up after %v, bound was 50ms", d)
	}
	if len(sc.errs) == len(errs) || len(sc.errs) == len(errs)-1 {
		t.Fatalf("no retries: %d calls", len(errs)-len(sc.errs))
	}
}
