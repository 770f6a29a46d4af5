-- +goose Up
-- One row per shard attempt of a batch job: who ran it and when (fan-out observability,
-- and the worker-loss test's evidence).
CREATE TABLE batch_shard_runs (
    job         text        NOT NULL,
    version     text        NOT NULL,
    shard       integer     NOT NULL,
    attempt     integer     NOT NULL,
    worker      text        NOT NULL,
    items       integer     NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, version, shard, attempt)
);

-- Item-to-item similarity, per model version (rows of a shard are replaced on re-run).
CREATE TABLE similar_items (
    version     text             NOT NULL,
    item_id     text             NOT NULL,
    rank        integer          NOT NULL,
    neighbor_id text             NOT NULL,
    score       double precision NOT NULL,
    PRIMARY KEY (version, item_id, rank)
);

-- Uploads per hour and country (one hour partition is one shard; a re-run replaces it).
CREATE TABLE upload_hourly (
    hour    timestamptz NOT NULL,
    country text        NOT NULL,
    count   bigint      NOT NULL,
    PRIMARY KEY (hour, country)
);

-- Click edges per hour (map output of ClickstreamPageRank), replaced per hour on re-run.
CREATE TABLE click_edges (
    hour        timestamptz NOT NULL,
    source_item text        NOT NULL,
    target_item text        NOT NULL,
    clicks      bigint      NOT NULL,
    PRIMARY KEY (hour, source_item, target_item)
);

-- PageRank per version.
CREATE TABLE page_ranks (
    version text             NOT NULL,
    item_id text             NOT NULL,
    rank    integer          NOT NULL,
    score   double precision NOT NULL,
    PRIMARY KEY (version, item_id)
);

-- Ad targets per version (a user shard's rows are replaced on re-run).
CREATE TABLE ad_targets (
    version     text        NOT NULL,
    user_id     text        NOT NULL,
    category    text        NOT NULL,
    searches    integer     NOT NULL,
    last_search timestamptz NOT NULL,
    products    text[]      NOT NULL,
    PRIMARY KEY (version, user_id, category)
);

-- Published version of each model (similarity, pagerank, ads).
CREATE TABLE model_versions (
    model        text        NOT NULL,
    version      text        NOT NULL,
    rows         bigint      NOT NULL DEFAULT 0,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, version)
);
CREATE TABLE model_current (
    model   text PRIMARY KEY,
    version text NOT NULL
);

-- +goose Down
DROP TABLE model_current;
DROP TABLE model_versions;
DROP TABLE ad_targets;
DROP TABLE page_ranks;
DROP TABLE click_edges;
DROP TABLE upload_hourly;
DROP TABLE similar_items;
DROP TABLE batch_shard_runs;
