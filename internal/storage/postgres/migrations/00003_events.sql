-- +goose Up
-- Landed user-activity events, one partition per hour of event time (created on demand by
-- the lander). Kafka coordinates are kept for audit and replay.
CREATE TABLE raw_events (
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    user_id     text        NOT NULL,
    ts          timestamptz NOT NULL,
    session_id  text,
    item_id     text,
    item_type   text,
    country     text,
    query       text,
    category    text,
    amount      double precision,
    source_item text,
    target_item text,
    topic       text        NOT NULL,
    kpartition  integer     NOT NULL,
    koffset     bigint      NOT NULL,
    landed_at   timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (ts);
CREATE INDEX raw_events_ts ON raw_events (ts);
CREATE INDEX raw_events_item ON raw_events (item_id, ts);

-- Consumer progress, written in the same transaction as the rows it covers: the next
-- offset to read per (consumer, topic, partition). Restarts resume here: exactly once.
CREATE TABLE consumer_offsets (
    consumer    text        NOT NULL,
    topic       text        NOT NULL,
    kpartition  integer     NOT NULL,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, kpartition)
);

-- Messages that are not valid events, with the reason; unique per message so a replayed
-- batch does not add them twice.
CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    consumer    text        NOT NULL,
    topic       text        NOT NULL,
    kpartition  integer     NOT NULL,
    koffset     bigint      NOT NULL,
    reason      text        NOT NULL,
    detail      text        NOT NULL,
    payload     bytea,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, topic, kpartition, koffset)
);

-- Speed line: counts per 5-second window of event time, item and event type.
CREATE TABLE popularity_windows (
    window_start timestamptz NOT NULL,
    item_id      text        NOT NULL,
    event_type   text        NOT NULL,
    count        bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (window_start, item_id, event_type)
);
CREATE INDEX popularity_windows_item ON popularity_windows (item_id, window_start);

-- Upload counts by country, kept by the stream processor for the map.
CREATE TABLE upload_countries (
    country text   PRIMARY KEY,
    count   bigint NOT NULL
);

-- Stream processor counters (events seen, late events), per consumer and partition.
CREATE TABLE stream_stats (
    consumer   text    NOT NULL,
    kpartition integer NOT NULL,
    events     bigint  NOT NULL DEFAULT 0,
    late       bigint  NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, kpartition)
);

-- Hour partitions of raw_events recorded as materialized assets by LandEvents.
CREATE TABLE event_partitions (
    hour            timestamptz PRIMARY KEY,
    status          text        NOT NULL,
    events          bigint      NOT NULL DEFAULT 0,
    dead_letters    bigint      NOT NULL DEFAULT 0,
    workflow_id     text        NOT NULL DEFAULT '',
    materialized_at timestamptz
);

-- +goose Down
DROP TABLE event_partitions;
DROP TABLE stream_stats;
DROP TABLE upload_countries;
DROP TABLE popularity_windows;
DROP TABLE dead_letters;
DROP TABLE consumer_offsets;
DROP TABLE raw_events;
