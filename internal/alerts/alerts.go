// Package alerts tells people when Curio needs them: a run failed, a blocking check
// failed, an asset is overdue, dead letters spike. Each condition is an incident, keyed so
// that it opens once and resolves once; each opening and resolution is a notice sent to
// every configured webhook (Slack-compatible, or generic JSON signed with HMAC-SHA256).
//
// The package holds the vocabulary (Incident, Delivery), the webhook configuration
// (ParseWebhooks) and the sender (Send, Verify). It imports only the standard library, so
// that internal/config can parse webhooks at the edge. Detection and delivery run as
// activities (package activities/alerting); incidents and notices are kept in PostgreSQL
// (postgres.AlertStore).
package alerts

import (
	"strconv"
	"time"
)

// Incident kinds.
const (
	// KindRunFailed: a job's newest finished run failed or timed out.
	KindRunFailed = "run_failed"
	// KindCheckFailed: the latest materialization of an asset partition failed on a
	// blocking check.
	KindCheckFailed = "check_failed"
	// KindFreshnessOverdue: an asset's last success is older than its Freshness.
	KindFreshnessOverdue = "freshness_overdue"
	// KindDeadLetterSpike: too many dead letters in the last DeadLetterWindow.
	KindDeadLetterSpike = "dead_letter_spike"
)

// Kinds lists every incident kind.
func Kinds() []string {
	return []string{KindRunFailed, KindCheckFailed, KindFreshnessOverdue, KindDeadLetterSpike}
}

// DeadLetterWindow is the span over which dead letters are counted against the spike
// threshold.
const DeadLetterWindow = 10 * time.Minute

// Notice states: a notice announces that an incident opened, or that it resolved.
const (
	StateOpen     = "open"
	StateResolved = "resolved"
)

// Incident is a condition that needs attention. Key identifies it: while an incident
// with a key is open, the same condition found again is the same incident (no new
// notice); once resolved, the condition coming back is a new incident.
type Incident struct {
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	Summary string `json:"summary"`          // one line, e.g. "run failed — BuildSimilarity"
	Detail  string `json:"detail,omitempty"` // what a person needs to start looking
	URL     string `json:"url,omitempty"`    // where to look (a Temporal UI run), if anywhere
}

// RunFailedKey is the key of a job's failing-runs incident.
func RunFailedKey(job string) string { return KindRunFailed + ":" + job }

// CheckFailedKey is the key of a failed blocking check of an asset partition ("" for an
// unpartitioned asset).
func CheckFailedKey(asset, partition, check string) string {
	if partition != "" {
		asset += "/" + partition
	}
	return KindCheckFailed + ":" + asset + ":" + check
}

// FreshnessKey is the key of an overdue asset.
func FreshnessKey(asset string) string { return KindFreshnessOverdue + ":" + asset }

// DeadLetterSpikeKey is the key of the one dead-letter spike incident.
const DeadLetterSpikeKey = KindDeadLetterSpike

// Delivery is one notice of an incident to one webhook, as claimed for sending. It is an
// activity argument, so it names its webhook by Webhook.ID, never by URL (webhook URLs are
// secrets and activity arguments are kept in Temporal's history).
type Delivery struct {
	ID         int64  `json:"id"`          // the notice's row
	IncidentID int64  `json:"incident_id"` // the incident's row
	Webhook    string `json:"webhook"`     // Webhook.ID of the receiver
	State      string `json:"state"`       // StateOpen or StateResolved
	// Claim is the token of the claim this delivery was handed out under: only its holder
	// sends it.
	Claim    string `json:"claim"`
	Attempts int    `json:"attempts"` // failed attempts so far
	Incident
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// IdempotencyKey is the X-Curio-Delivery header of d: the same for every attempt at the
// same notice, so that a receiver can drop a repeat.
func (d Delivery) IdempotencyKey() string {
	return strconv.FormatInt(d.IncidentID, 10) + "-" + d.State
}

// IncidentRecord is an incident as kept, with its notices, for the API and CLI.
type IncidentRecord struct {
	ID int64 `json:"id"`
	Incident
	OpenedAt   time.Time      `json:"opened_at"`
	ResolvedAt *time.Time     `json:"resolved_at,omitempty"`
	Notices    []NoticeStatus `json:"notices"`
}

// NoticeStatus is where one notice of an incident stands.
type NoticeStatus struct {
	Webhook     string     `json:"webhook"` // Webhook.ID
	State       string     `json:"state"`   // StateOpen or StateResolved
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	GaveUpAt    *time.Time `json:"gave_up_at,omitempty"` // refused by the receiver, or too old
}
