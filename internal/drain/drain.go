// Package drain makes a Temporal worker's stop clean and quiet, for `curio dev`
// (internal/devstack) and `curio worker` alike.
//
// A Drain is a Temporal client interceptor that is also a worker interceptor, so the
// workers built from a client dialled with it use it, and it watches the client's gRPC
// calls:
//
//   - An activity its worker cuts short at the end of the grace (its context cancelled
//     because the worker stops) fails with a benign, retryable ErrTypeWorkerStopped error,
//     logged once at info, instead of the SDK's "Activity error." at error level.
//   - It keeps the task token of every activity from the moment it runs until its result
//     (completed, failed or cancelled) has reached Temporal. A worker whose grace ran out
//     cancels its last activities and returns from Stop without waiting for their reports;
//     Wait lets those reports through before the client closes, so Temporal retries the
//     activities at once on another worker rather than after their timeouts.
//   - Once Stopping is called, the client's logger (ClientOptions) logs the warnings and
//     errors about a cancelled context that the stop causes at debug level.
//
// The stop of a process that runs workers is then:
//
//	d.Stopping()
//	w.Stop() // drains in-flight activities for up to the grace, then cancels them
//	d.Wait(ctx, min(drain.ReportWait, grace))
//	c.Close()
package drain

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// ErrTypeWorkerStopped is the failure type of an activity cut short because its worker
// stopped. It is retryable: Temporal runs the activity again once a worker polls the task
// queue.
const ErrTypeWorkerStopped = "WorkerStopped"

// ReportWait bounds how long a stopping process waits, after its workers have stopped, for
// the results of the activities they cancelled at the end of the grace to reach Temporal
// (no longer than the grace itself either).
const ReportWait = 5 * time.Second

// Drain is the clean stop of the workers of one Temporal client. See the package comment.
type Drain struct {
	interceptor.InterceptorBase
	logger *slog.Logger

	// stopping is set by Stopping; it quiets the client's logger (quietHandler).
	stopping atomic.Bool

	mu       sync.Mutex
	inflight map[string]struct{} // task tokens of activities running or not yet reported
}

// New returns a Drain that logs the activities cut by a stop to logger.
func New(logger *slog.Logger) *Drain {
	return &Drain{logger: logger, inflight: map[string]struct{}{}}
}

// ClientOptions returns o with the drain added: its client and worker interceptor, its
// gRPC interceptor (which sees the activities' results reach Temporal), and logger as the
// client's logger, quieted once the drain is stopping. Workers built from a client dialled
// with these options use the drain.
func (d *Drain) ClientOptions(o client.Options, logger *slog.Logger) client.Options {
	o.Logger = sdklog.NewStructuredLogger(slog.New(d.Handler(logger.Handler())))
	o.Interceptors = append(append([]interceptor.ClientInterceptor(nil), o.Interceptors...), d.ClientInterceptor())
	o.ConnectionOptions.DialOptions = append(append([]grpc.DialOption(nil), o.ConnectionOptions.DialOptions...),
		grpc.WithChainUnaryInterceptor(d.UnaryInterceptor()))
	return o
}

// ClientInterceptor returns the drain as a Temporal client interceptor. It is also a worker
// interceptor, which the SDK applies to the workers built from the client.
func (d *Drain) ClientInterceptor() interceptor.ClientInterceptor { return d }

// WorkerInterceptor returns the drain as a worker interceptor, for a worker built from a
// client without it (the client must still have UnaryInterceptor for Wait to see results).
func (d *Drain) WorkerInterceptor() interceptor.WorkerInterceptor { return d }

// UnaryInterceptor returns the gRPC client interceptor of the client's connection that
// notes the activity results that have reached Temporal. It must be the innermost
// interceptor, so it sees each attempt; one that failed as unavailable will be retried.
func (d *Drain) UnaryInterceptor() grpc.UnaryClientInterceptor { return d.unary }

// Stopping marks the start of the stop: from now on the client's logger logs warnings and
// errors about a cancelled context at debug level.
func (d *Drain) Stopping() { d.stopping.Store(true) }

