-- +goose Up
-- Speed line for text: counts of terms and #tags per window of event time. A search event
-- counts the words of its query (and its #tags and category as tags); a view or collect
-- counts the words of the item's title (and its genres or classification as tags). Every
-- event counts once in its 1-minute window and once in its 1-hour window.
CREATE TABLE term_windows (
    window_size  text        NOT NULL,  -- '1m' or '1h'
    window_start timestamptz NOT NULL,
    kind         text        NOT NULL,  -- 'term' or 'tag'
    term         text        NOT NULL,
    count        bigint      NOT NULL,
    PRIMARY KEY (window_size, window_start, kind, term)
);
CREATE INDEX term_windows_top ON term_windows (window_size, window_start, kind, count DESC);

-- Hour rollups checked by the TermsRollup job (the terms.trending asset): the hour's 1h
-- window must equal the sum of its sixty 1m windows.
CREATE TABLE term_rollups (
    hour        timestamptz PRIMARY KEY,
    terms       bigint      NOT NULL,
    tokens      bigint      NOT NULL,
    consistent  boolean     NOT NULL,
    pruned      bigint      NOT NULL DEFAULT 0,
    checked_at  timestamptz NOT NULL DEFAULT now()
);

-- Topic models (BuildTopics). One row per fitting run.
CREATE TABLE topic_runs (
    run_id          text PRIMARY KEY,
    k               integer          NOT NULL,
    alpha           double precision NOT NULL,
    beta            double precision NOT NULL,
    vocab           text[]           NOT NULL,
    docs            integer          NOT NULL,
    heldout         integer          NOT NULL DEFAULT 0,
    tokens          bigint           NOT NULL DEFAULT 0,
    shards          integer          NOT NULL,
    iterations      integer          NOT NULL DEFAULT 0,  -- completed
    status          text             NOT NULL DEFAULT 'running',
    perplexity      double precision,
    coherence_umass double precision,
    coherence_npmi  double precision,
    started_at      timestamptz      NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

-- Each shard's documents (encoded word ids) and its current assignments. The iteration
-- column makes a retried sweep idempotent: a shard already at iteration i returns its
-- stored result.
CREATE TABLE topic_shards (
    run_id     text    NOT NULL REFERENCES topic_runs (run_id) ON DELETE CASCADE,
    shard      integer NOT NULL,
    item_ids   text[]  NOT NULL,
    item_types text[]  NOT NULL,
    docs       bytea   NOT NULL,
    z          bytea   NOT NULL,
    iteration  integer NOT NULL,
    PRIMARY KEY (run_id, shard)
);

-- Each shard's topic-word counts after each round; the global counts of round i are the
-- sum over shards at i. Sweeps of round i+1 read round i; older rounds are pruned.
CREATE TABLE topic_shard_counts (
    run_id    text    NOT NULL REFERENCES topic_runs (run_id) ON DELETE CASCADE,
    shard     integer NOT NULL,
    iteration integer NOT NULL,
    counts    bytea   NOT NULL,
    PRIMARY KEY (run_id, iteration, shard)
);

-- The fitted model: top words per topic and each item's topic mix.
CREATE TABLE topics (
    run_id text    NOT NULL REFERENCES topic_runs (run_id) ON DELETE CASCADE,
    topic  integer NOT NULL,
    tokens bigint  NOT NULL,
    words  jsonb   NOT NULL,  -- [{"word":..,"weight":..}]
    PRIMARY KEY (run_id, topic)
);

CREATE TABLE item_topics (
    run_id    text             NOT NULL REFERENCES topic_runs (run_id) ON DELETE CASCADE,
    item_id   text             NOT NULL,
    item_type text             NOT NULL,
    topic     integer          NOT NULL,
    weight    double precision NOT NULL,
    PRIMARY KEY (run_id, item_id, topic)
);
CREATE INDEX item_topics_by_topic ON item_topics (run_id, topic, weight DESC);

-- +goose Down
DROP TABLE item_topics;
DROP TABLE topics;
DROP TABLE topic_shard_counts;
DROP TABLE topic_shards;
DROP TABLE topic_runs;
DROP TABLE term_rollups;
DROP TABLE term_windows;
