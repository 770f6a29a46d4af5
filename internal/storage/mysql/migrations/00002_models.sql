-- +goose Up
-- Published batch model outputs (similarity, pagerank, ad targets), one row per key.
CREATE TABLE model_rows (
    model   VARCHAR(32)  COLLATE utf8mb4_bin NOT NULL,
    version VARCHAR(64)  COLLATE utf8mb4_bin NOT NULL,
    row_key VARCHAR(191) COLLATE utf8mb4_bin NOT NULL,
    `rank`  INT          NOT NULL DEFAULT 0,
    payload JSON         NOT NULL,
    PRIMARY KEY (model, version, row_key),
    KEY model_rows_rank (model, version, `rank`)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE model_current (
    model       VARCHAR(32) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    version     VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    `rows`      BIGINT      NOT NULL,
    switched_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE model_current;
DROP TABLE model_rows;
