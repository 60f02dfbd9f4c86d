-- pixelway schema v1: accounts, origins, URL endpoints and their origin order, custom domains,
-- named transformations, Media Library file records. Kept portable to PostgreSQL (TEXT ids,
-- BIGINT unix seconds, INTEGER booleans).

CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY,
    private_key_enc    TEXT NOT NULL,
    public_key         TEXT NOT NULL,
    hide_origin_header INTEGER NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL
);

CREATE TABLE origins (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    spec_json   TEXT NOT NULL,
    secrets_enc TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE endpoints (
    id                         TEXT PRIMARY KEY,
    account_id                 TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    identifier                 TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    default_image              TEXT,
    signed_urls_only           INTEGER NOT NULL DEFAULT 0,
    named_transformations_only INTEGER NOT NULL DEFAULT 0,
    created_at                 BIGINT NOT NULL,
    UNIQUE (account_id, identifier)
);

CREATE TABLE endpoint_origins (
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    origin_id   TEXT NOT NULL REFERENCES origins(id) ON DELETE CASCADE,
    PRIMARY KEY (endpoint_id, position)
);

CREATE TABLE custom_domains (
    host        TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint_id TEXT REFERENCES endpoints(id) ON DELETE CASCADE
);

CREATE TABLE named_transformations (
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    transformation TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE files (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    name       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    mime       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    is_private INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account_id, path)
);
