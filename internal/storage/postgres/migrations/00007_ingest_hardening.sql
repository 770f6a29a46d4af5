-- +goose Up
-- Event ids each consumer has consumed, so a repeated event_id (a producer retry after a
-- lost ack) lands and counts once. Written in the batch's transaction, with the offsets.
-- Rows older than the consumer's maximum event age are pruned: older events are refused
-- by validation anyway, so the table bounds itself to that horizon.
CREATE TABLE consumed_events (
    consumer text        NOT NULL,
    event_id text        NOT NULL,
    ts       timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX consumed_events_ts ON consumed_events (consumer, ts);

-- The size of a dead letter's message: payload keeps at most the first 64 KiB.
ALTER TABLE dead_letters ADD COLUMN payload_size integer;

-- +goose Down
ALTER TABLE dead_letters DROP COLUMN payload_size;
DROP TABLE consumed_events;
