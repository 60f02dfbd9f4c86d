-- pixelway schema v8 (as SQLite's 0008): every committed change, numbered, so that every node
-- applies each change (told by NOTIFY; read back from here after a lost connection or a start).

CREATE TABLE changes (
    id         BIGSERIAL PRIMARY KEY,
    node       TEXT NOT NULL,
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
