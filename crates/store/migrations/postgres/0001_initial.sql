-- pixelway schema for PostgreSQL: the same tables, columns and keys as SQLite's migrations
-- 0001-0007 leave (see migrations/sqlite/). Integers are BIGINT throughout (flags too: 0 or 1),
-- ids and JSON are TEXT, times are unix seconds, so one set of queries reads both databases.
-- Names and paths that listings sort by compare byte by byte (COLLATE "C"), as in SQLite,
-- whatever the database's default collation.

CREATE TABLE accounts (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    private_key_enc    TEXT NOT NULL,
    public_key         TEXT NOT NULL,
    hide_origin_header BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    use_best_format    BIGINT,
    auto_avif          BIGINT,
    managed_by         TEXT,
    config_generation  TEXT
);

CREATE TABLE origins (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    spec_json         TEXT NOT NULL,
    secrets_enc       TEXT,
    created_at        BIGINT NOT NULL,
    managed_by        TEXT,
    config_generation TEXT,
    UNIQUE (account_id, name)
);

CREATE TABLE endpoints (
    id                         TEXT PRIMARY KEY,
    account_id                 TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    identifier                 TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    default_image              TEXT,
    signed_urls_only           BIGINT NOT NULL DEFAULT 0,
    named_transformations_only BIGINT NOT NULL DEFAULT 0,
    created_at                 BIGINT NOT NULL,
    managed_by                 TEXT,
    config_generation          TEXT,
    UNIQUE (account_id, identifier)
);

CREATE TABLE endpoint_origins (
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    origin_id   TEXT NOT NULL REFERENCES origins(id) ON DELETE CASCADE,
    PRIMARY KEY (endpoint_id, position)
);

CREATE TABLE custom_domains (
    host              TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint_id       TEXT REFERENCES endpoints(id) ON DELETE CASCADE,
    managed_by        TEXT,
    config_generation TEXT
);

CREATE TABLE named_transformations (
    account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    transformation    TEXT NOT NULL,
    managed_by        TEXT,
    config_generation TEXT,
    id                TEXT,
    enabled           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, name)
);
CREATE UNIQUE INDEX named_transformations_by_id ON named_transformations (id);

CREATE TABLE files (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    path               TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    size               BIGINT NOT NULL,
    mime               TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    is_private         BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    folder             TEXT NOT NULL DEFAULT '/',
    file_type          TEXT NOT NULL DEFAULT 'image',
    format             TEXT NOT NULL DEFAULT '',
    width              BIGINT,
    height             BIGINT,
    has_alpha          BIGINT NOT NULL DEFAULT 0,
    description        TEXT NOT NULL DEFAULT '',
    custom_metadata    TEXT NOT NULL DEFAULT '{}',
    custom_coordinates TEXT,
    version            BIGINT NOT NULL DEFAULT 1,
    UNIQUE (account_id, path)
);
CREATE INDEX files_by_folder ON files (account_id, folder);

CREATE TABLE file_tags (
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (file_id, tag)
);
CREATE INDEX file_tags_by_tag ON file_tags (tag);

CREATE TABLE folders (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    path       TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    parent     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, path)
);
CREATE INDEX folders_by_parent ON folders (account_id, parent);

CREATE TABLE upload_tokens (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token      TEXT NOT NULL,
    expire     BIGINT NOT NULL,
    PRIMARY KEY (account_id, token)
);

CREATE TABLE purge_requests (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    path       TEXT NOT NULL,
    wildcard   BIGINT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE config_state (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    applied_at  BIGINT NOT NULL
);

CREATE TABLE bulk_jobs (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE dashboard_sessions (
    id_hash         TEXT PRIMARY KEY,
    account_id      TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
