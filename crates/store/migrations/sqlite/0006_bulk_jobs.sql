-- pixelway schema v6: folder copy, move and rename jobs (ImageKit's bulk jobs) and their status.

CREATE TABLE bulk_jobs (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
