-- +goose Up
-- The similarity model of a BuildSimilarity version (package internal/similar's encoding:
-- term statistics and every item's vector), built once by PrepareSimilarity and read by
-- every SimilarityShard, in parts of a few MB. Dropped when the version is published.
CREATE TABLE similarity_models (
    version    text        NOT NULL,
    part       integer     NOT NULL,
    data       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, part)
);
-- Vectors of floats do not compress: store the parts out of line without trying.
ALTER TABLE similarity_models ALTER COLUMN data SET STORAGE EXTERNAL;

-- +goose Down
DROP TABLE similarity_models;
