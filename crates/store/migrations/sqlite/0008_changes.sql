-- pixelway schema v8: every committed change, numbered, so that every node of a deployment on
-- one database applies each change (told by PostgreSQL's NOTIFY; read back from here after a
-- lost connection or a start). `node` is the node that made it (it applied it already);
-- `subject` is what within the account changed (a library path or folder), when it matters.

CREATE TABLE changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    node       TEXT NOT NULL,
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
