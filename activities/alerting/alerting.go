// Package alerting holds the activities of Curio's alerts (package internal/alerts):
// EvaluateAlerts finds what needs attention and claims the notices to send, and
// DeliverAlert sends one notice to one webhook. The automation workflow calls them every
// tick: EvaluateAlerts once, then DeliverAlert once per returned delivery, with
// DeliveryActivityOptions (Temporal retries with backoff).
//
// Exactly one accepted delivery per notice: a notice is claimed under a token for
// ClaimLease; DeliverAlert renews the claim just before each attempt and sends nothing
// when the token no longer holds it or the notice is already delivered; the first 2xx
// marks it delivered. A later tick claims a notice again only once its lease has passed
// without an attempt (the workflow gave up on it, or the worker died), so a retrying
// DeliverAlert and a later tick never both send it. Should PostgreSQL fail between a
// receiver's 2xx and the record of it, the notice is sent again: every request carries
// X-Curio-Delivery, the same on every attempt, for receivers that must drop repeats.
package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/curiodata/curio/internal/alerts"
	"github.com/curiodata/curio/internal/assets"
	"github.com/curiodata/curio/internal/storage/postgres"
	"github.com/curiodata/curio/pipeline"
)

// Activities evaluate and deliver alerts. One per worker; the activities are safe for
// concurrent use.
type Activities struct {
	Alerts *postgres.AlertStore
	// Assets are the recorded materializations (*postgres.Store).
	Assets assets.Store
	Defs   *pipeline.Definitions
	// Runs lists finished runs (Temporal visibility); nil: no run_failed alerts (and the
	// open ones are left as they are).
	Runs pipeline.RunLister
	// SkipJobs are jobs never alerted on, besides the Internal ones.
	SkipJobs []string
	// Webhooks receive the notices (config.AlertWebhooks); none: incidents are only
	// tracked (for the API and web app), nothing is sent.
	Webhooks []alerts.Webhook
	// Secret signs generic notices (config.AlertHMACSecret); empty: unsigned.
	Secret []byte
	// DeadLetterSpike is the dead letters per alerts.DeadLetterWindow that open a
	// dead-letter incident (config.AlertDeadLetterSpike); 0: no such alert.
	DeadLetterSpike int
	// TemporalUIURL and Namespace, when set, link run and check incidents to the run in
	// the Temporal UI.
	TemporalUIURL string
	Namespace     string
	HTTP          *http.Client // nil: a plain client (Send bounds each attempt)
	Logger        *slog.Logger // nil: slog.Default()
}

// Tunables of evaluation and delivery.
const (
	// ClaimLease is how long a claimed notice is left to its DeliverAlert before a later
	// tick claims it again. It must exceed one delivery attempt (alerts.Timeout plus two
	// database writes) by far.
	ClaimLease = 15 * time.Minute
	// NoticeMaxAge: a notice not delivered within a day is given up (recorded with its
	// last error); a receiver back after that hears of what is open then, not of the past.
	NoticeMaxAge = 24 * time.Hour
	// MaxDeliveriesPerTick caps the notices one evaluation claims.
	MaxDeliveriesPerTick = 50
	// RunLookback is how far back run_failed looks for a job's last finished run.
	RunLookback = 7 * 24 * time.Hour
)

// Error types of DeliverAlert's errors (temporal.ApplicationError.Type).
const (
	// ErrDeliveryFailed: the receiver was unreachable or answered 408, 429 or 5xx;
	// retried.
	ErrDeliveryFailed = "AlertDeliveryFailed"
	// ErrDeliveryRejected: the receiver refused the notice (another 4xx); not retried,
	// the notice is given up.
	ErrDeliveryRejected = "AlertDeliveryRejected"
	// ErrUnknownWebhook: the notice is for a webhook this worker does not have; not
	// retried now, claimed again after the lease (by a worker that has it).
	ErrUnknownWebhook = "AlertUnknownWebhook"
)

// DeliveryRetryPolicy is the retry policy for DeliverAlert: 1 s, doubling, at most a
// minute apart, 10 attempts (about 6 minutes). Past it, the notice waits for its lease to
// pass and a later tick claims it again.
func DeliveryRetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		MaximumAttempts: 10, NonRetryableErrorTypes: []string{ErrDeliveryRejected, ErrUnknownWebhook}}
}

// recordTimeout bounds recording a delivery's outcome.
const recordTimeout = 5 * time.Second

// DeliveryStartToClose bounds one DeliverAlert attempt: the send (alerts.Timeout) and two
// database writes.
const DeliveryStartToClose = 30 * time.Second

// DeliveryActivityOptions are the activity options for DeliverAlert.
func DeliveryActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{StartToCloseTimeout: DeliveryStartToClose, ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy: DeliveryRetryPolicy()}
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

func (a *Activities) webhookIDs() []string {
	ids := make([]string, len(a.Webhooks))
	for i, w := range a.Webhooks {
		ids[i] = w.ID()
	}
	return ids
}

// EvaluateAlertsInput is one evaluation; `{}` evaluates at the current time.
type EvaluateAlertsInput struct {
	Now time.Time `json:"now,omitempty"`
}

