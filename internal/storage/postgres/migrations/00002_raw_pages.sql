-- +goose Up
-- Raw zone for crawled pages: the latest fetch of every URL, body gzip-compressed, with the
-- fetch outcome and, separately, why the page did not parse. Conditional GETs use etag and
-- last_modified; run_key lets a restarted crawl skip what it already fetched.
CREATE TABLE raw_pages (
    url           text PRIMARY KEY,
    source        text        NOT NULL,
    status        integer     NOT NULL DEFAULT 0,
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    body_gz       bytea,
    body_bytes    integer     NOT NULL DEFAULT 0,
    content_type  text        NOT NULL DEFAULT '',
    etag          text        NOT NULL DEFAULT '',
    last_modified text        NOT NULL DEFAULT '',
    attempts      integer     NOT NULL DEFAULT 0,
    fetch_error   text,
    parse_error   text,
    records       integer     NOT NULL DEFAULT 0,
    run_key       text        NOT NULL DEFAULT ''
);
CREATE INDEX raw_pages_run ON raw_pages (run_key);
CREATE INDEX raw_pages_failed ON raw_pages (source) WHERE fetch_error IS NOT NULL OR parse_error IS NOT NULL;

-- +goose Down
DROP TABLE raw_pages;
