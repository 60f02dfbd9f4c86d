//! PostgreSQL, the store of many nodes: every node connects to it; it takes many writers at
//! once (row locks), so a write transaction is a plain one.

use crate::StoreError;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub const BEGIN_WRITE: &str = "BEGIN";

/// After a config apply the planner's statistics are brought up to date at once: until
/// autovacuum gets to it, a table that grew from nothing to 100,000 accounts in one transaction
/// looks empty to the planner, which then scans it whole for every one-account query (100 ms a
/// change instead of 2).
pub const AFTER_APPLY: &[&str] = &["ANALYZE"];

/// Accounts per multi-row statement (PostgreSQL takes 65,535 bound parameters).
pub const ACCOUNTS_PER_BATCH: usize = 200;

/// The schema's migrations, in order (the first is the whole schema as SQLite's seven
/// migrations left it; later ones go in step with SQLite's).
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        "changes",
        include_str!("../../migrations/postgres/0002_changes.sql"),
    ),
    (
        "sign-in failures",
        include_str!("../../migrations/postgres/0003_sign_in_failures.sql"),
    ),
    (
        "private files index",
        include_str!("../../migrations/postgres/0004_private_files_index.sql"),
    ),
];

/// The channel nodes are told about committed changes on.
pub const CHANGES_CHANNEL: &str = "pixelway_changes";

/// Connects a pool: a node holds a few connections (most of its work never reaches the
/// store) and gives up on one after a few seconds, so an unreachable database is reported
/// instead of waited for.
pub async fn connect(url: &str) -> Result<AnyPool, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await?;
    Ok(pool)
}

/// See `Backend::endpoint_origins_json`.
pub const ENDPOINT_ORIGINS_JSON: &str = "(SELECT coalesce(json_agg(origin_id ORDER BY position), \
    '[]'::json)::text FROM endpoint_origins WHERE endpoint_id = endpoints.id)";

/// Endpoints grouped per account as JSON, made by PostgreSQL, each endpoint an array in the
/// order `EndpointRow` reads (as text: the `Any` driver reads no JSON type).
pub fn endpoints_as_json(filter: &str) -> String {
    format!(
        "SELECT account_id, json_agg(json_build_array(\
         id, identifier, description, default_image, signed_urls_only, \
         named_transformations_only, managed_by, \
         (SELECT coalesce(json_agg(origin_id ORDER BY position), '[]'::json) \
         FROM endpoint_origins WHERE endpoint_id = endpoints.id)))::text AS list \
         FROM endpoints {filter} GROUP BY account_id ORDER BY account_id"
    )
}
