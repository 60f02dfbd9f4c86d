//! The store: accounts, origins, URL endpoints with their ordered origins, custom domains, named
//! transformations and Media Library file records, in SQL: SQLite embedded (one node), or
//! PostgreSQL (many nodes). [`backend`] is the seam between the two; the rest is written once.
//!
//! Secrets (account private keys, origin credentials) are sealed with [`SecretBox`] before they
//! are written. The delivery path never queries the store: it reads a [`Snapshot`] loaded once
//! and reloaded after changes.

mod backend;
mod bulk;
mod changes;
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
pub use changes::{ChangeListener, ChangeRecord, Heard};
pub use entities::{AccountSummary, EndpointFields};
pub use files::{FileChanges, FileList, FileSort, FolderRecord, ListKind, Listed};
pub use provenance::{Applied, ConfigApply, Declared};
pub use records::{
    AccountRecord, AccountSettings, DomainRecord, EndpointInput, EndpointRecord, FileRecord,
    NamedTransformation, OriginRecord, Snapshot, SnapshotPart, parse_custom_coordinates,
};
pub use search::SearchError;
pub use secrets::{SecretBox, SecretsError};
pub use sessions::{SessionRecord, SignInFailures};
pub use uploads::PurgeRequest;

use backend::Backend;
use sqlx::AnyPool;

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
    #[error("unsupported database_url {0:?}: use sqlite://… or postgres://…")]
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
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where it was opened (a listener opens a connection of its own).
    url: std::sync::Arc<str>,
    secrets: SecretBox,
}

/// Without the URL: it may hold the database's password.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `database_url` (`sqlite://…`, created if missing, or
    /// `postgres://…`) and migrates it.
    pub async fn open(database_url: &str, secrets: SecretBox) -> Result<Self, StoreError> {
        let backend = Backend::of_url(database_url)?;
        let pool = backend.connect(database_url).await?;
        backend.migrator().run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            url: database_url.into(),
            secrets,
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The database this store runs on (for the few statements that differ).
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether this store is PostgreSQL (shared by many nodes) rather than SQLite.
    /// Writes a consistent copy of the whole store to `path` while it keeps serving (SQLite's
    /// `VACUUM INTO`: a snapshot as of one moment, compacted). A PostgreSQL store is backed up
    /// with PostgreSQL's own tools (`pg_dump`), which this refuses naming.
    pub async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.is_shared() {
            return Err(StoreError::Invalid(Invalid {
                field: "storage.database_url",
                value: "postgres://…".into(),
                reason: "is backed up with PostgreSQL's own tools (pg_dump), not pixelway backup",
            }));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub fn is_shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// A transaction that will write, begun the way the backend wants it (SQLite takes the
    /// write lock at once).
    pub(crate) async fn write_transaction(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.pool.begin_with(self.backend.begin_write()).await
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
