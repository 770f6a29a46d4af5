-- +goose Up
-- Who owns a batch shard now: each attempt claims its shard when it starts and gets a new
-- fencing token; a shard's writes commit only under the newest token, so a worker cut off
-- from Temporal (a zombie whose shard was retried elsewhere) can no longer change it.
CREATE SEQUENCE batch_shard_token;
CREATE TABLE batch_shard_owners (
    job        text        NOT NULL,
    version    text        NOT NULL,
    shard      integer     NOT NULL,
    token      bigint      NOT NULL,
    worker     text        NOT NULL,
    attempt    integer     NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, version, shard)
);

-- +goose Down
DROP TABLE batch_shard_owners;
DROP SEQUENCE batch_shard_token;
