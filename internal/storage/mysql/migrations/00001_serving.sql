-- +goose Up
-- Items served to users; details as published by the last catalog version.
CREATE TABLE items (
    id          VARCHAR(64) COLLATE utf8mb4_bin  NOT NULL PRIMARY KEY,
    type        VARCHAR(16)  NOT NULL,
    title       TEXT         NOT NULL,
    year        INT          NOT NULL DEFAULT 0,
    subtitle    TEXT         NOT NULL,
    description TEXT         NOT NULL,
    image_url   TEXT         NOT NULL,
    url         TEXT         NOT NULL,
    details     JSON         NOT NULL,
    version     VARCHAR(64) COLLATE utf8mb4_bin  NOT NULL,
    updated_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    KEY items_type (type)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Catalog/index versions: built by CatalogPipeline, switched atomically by publish.
CREATE TABLE catalog_versions (
    version      VARCHAR(64) COLLATE utf8mb4_bin  NOT NULL PRIMARY KEY,
    status       VARCHAR(16)  NOT NULL,
    shards       INT          NOT NULL,
    docs         BIGINT       NOT NULL DEFAULT 0,
    workflow_id  VARCHAR(255) NOT NULL,
    run_id       VARCHAR(64)  NOT NULL,
    created_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    published_at TIMESTAMP(6) NULL
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Serialized search index segments, one per shard, split into chunks that fit max_allowed_packet.
CREATE TABLE index_segments (
    version VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    shard   INT         NOT NULL,
    chunk   INT         NOT NULL,
    chunks  INT         NOT NULL,
    docs    INT         NOT NULL,
    data    LONGBLOB    NOT NULL,
    PRIMARY KEY (version, shard, chunk)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The single row naming the version the API serves.
CREATE TABLE catalog_current (
    id          TINYINT      NOT NULL PRIMARY KEY,
    version     VARCHAR(64) COLLATE utf8mb4_bin  NOT NULL,
    switched_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE catalog_current;
DROP TABLE index_segments;
DROP TABLE catalog_versions;
DROP TABLE items;
