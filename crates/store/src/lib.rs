//! The store: accounts, origins, URL endpoints with their ordered origins, custom domains, named
//! transformations and Media Library file records, in SQL (SQLite embedded; the schema is kept
//! portable to PostgreSQL).
//!
//! Secrets (account private keys, origin credentials) are sealed with [`SecretBox`] before they
//! are written. The delivery path never queries the store: it reads a [`Snapshot`] loaded once
//! and reloaded after changes.

mod bulk;
mod entities;
mod files;
mod provenance;
mod records;
mod rows;
pub mod search;
mod secrets;
mod sessions;
mod uploads;

pub use bulk::DeclaredAccount;
pub use entities::{AccountSummary, EndpointFields};
pub use files::{FileChanges, FileList, FileSort, FolderRecord, ListKind, Listed};
pub use provenance::{ConfigApply, Declared};
pub use records::{
    AccountRecord, AccountSettings, DomainRecord, EndpointInput, EndpointRecord, FileRecord,
    NamedTransformation, OriginRecord, Snapshot, parse_custom_coordinates,
};
pub use search::SearchError;
pub use secrets::{SecretBox, SecretsError};
pub use sessions::SessionRecord;
pub use uploads::PurgeRequest;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{SqlSafeStr, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// A name that breaks a rule: which field, and why, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {value:?} {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub value: String,
    pub reason: &'static str,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("unsupported database_url {0:?}: use sqlite://…")]
    UnsupportedUrl(String),
    #[error("{what} {name:?} not found")]
    NotFound { what: &'static str, name: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{what} {name:?} already exists")]
    Exists { what: &'static str, name: String },
    #[error("{what} {name:?} is used by {by}")]
    InUse {
        what: &'static str,
        name: String,
        by: String,
    },
    #[error("{what} {name:?} is managed by the config file ({key}): change it there")]
    Managed {
        what: &'static str,
        name: String,
        key: String,
    },
    #[error(transparent)]
    Search(#[from] search::SearchError),
}

impl StoreError {
    /// Whether the database could not be reached (no connection, a pool timeout), as opposed to
    /// a statement it refused: nothing was changed and the caller may retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Database(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            )
        )
    }
}

/// The store handle.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    secrets: SecretBox,
}

/// The schema's versioned migrations, embedded in the binary.
fn migrator() -> Migrator {
    let initial = Migration::new(
        1,
        "initial".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0001_initial.sql").into_sql_str(),
        false,
    );
    let account_formats = Migration::new(
        2,
        "account formats".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0002_account_formats.sql").into_sql_str(),
        false,
    );
    let media_library = Migration::new(
        3,
        "media library".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0003_media_library.sql").into_sql_str(),
        false,
    );
    let provenance = Migration::new(
        4,
        "provenance".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0004_provenance.sql").into_sql_str(),
        false,
    );
    let config_state = Migration::new(
        5,
        "config state".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0005_config_state.sql").into_sql_str(),
        false,
    );
    let bulk_jobs = Migration::new(
        6,
        "bulk jobs".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0006_bulk_jobs.sql").into_sql_str(),
        false,
    );
    let dashboard_sessions = Migration::new(
        7,
        "dashboard sessions".into(),
        MigrationType::Simple,
        include_str!("../migrations/sqlite/0007_dashboard_sessions.sql").into_sql_str(),
        false,
    );
    Migrator::with_migrations(vec![
        initial,
        account_formats,
        media_library,
        provenance,
        config_state,
        bulk_jobs,
        dashboard_sessions,
    ])
}

impl Store {
    /// Opens (creating if missing) the database at `database_url` and migrates it.
    pub async fn open(database_url: &str, secrets: SecretBox) -> Result<Self, StoreError> {
        if !database_url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(database_url.to_string()));
        }
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        migrator().run(&pool).await?;
        Ok(Self { pool, secrets })
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A transaction that takes the write lock at once (`BEGIN IMMEDIATE`): a transaction that
    /// reads first and writes later could not upgrade its lock while another writer holds it
    /// (SQLite answers "database is locked" at once, without waiting), so every transaction
    /// that writes starts as a writer and waits its turn within the busy timeout.
    pub(crate) async fn write_transaction(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub(crate) fn secrets(&self) -> &SecretBox {
        &self.secrets
    }
}

/// SQL text built in this crate from fixed column lists and `$n` placeholders only: every value
/// a caller gave is bound, never written into the text.
pub(crate) fn audited(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new row id: a UUIDv7 (time first, then random), so rows made together sit together in
/// the id indexes — inserting many at once appends instead of touching pages all over them.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[cfg(test)]
mod tests;
