-- +goose Up
-- Alert incidents (package internal/alerts): a condition found by the alert evaluation.
-- At most one incident per key is open (resolved_at IS NULL); the condition coming back
-- after it resolved is a new incident, with a new id.
CREATE TABLE alert_incidents (
    id          bigserial PRIMARY KEY,
    key         text        NOT NULL,
    kind        text        NOT NULL,
    summary     text        NOT NULL,
    detail      text        NOT NULL DEFAULT '',
    url         text        NOT NULL DEFAULT '',
    opened_at   timestamptz NOT NULL,
    resolved_at timestamptz
);
CREATE UNIQUE INDEX alert_incidents_open_key ON alert_incidents (key) WHERE resolved_at IS NULL;
CREATE INDEX alert_incidents_recent ON alert_incidents (opened_at DESC, id DESC);

-- Notices of incidents to webhooks: one per (incident, webhook, state), so an incident is
-- announced once and its resolution once to each receiver. webhook is alerts.Webhook.ID
-- (a hash: the URL is a secret and is not stored). A notice is pending until delivered
-- or given up; claim/claimed_at hand it to one sender at a time.
CREATE TABLE alert_deliveries (
    id           bigserial PRIMARY KEY,
    incident_id  bigint      NOT NULL REFERENCES alert_incidents (id) ON DELETE CASCADE,
    webhook      text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('open', 'resolved')),
    created_at   timestamptz NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    claim        text        NOT NULL DEFAULT '',
    claimed_at   timestamptz,
    delivered_at timestamptz,
    gave_up_at   timestamptz,
    UNIQUE (incident_id, webhook, state)
);
CREATE INDEX alert_deliveries_pending ON alert_deliveries (id) WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- The dead-letter spike alert counts the last minutes' dead letters on every evaluation.
CREATE INDEX dead_letters_received_at ON dead_letters (received_at);

-- +goose Down
DROP INDEX dead_letters_received_at;
DROP TABLE alert_deliveries;
DROP TABLE alert_incidents;