// Wait waits up to limit, or until ctx ends, until every activity that ran has reported its
// result to Temporal, and returns how many have not.
func (d *Drain) Wait(ctx context.Context, limit time.Duration) int {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n := d.pending()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-deadline.C:
			return d.pending()
		case <-tick.C:
		}
	}
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (d *Drain) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &drainActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, d: d}
}

type drainActivity struct {
	interceptor.ActivityInboundInterceptorBase
	d *Drain
}

func (a *drainActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	token := string(info.TaskToken) // empty for local activities, which report nothing
	a.d.add(token)
	res, err := a.Next.ExecuteActivity(ctx, in)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, activity.ErrResultPending) {
		a.d.done(token) // the SDK reports nothing for these
	}
	if err != nil && cutByStop(ctx, err) {
		a.d.logger.Info("activity stopped with its worker; Temporal runs it again when a worker is back",
			"activity", info.ActivityType.Name, "workflow_id", info.WorkflowExecution.ID, "attempt", info.Attempt, "err", err)
		err = temporal.NewApplicationErrorWithOptions("stopped with its worker: "+err.Error(), ErrTypeWorkerStopped,
			temporal.ApplicationErrorOptions{Cause: err, Category: temporal.ApplicationErrorCategoryBenign})
	}
	return res, err
}

// cutByStop reports whether an activity's err comes from its worker stopping: the worker's
// stop channel is closed and the activity's context was cancelled (or it gave up on a
// cancellation of its own, as RunConsumer does when the worker stops). A cancellation
// Temporal asked for (the workflow cancelled the activity) is left as it is.
func cutByStop(ctx context.Context, err error) bool {
	select {
	case <-activity.GetWorkerStopChannel(ctx):
	default:
		return false
	}
	if temporal.IsCanceledError(context.Cause(ctx)) {
		return false
	}
	return ctx.Err() != nil || errors.Is(err, context.Canceled)
}

func (d *Drain) add(token string) {
	if token == "" {
		return
	}
	d.mu.Lock()
	d.inflight[token] = struct{}{}
	d.mu.Unlock()
}

func (d *Drain) done(token string) {
	d.mu.Lock()
	delete(d.inflight, token)
	d.mu.Unlock()
}

func (d *Drain) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.inflight)
}

// respondActivity prefixes the gRPC methods that report an activity's result by task token.
const respondActivity = "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTask"

// unary is UnaryInterceptor.
func (d *Drain) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if strings.HasPrefix(method, respondActivity) && serviceerror.ToStatus(err).Code() != codes.Unavailable {
		if r, ok := req.(interface{ GetTaskToken() []byte }); ok {
			d.done(string(r.GetTaskToken()))
		}
	}
	return err
}

// Handler returns the handler for the Temporal client's logger (the SDK logs through it,
// workers included): it logs like h, except that once the drain is stopping, warnings and
// errors about a cancelled context are logged at debug level. A heartbeat or a call of an
// activity cut short by the stop fails with "context canceled", which the SDK reports as a
// warning.
func (d *Drain) Handler(h slog.Handler) slog.Handler {
	return quietHandler{Handler: h, stopping: &d.stopping}
}

// quietHandler is Handler.
type quietHandler struct {
	slog.Handler
	stopping *atomic.Bool
}

// Handle implements slog.Handler.
func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && h.stopping.Load() && cancelled(r) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{Handler: h.Handler.WithAttrs(attrs), stopping: h.stopping}
}

// WithGroup implements slog.Handler.
func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{Handler: h.Handler.WithGroup(name), stopping: h.stopping}
}

// cancelled reports whether r carries an error saying a context was cancelled or the
// worker shut down.
func cancelled(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok {
			found = errors.Is(err, context.Canceled) || errors.Is(err, sdkworker.ErrWorkerShutdown) ||
				serviceerror.ToStatus(err).Code() == codes.Canceled
		}
		return !found
	})
	return found
}
