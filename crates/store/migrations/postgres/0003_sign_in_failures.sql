-- pixelway schema v9 (as SQLite's 0009): failed dashboard sign-ins, shared by every node.

CREATE TABLE sign_in_failures (
    network    TEXT NOT NULL,
    account_id TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_network ON sign_in_failures (network, at);