// EvaluateAlerts finds the incidents open now, kind by kind (run_failed, check_failed,
// freshness_overdue, dead_letter_spike), records which opened and resolved, and claims
// the notices to send (at most MaxDeliveriesPerTick): the caller runs DeliverAlert on
// each. A kind whose detection fails is left as it was (logged), so a failing source
// never resolves incidents; the evaluation fails only when every kind does, or the store
// does. With no webhooks configured it tracks incidents and returns no deliveries.
func (a *Activities) EvaluateAlerts(ctx context.Context, in EvaluateAlertsInput) ([]alerts.Delivery, error) {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	log := a.logger()
	ids := a.webhookIDs()
	detectors := a.detectors()
	var failed []error
	for _, d := range detectors {
		open, err := d.find(ctx, now)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", d.kind, err))
			log.Error("alert detection failed; its incidents are left as they are", "kind", d.kind, "err", err)
			continue
		}
		res, err := a.Alerts.Sync(ctx, d.kind, open, ids, now)
		if err != nil {
			return nil, err
		}
		if res.Opened > 0 || res.Resolved > 0 {
			log.Info("alert incidents changed", "kind", d.kind, "opened", res.Opened, "resolved", res.Resolved, "open", len(open))
		}
	}
	if len(failed) == len(detectors) && len(failed) > 0 {
		return nil, fmt.Errorf("alert evaluation: %w", errors.Join(failed...))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return a.Alerts.Claim(ctx, postgres.AlertClaim{Webhooks: ids, Limit: MaxDeliveriesPerTick, Lease: ClaimLease,
		MaxAge: NoticeMaxAge, Now: now})
}

// DeliverAlert sends one claimed notice (from EvaluateAlerts) to its webhook. It sends
// nothing, successfully, when the notice is delivered already or claimed again by a later
// tick. A receiver that is unreachable or answers 408, 429 or 5xx gives an
// ErrDeliveryFailed error (retried, after Retry-After when the receiver sent one); any
// other refusal gives up the notice with a non-retryable ErrDeliveryRejected error.
func (a *Activities) DeliverAlert(ctx context.Context, d alerts.Delivery) error {
	log := a.logger().With("notice", d.ID, "incident", d.IncidentID, "key", d.Key, "state", d.State, "webhook", d.Webhook)
	if activity.IsActivity(ctx) {
		log = log.With("attempt", activity.GetInfo(ctx).Attempt)
	}
	var wh alerts.Webhook
	found := false
	for _, w := range a.Webhooks {
		if w.ID() == d.Webhook {
			wh, found = w, true
			break
		}
	}
	if !found {
		msg := fmt.Sprintf("webhook %s is not configured on this worker", d.Webhook)
		if err := a.Alerts.Failed(ctx, d.ID, d.Claim, msg, time.Now()); err != nil {
			log.Warn("alert notice: recording the failure failed", "err", err)
		}
		log.Error("alert not delivered", "err", msg)
		return temporal.NewNonRetryableApplicationError(msg, ErrUnknownWebhook, nil)
	}
	log = log.With("receiver", wh) // redacted: kind, scheme and host
	held, err := a.Alerts.Begin(ctx, d.ID, d.Claim, time.Now())
	if err != nil {
		return err
	}
	if !held {
		log.Info("alert notice already delivered, given up or claimed again: not sent")
		return nil
	}
	err = alerts.Send(ctx, a.HTTP, wh, a.Secret, d)
	// What happened is recorded even when the activity's context ends now: a send not
	// recorded as delivered would be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err == nil {
		if err := a.Alerts.Delivered(rctx, d.ID, time.Now()); err != nil {
			// Sent but not recorded: the retry sends it again (same X-Curio-Delivery).
			return fmt.Errorf("alert notice %d sent, but not recorded: %w", d.ID, err)
		}
		log.Info("alert delivered")
		return nil
	}
	if alerts.Retryable(err) {
		if ferr := a.Alerts.Failed(rctx, d.ID, d.Claim, err.Error(), time.Now()); ferr != nil {
			log.Warn("alert notice: recording the failure failed", "err", ferr)
		}
		log.Warn("alert delivery failed; retrying", "err", err)
		// Benign: the warning above says it once; the SDK need not log each retry as an ERROR.
		opts := temporal.ApplicationErrorOptions{Cause: err, Category: temporal.ApplicationErrorCategoryBenign}
		var se *alerts.SendError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			opts.NextRetryDelay = min(se.RetryAfter, 5*time.Minute) // well within ClaimLease
		}
		return temporal.NewApplicationErrorWithOptions("alert delivery failed", ErrDeliveryFailed, opts)
	}
	if gerr := a.Alerts.GiveUp(rctx, d.ID, err.Error(), time.Now()); gerr != nil {
		log.Warn("alert notice: recording the refusal failed", "err", gerr)
	}
	log.Error("alert refused by its receiver; given up", "err", err)
	return temporal.NewNonRetryableApplicationError("alert refused by its receiver", ErrDeliveryRejected, err)
}
