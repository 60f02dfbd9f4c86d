-- pixelway schema v7: dashboard sign-ins. A session is found by the SHA-256 of its cookie (the
-- cookie itself is never stored); `account_id` is NULL for the operator. `key_fingerprint` ties a
-- session to the credential it was opened with: rotating the key ends it.

CREATE TABLE dashboard_sessions (
    id_hash         TEXT PRIMARY KEY,
    account_id      TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
