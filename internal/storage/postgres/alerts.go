package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/curiodata/curio/internal/alerts"
)

// AlertStore keeps alert incidents and their notices (alert_incidents,
// alert_deliveries; package internal/alerts), and reads the dead-letter counts the
// dead-letter spike alert needs from dead_letters, which internal/ingest's lander owns.
//
// Every method is idempotent and safe under concurrent callers: an incident opens once per
// key, a notice is created once per (incident, webhook, state), and a pending notice is
// handed to one claimer at a time.
type AlertStore struct {
	pool *pgxpool.Pool
}

// Alerts returns the store of alert incidents and notices.
func (s *Store) Alerts() *AlertStore { return &AlertStore{pool: s.pool} }

// maxAlertError bounds the last error kept with a notice.
const maxAlertError = 1000

// AlertSyncResult is what one Sync changed.
type AlertSyncResult struct {
	Opened   int `json:"opened"`
	Resolved int `json:"resolved"`
}

// Sync makes the open incidents of kind those of open (keys of other kinds are refused):
// an incident whose key is not open yet opens at now, with an "open" notice for each of
// webhooks (alerts.Webhook.ID); an open incident of kind whose key is not in open
// resolves at now, with a "resolved" notice for each webhook it had an "open" notice for.
// Every open incident of kind also gets an "open" notice for each webhook that has none
// yet, so a webhook added to the configuration hears of what is open. An open incident
// keeps its first summary and detail. Concurrent Syncs of one kind take turns.
func (s *AlertStore) Sync(ctx context.Context, kind string, open []alerts.Incident, webhooks []string, now time.Time) (AlertSyncResult, error) {
	var res AlertSyncResult
	keys := make([]string, 0, len(open)) // never nil: pgx sends a nil slice as NULL
	var summaries, details, urls []string
	seen := map[string]bool{}
	for _, in := range open {
		if in.Kind != kind || in.Key == "" {
			return res, fmt.Errorf("alerts sync %s: incident %q of kind %q", kind, in.Key, in.Kind)
		}
		if seen[in.Key] {
			continue
		}
		seen[in.Key] = true
		keys = append(keys, in.Key)
		summaries = append(summaries, in.Summary)
		details = append(details, in.Detail)
		urls = append(urls, in.URL)
	}
	if webhooks == nil {
		webhooks = []string{}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('curio.alerts'), hashtext($1))`, kind); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE alert_incidents SET resolved_at = greatest(opened_at, $3)
			WHERE kind = $1 AND resolved_at IS NULL AND NOT (key = ANY($2)) RETURNING id`, kind, keys, now)
		if err != nil {
			return err
		}
		resolved, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		res.Resolved = len(resolved)
		if _, err := tx.Exec(ctx, `INSERT INTO alert_deliveries (incident_id, webhook, state, created_at)
			SELECT incident_id, webhook, 'resolved', $2 FROM alert_deliveries WHERE incident_id = ANY($1) AND state = 'open'
			ORDER BY id
			ON CONFLICT (incident_id, webhook, state) DO NOTHING`, resolved, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO alert_incidents (key, kind, summary, detail, url, opened_at)
			SELECT k, $1, s, d, u, $6 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(k, s, d, u)
			ON CONFLICT (key) WHERE resolved_at IS NULL DO NOTHING`, kind, keys, summaries, details, urls, now)
		if err != nil {
			return err
		}
		res.Opened = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `INSERT INTO alert_deliveries (incident_id, webhook, state, created_at)
			SELECT i.id, w.w, 'open', $3 FROM alert_incidents i CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS w(w, n)
			WHERE i.kind = $1 AND i.resolved_at IS NULL
			ORDER BY i.id, w.n
			ON CONFLICT (incident_id, webhook, state) DO NOTHING`, kind, webhooks, now)
		return err
	})
	if err != nil {
		return AlertSyncResult{}, fmt.Errorf("alerts sync %s: %w", kind, err)
	}
	return res, nil
}

// AlertClaim selects the notices Claim hands out.
type AlertClaim struct {
	Webhooks []string // only notices to these webhooks (alerts.Webhook.ID)
	Limit    int      // at most this many; 0: 100
	// Lease is how long a claim holds: a notice claimed earlier than Now-Lease and still
	// pending may be claimed again.
	Lease time.Duration
	// MaxAge: notices created earlier than Now-MaxAge are no longer sent (given up when
	// met); 0: no limit.
	MaxAge time.Duration
	Now    time.Time
}

// Claim hands out pending notices: not delivered, not given up, and not claimed within
// the lease, oldest first, marked claimed at c.Now under a new claim token
// (alerts.Delivery.Claim). A "resolved" notice waits until the "open" notice of its
// incident to the same webhook is delivered or given up, so receivers hear of an
// incident's opening first. Concurrent claimers get disjoint notices.
func (s *AlertStore) Claim(ctx context.Context, c AlertClaim) ([]alerts.Delivery, error) {
	if c.Limit <= 0 {
		c.Limit = 100
	}
	if len(c.Webhooks) == 0 {
		return nil, nil
	}
	if c.MaxAge > 0 {
		if _, err := s.pool.Exec(ctx, `UPDATE alert_deliveries SET gave_up_at = $1,
				last_error = left(CASE WHEN last_error = '' THEN '' ELSE last_error || '; ' END || 'not delivered in time: gave up', $3)
			WHERE delivered_at IS NULL AND gave_up_at IS NULL AND created_at < $2`,
			c.Now, c.Now.Add(-c.MaxAge), maxAlertError); err != nil {
			return nil, fmt.Errorf("alerts claim: expire: %w", err)
		}
	}
	token, err := newClaimToken()
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `WITH c AS (
			UPDATE alert_deliveries d SET claimed_at = $1, claim = $2
			WHERE d.id IN (
				SELECT p.id FROM alert_deliveries p
				WHERE p.delivered_at IS NULL AND p.gave_up_at IS NULL AND p.webhook = ANY($3)
					AND (p.claimed_at IS NULL OR p.claimed_at <= $4)
					AND (p.state = 'open' OR NOT EXISTS (SELECT 1 FROM alert_deliveries o
						WHERE o.incident_id = p.incident_id AND o.webhook = p.webhook AND o.state = 'open'
							AND o.delivered_at IS NULL AND o.gave_up_at IS NULL))
				ORDER BY p.id LIMIT $5
				FOR UPDATE SKIP LOCKED)
			RETURNING d.id, d.incident_id, d.webhook, d.state, d.claim, d.attempts)
		SELECT c.id, c.incident_id, c.webhook, c.state, c.claim, c.attempts,
			i.key, i.kind, i.summary, i.detail, i.url, i.opened_at, i.resolved_at
		FROM c JOIN alert_incidents i ON i.id = c.incident_id ORDER BY c.id`,
		c.Now, token, c.Webhooks, c.Now.Add(-c.Lease), c.Limit)
	if err != nil {
		return nil, fmt.Errorf("alerts claim: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alerts.Delivery, error) {
		var d alerts.Delivery
		err := r.Scan(&d.ID, &d.IncidentID, &d.Webhook, &d.State, &d.Claim, &d.Attempts,
			&d.Key, &d.Kind, &d.Summary, &d.Detail, &d.URL, &d.OpenedAt, &d.ResolvedAt)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("alerts claim: %w", err)
	}
	return out, nil
}

func newClaimToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("alerts claim token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Begin renews the claim on notice id just before it is sent: it reports false, and the
// notice must not be sent, when the claim is no longer held (claimed again by another
// caller after the lease) or the notice is delivered or given up already.
func (s *AlertStore) Begin(ctx context.Context, id int64, claim string, now time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE alert_deliveries SET claimed_at = $3
		WHERE id = $1 AND claim = $2 AND delivered_at IS NULL AND gave_up_at IS NULL`, id, claim, now)
	if err != nil {
		return false, fmt.Errorf("alert notice %d: begin: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Delivered records that notice id was accepted by its receiver: it is never sent again.
func (s *AlertStore) Delivered(ctx context.Context, id int64, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE alert_deliveries SET delivered_at = $2, attempts = attempts + 1, last_error = ''
		WHERE id = $1 AND delivered_at IS NULL`, id, now); err != nil {
		return fmt.Errorf("alert notice %d: delivered: %w", id, err)
	}
	return nil
}

// Failed records a failed attempt at notice id. The claim stays (renewed at now when
// claim still holds it): the sender retries it, and when it stops, the notice is claimed
// again once the lease has passed.
func (s *AlertStore) Failed(ctx context.Context, id int64, claim, why string, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE alert_deliveries SET attempts = attempts + 1, last_error = left($3, $5),
			claimed_at = CASE WHEN claim = $2 THEN $4 ELSE claimed_at END
		WHERE id = $1 AND delivered_at IS NULL`, id, claim, why, now, maxAlertError); err != nil {
		return fmt.Errorf("alert notice %d: failed: %w", id, err)
	}
	return nil
}

// GiveUp records that the receiver refused notice id (why): it is not sent again.
func (s *AlertStore) GiveUp(ctx context.Context, id int64, why string, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE alert_deliveries SET attempts = attempts + 1, last_error = left($2, $4), gave_up_at = $3
		WHERE id = $1 AND delivered_at IS NULL AND gave_up_at IS NULL`, id, why, now, maxAlertError); err != nil {
		return fmt.Errorf("alert notice %d: give up: %w", id, err)
	}
	return nil
}

// OpenIncidents lists the open incidents, newest first, with their notices.
func (s *AlertStore) OpenIncidents(ctx context.Context) ([]alerts.IncidentRecord, error) {
	return s.incidents(ctx, `WHERE i.resolved_at IS NULL`, -1)
}

// RecentIncidents lists the limit most recently opened incidents, open or resolved,
// newest first, with their notices.
func (s *AlertStore) RecentIncidents(ctx context.Context, limit int) ([]alerts.IncidentRecord, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.incidents(ctx, ``, limit)
}

func (s *AlertStore) incidents(ctx context.Context, where string, limit int) ([]alerts.IncidentRecord, error) {
	var lim any // NULL: no limit
	if limit >= 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `SELECT i.id, i.key, i.kind, i.summary, i.detail, i.url, i.opened_at, i.resolved_at,
			coalesce((SELECT json_agg(json_build_object('webhook', d.webhook, 'state', d.state, 'attempts', d.attempts,
					'last_error', d.last_error, 'delivered_at', d.delivered_at, 'gave_up_at', d.gave_up_at) ORDER BY d.id)
				FROM alert_deliveries d WHERE d.incident_id = i.id), '[]')
		FROM alert_incidents i `+where+` ORDER BY i.opened_at DESC, i.id DESC LIMIT $1`, lim)
	if err != nil {
		return nil, fmt.Errorf("alert incidents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alerts.IncidentRecord, error) {
		var rec alerts.IncidentRecord
		var notices []byte
		if err := r.Scan(&rec.ID, &rec.Key, &rec.Kind, &rec.Summary, &rec.Detail, &rec.URL, &rec.OpenedAt, &rec.ResolvedAt, &notices); err != nil {
			return rec, err
		}
		rec.Notices = []alerts.NoticeStatus{}
		return rec, json.Unmarshal(notices, &rec.Notices)
	})
	if err != nil {
		return nil, fmt.Errorf("alert incidents: %w", err)
	}
	return out, nil
}

// DeadLetterCount is how many messages were dead-lettered for one reason.
type DeadLetterCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// DeadLettersSince counts the dead letters received after since, by reason, most
// frequent first.
func (s *AlertStore) DeadLettersSince(ctx context.Context, since time.Time) ([]DeadLetterCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT reason, count(*) FROM dead_letters WHERE received_at > $1
		GROUP BY reason ORDER BY 2 DESC, 1`, since)
	if err != nil {
		return nil, fmt.Errorf("dead letters since %s: %w", since.Format(time.RFC3339), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DeadLetterCount])
	if err != nil {
		return nil, fmt.Errorf("dead letters since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
}
