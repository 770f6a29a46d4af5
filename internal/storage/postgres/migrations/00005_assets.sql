-- +goose Up
-- Asset materializations: one row per (asset, partition, run), the Dagster-style record of
-- lineage, data versions and checks on top of Temporal's run history.
CREATE TABLE asset_materializations (
    id           bigserial PRIMARY KEY,
    asset        text        NOT NULL,
    partition    text        NOT NULL DEFAULT '',
    status       text        NOT NULL,
    workflow_id  text        NOT NULL,
    run_id       text        NOT NULL,
    rows         bigint      NOT NULL DEFAULT 0,
    data_version text        NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    checks       jsonb       NOT NULL DEFAULT '[]',
    error        text        NOT NULL DEFAULT '',
    UNIQUE (asset, partition, run_id)
);
CREATE INDEX asset_materializations_latest ON asset_materializations (asset, partition, finished_at DESC);

-- +goose Down
DROP TABLE asset_materializations;
