//! SQLite, the embedded default: one file, WAL, one writer at a time.

use crate::StoreError;
use sqlx::AnyPool;
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

/// Every transaction that writes takes the write lock at once: one that reads first and
/// writes later could not upgrade its lock while another writer holds it (SQLite answers
/// "database is locked" at once, without waiting), so it starts as a writer and waits its turn
/// within the busy timeout.
pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// A large apply touches pages all over the indexes (ids are random): a bigger page cache for
/// its one transaction keeps them in memory (KiB, negative as SQLite takes it), given back at
/// its end.
pub const APPLY_START: &[&str] = &["PRAGMA cache_size = -262144"];
pub const APPLY_END: &[&str] = &["PRAGMA cache_size = -2000"];

/// What an apply wrote moves from the write-ahead log into the database file, so the catalog
/// that is read next reads the file, not a long log.
pub const AFTER_APPLY: &[&str] = &["PRAGMA wal_checkpoint(TRUNCATE)"];

/// Accounts per multi-row statement: with their origins, endpoints and named
/// transformations, well under SQLite's limit of 32,766 bound parameters.
pub const ACCOUNTS_PER_BATCH: usize = 200;

/// The schema's migrations, in order.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        "account formats",
        include_str!("../../migrations/sqlite/0002_account_formats.sql"),
    ),
    (
        "media library",
        include_str!("../../migrations/sqlite/0003_media_library.sql"),
    ),
    (
        "provenance",
        include_str!("../../migrations/sqlite/0004_provenance.sql"),
    ),
    (
        "config state",
        include_str!("../../migrations/sqlite/0005_config_state.sql"),
    ),
    (
        "bulk jobs",
        include_str!("../../migrations/sqlite/0006_bulk_jobs.sql"),
    ),
    (
        "dashboard sessions",
        include_str!("../../migrations/sqlite/0007_dashboard_sessions.sql"),
    ),
    (
        "changes",
        include_str!("../../migrations/sqlite/0008_changes.sql"),
    ),
    (
        "sign-in failures",
        include_str!("../../migrations/sqlite/0009_sign_in_failures.sql"),
    ),
    (
        "private files index",
        include_str!("../../migrations/sqlite/0010_private_files_index.sql"),
    ),
];

/// Connections to the database file at most (one writes at a time; reads run beside it).
pub const MAX_CONNECTIONS: u32 = 4;

/// Opens (creating) the database file: foreign keys on, WAL, a busy timeout for writers that
/// wait their turn.
pub async fn connect(url: &str) -> Result<AnyPool, StoreError> {
    let url = with_create_mode(url);
    let pool = AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .after_connect(|connection, _| {
            Box::pin(async move {
                connection
                    .execute(
                        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                         PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL",
                    )
                    .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    Ok(pool)
}

/// `mode=rwc` (create when missing) unless the URL names a mode.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        return url.to_string();
    }
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}mode=rwc")
}

/// See `Backend::endpoint_origins_json`.
pub const ENDPOINT_ORIGINS_JSON: &str = "(SELECT json_group_array(origin_id) FROM \
    (SELECT origin_id FROM endpoint_origins WHERE endpoint_id = endpoints.id ORDER BY position))";

/// Endpoints grouped per account as JSON, made by SQLite, each endpoint an array in the order
/// `EndpointRow` reads: with many tenants, reading row by row was most of a start.
pub fn endpoints_as_json(filter: &str) -> String {
    format!(
        "SELECT account_id, json_group_array(json_array(\
         id, identifier, description, default_image, signed_urls_only, \
         named_transformations_only, managed_by, {ENDPOINT_ORIGINS_JSON})) AS list \
         FROM endpoints {filter} GROUP BY account_id ORDER BY account_id"
    )
}
