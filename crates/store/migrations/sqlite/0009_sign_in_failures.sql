-- pixelway schema v9: failed dashboard sign-ins, so the limit on them holds across every node
-- of a deployment on one database. `network` is an IPv4 address or an IPv6 /64, as text.

CREATE TABLE sign_in_failures (
    network    TEXT NOT NULL,
    account_id TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_network ON sign_in_failures (network, at);
