package devstack

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
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// ErrTypeWorkerStopped is the failure type of an activity cut short because its worker
// stopped (Ctrl-C on `curio dev`). It is retryable: Temporal runs the activity again once a
// worker polls the task queue.
const ErrTypeWorkerStopped = "WorkerStopped"

// drain makes the workers' stop clean and quiet. It is a Temporal client interceptor that
// is also a worker interceptor, so the workers built from the stack's client use it, and
// it watches the client's gRPC calls:
//
//   - An activity its worker cuts short at the end of the grace (its context cancelled
//     because the worker stops) fails with a benign, retryable ErrTypeWorkerStopped error,
//     logged once at info, instead of the SDK's "Activity error." at error level.
//   - It keeps the task token of every activity from the moment it runs until its result
//     (completed, failed or cancelled) has reached Temporal. A worker whose grace ran out
//     cancels its last activities and returns from Stop without waiting for their reports;
//     wait lets those reports through before the client closes, so Temporal retries the
//     activities at once on the next start rather than after their timeouts.
type drain struct {
	interceptor.InterceptorBase
	logger *slog.Logger

	// stopping is set when Close begins; it quiets the client's logger (quietHandler).
	stopping atomic.Bool

	mu       sync.Mutex
	inflight map[string]struct{} // task tokens of activities running or not yet reported
}

func newDrain(logger *slog.Logger) *drain {
	return &drain{logger: logger, inflight: map[string]struct{}{}}
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (d *drain) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &drainActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, d: d}
}

type drainActivity struct {
	interceptor.ActivityInboundInterceptorBase
	d *drain
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

func (d *drain) add(token string) {
	if token == "" {
		return
	}
	d.mu.Lock()
	d.inflight[token] = struct{}{}
	d.mu.Unlock()
}

func (d *drain) done(token string) {
	d.mu.Lock()
	delete(d.inflight, token)
	d.mu.Unlock()
}

func (d *drain) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.inflight)
}

// respondActivity prefixes the gRPC methods that report an activity's result by task token.
const respondActivity = "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTask"

// unary is a gRPC client interceptor of the stack's Temporal connection: it notes the
// activity results that have reached Temporal. It is the innermost interceptor, so it sees
// each attempt; one that failed as unavailable will be retried.
func (d *drain) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if strings.HasPrefix(method, respondActivity) && serviceerror.ToStatus(err).Code() != codes.Unavailable {
		if r, ok := req.(interface{ GetTaskToken() []byte }); ok {
			d.done(string(r.GetTaskToken()))
		}
	}
	return err
}

// wait waits up to timeout until every activity that ran has reported its result, and
// returns how many have not.
func (d *drain) wait(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := d.pending()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quietHandler is the handler of the Temporal client's logger (the SDK logs through it,
// workers included). It logs like the handler it wraps, except that once the stack is
// stopping, warnings and errors about a cancelled context are logged at debug level: a
// heartbeat or a call of an activity cut short by the stop fails with "context canceled",
// which the SDK reports as a warning.
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
