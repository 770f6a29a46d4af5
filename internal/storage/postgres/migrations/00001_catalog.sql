-- +goose Up
-- Raw zone: every source row as it was read, with the reason when it did not parse.
CREATE TABLE raw_records (
    source     text        NOT NULL,
    kind       text        NOT NULL,
    key        text        NOT NULL,
    line       integer     NOT NULL DEFAULT 0,
    payload    jsonb,
    error      text,
    import_id  text        NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, kind, key)
);
CREATE INDEX raw_records_failed ON raw_records (source) WHERE error IS NOT NULL;

-- Cleaned tables.
CREATE TABLE movies (
    id              text PRIMARY KEY,
    kind            text    NOT NULL DEFAULT 'movie',
    title           text    NOT NULL,
    original_title  text    NOT NULL DEFAULT '',
    year            integer NOT NULL DEFAULT 0,
    end_year        integer NOT NULL DEFAULT 0,
    genres          text[]  NOT NULL DEFAULT '{}',
    directors       text[]  NOT NULL DEFAULT '{}',
    cast_members    text[]  NOT NULL DEFAULT '{}',
    runtime_minutes integer NOT NULL DEFAULT 0,
    rating          double precision NOT NULL DEFAULT 0,
    votes           bigint  NOT NULL DEFAULT 0,
    plot            text    NOT NULL DEFAULT '',
    content_rating  text    NOT NULL DEFAULT '',
    country         text    NOT NULL DEFAULT '',
    language        text    NOT NULL DEFAULT '',
    source          text    NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE artists (
    id          text PRIMARY KEY,
    name        text    NOT NULL,
    bio         text    NOT NULL DEFAULT '',
    nationality text    NOT NULL DEFAULT '',
    gender      text    NOT NULL DEFAULT '',
    begin_year  integer NOT NULL DEFAULT 0,
    end_year    integer NOT NULL DEFAULT 0,
    wiki_qid    text    NOT NULL DEFAULT '',
    ulan        text    NOT NULL DEFAULT '',
    source      text    NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE artworks (
    id             text PRIMARY KEY,
    title          text    NOT NULL,
    artist_ids     text[]  NOT NULL DEFAULT '{}',
    artists        text[]  NOT NULL DEFAULT '{}',
    nationalities  text[]  NOT NULL DEFAULT '{}',
    year           integer NOT NULL DEFAULT 0,
    date_text      text    NOT NULL DEFAULT '',
    medium         text    NOT NULL DEFAULT '',
    dimensions     text    NOT NULL DEFAULT '',
    classification text    NOT NULL DEFAULT '',
    department     text    NOT NULL DEFAULT '',
    credit_line    text    NOT NULL DEFAULT '',
    description    text    NOT NULL DEFAULT '',
    url            text    NOT NULL DEFAULT '',
    image_url      text    NOT NULL DEFAULT '',
    source         text    NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per dataset import (a run of ImportDataset or `curio import`).
CREATE TABLE imports (
    import_id   text PRIMARY KEY,
    dataset     text        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows_ok     bigint      NOT NULL DEFAULT 0,
    rows_failed bigint      NOT NULL DEFAULT 0
);

-- Pipeline runs, for the asset/run metadata the API reports.
CREATE TABLE pipeline_runs (
    workflow_id  text NOT NULL,
    run_id       text NOT NULL,
    workflow     text NOT NULL,
    status       text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    details      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (workflow_id, run_id)
);

-- +goose Down
DROP TABLE pipeline_runs;
DROP TABLE imports;
DROP TABLE artworks;
DROP TABLE artists;
DROP TABLE movies;
DROP TABLE raw_records;
