-- pixelway schema v5: the fingerprint of the config file's entities last applied, so a start
-- with an unchanged file skips re-applying them (with many tenants, most of the start time).

CREATE TABLE config_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    applied_at  BIGINT NOT NULL
);
