-- +goose Up
-- Runs the automation workflow started: one row per (job, partition, trigger), claimed
-- before the run starts, so a trigger starts at most one run ever, across restarts of the
-- automation workflow and concurrent evaluations.
CREATE TABLE automation_runs (
    job         text        NOT NULL,
    partition   text        NOT NULL DEFAULT '',
    trigger     text        NOT NULL,
    source      text        NOT NULL, -- eager, on_cron, missing, freshness or sensor:<name>
    assets      text[]      NOT NULL DEFAULT '{}',
    workflow_id text        NOT NULL,
    input       jsonb       NOT NULL DEFAULT '{}', -- the run's input, to start it again after a failed start
    run_id      text        NOT NULL DEFAULT '', -- '' until the run started
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    closed_at   timestamptz, -- when the automation saw the run closed
    status      text        NOT NULL DEFAULT '',
    error       text        NOT NULL DEFAULT ''
);
-- One claim per trigger; hashed, so a long trigger (a sensor's file path) fits the index.
CREATE UNIQUE INDEX automation_runs_claim ON automation_runs (job, partition, md5(trigger));
CREATE INDEX automation_runs_open ON automation_runs (job, partition) WHERE closed_at IS NULL;
CREATE INDEX automation_runs_recent ON automation_runs (claimed_at DESC);

-- Cursors of time-based policies (on_cron), by name.
CREATE TABLE automation_cursors (
    name  text PRIMARY KEY,
    value timestamptz NOT NULL
);

-- Sensors: their durable cursor, and every evaluation (tick).
CREATE TABLE sensor_state (
    sensor       text PRIMARY KEY,
    cursor       text        NOT NULL DEFAULT '',
    last_tick_at timestamptz
);
CREATE TABLE sensor_ticks (
    id           bigserial PRIMARY KEY,
    sensor       text        NOT NULL,
    job          text        NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    status       text        NOT NULL, -- fired, skipped or failed
    reason       text        NOT NULL DEFAULT '',
    workflow_ids text[]      NOT NULL DEFAULT '{}'
);
CREATE INDEX sensor_ticks_recent ON sensor_ticks (sensor, at DESC);
CREATE INDEX sensor_ticks_at ON sensor_ticks (at);

-- +goose Down
DROP TABLE sensor_ticks;
DROP TABLE sensor_state;
DROP TABLE automation_cursors;
DROP TABLE automation_runs;
