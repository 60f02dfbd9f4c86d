//! The seam between the store and its database. Every query the store runs is written once, in
//! SQL both databases take (`$1` parameters, `ON CONFLICT`, integers for flags), and runs
//! through sqlx's `Any` driver; what differs lives here, one module per database:
//!
//! - [`sqlite`]: the embedded default (`sqlite://…`): WAL, write transactions that take the
//!   lock at once (`BEGIN IMMEDIATE`), page-cache and checkpoint PRAGMAs around a config apply,
//!   `json_group_array`, batch sizes under SQLite's bind limit, `migrations/sqlite/`;
//! - [`postgres`]: the scaled-out store (`postgres://…`), `json_agg`, `migrations/postgres/`.
//!
//! Callers see one [`crate::Store`] and never the backend.

mod postgres;
mod sqlite;

use crate::StoreError;
use sqlx::AnyPool;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `storage.database_url` names.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    /// The backend a connection talks to.
    pub fn of_connection(connection: &sqlx::AnyConnection) -> Self {
        match connection.backend_name() {
            "PostgreSQL" => Self::Postgres,
            _ => Self::Sqlite,
        }
    }

    /// Whether a statement with many parameters must number them (`$1, $2, …`): PostgreSQL
    /// takes nothing else; SQLite looks a named parameter up by walking all of them, so a
    /// statement of 2,000 numbered parameters binds in quadratic time there — it gets `?`.
    pub fn numbers_parameters(self) -> bool {
        self == Self::Postgres
    }

    /// A connection pool to `url`, set up for this backend.
    pub async fn connect(self, url: &str) -> Result<AnyPool, StoreError> {
        sqlx::any::install_default_drivers();
        match self {
            Self::Sqlite => sqlite::connect(url).await,
            Self::Postgres => postgres::connect(url).await,
        }
    }

    /// The schema's versioned migrations for this backend, embedded in the binary.
    pub fn migrator(self) -> Migrator {
        let migrations = match self {
            Self::Sqlite => sqlite::MIGRATIONS,
            Self::Postgres => postgres::MIGRATIONS,
        };
        Migrator::with_migrations(
            migrations
                .iter()
                .enumerate()
                .map(|(i, (name, sql))| {
                    Migration::new(
                        i as i64 + 1,
                        (*name).into(),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        false,
                    )
                })
                .collect(),
        )
    }

    /// How a transaction that will write begins.
    pub fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => sqlite::BEGIN_WRITE,
            Self::Postgres => postgres::BEGIN_WRITE,
        }
    }

    /// How a transaction that reads a consistent view of several tables begins (a snapshot:
    /// writers that commit meanwhile are not seen halfway).
    pub fn begin_snapshot(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN",
            Self::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }

    /// One row per account (`account_id`), with its endpoints as a JSON array of arrays
    /// (`list`: id, identifier, description, default_image, signed_urls_only,
    /// named_transformations_only, managed_by, origins in order), from the endpoints that
    /// `filter` (a `WHERE …` clause or empty) keeps.
    pub fn endpoints_as_json(self, filter: &str) -> String {
        match self {
            Self::Sqlite => sqlite::endpoints_as_json(filter),
            Self::Postgres => postgres::endpoints_as_json(filter),
        }
    }

    /// An expression of a query on `endpoints`: the endpoint's origins' ids in order, as a JSON
    /// array (text), so that an endpoint is one row.
    pub fn endpoint_origins_json(self) -> &'static str {
        match self {
            Self::Sqlite => sqlite::ENDPOINT_ORIGINS_JSON,
            Self::Postgres => postgres::ENDPOINT_ORIGINS_JSON,
        }
    }

    /// How many parts a large snapshot is read in at once (each on its own connection).
    pub fn snapshot_parts(self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        match self {
            Self::Sqlite => cores.min(sqlite::MAX_CONNECTIONS as usize),
            Self::Postgres => cores,
        }
    }

    /// Statements run at the start of a config apply's transaction, and at its end.
    pub fn around_apply(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Sqlite => (sqlite::APPLY_START, sqlite::APPLY_END),
            Self::Postgres => (&[], &[]),
        }
    }

    /// Statements run after a config apply is committed (outside its transaction).
    pub fn after_apply(self) -> &'static [&'static str] {
        match self {
            Self::Sqlite => sqlite::AFTER_APPLY,
            Self::Postgres => postgres::AFTER_APPLY,
        }
    }

    /// The statement that announces change `id` to listening nodes (PostgreSQL only).
    pub fn notify(self, id: i64) -> Option<String> {
        self.changes_channel()
            .map(|channel| format!("NOTIFY {channel}, '{id}'"))
    }

    /// The channel changes are announced on (PostgreSQL only).
    pub fn changes_channel(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some(postgres::CHANGES_CHANNEL),
        }
    }

    /// Accounts a config apply writes per multi-row statement.
    pub fn accounts_per_batch(self) -> usize {
        match self {
            Self::Sqlite => sqlite::ACCOUNTS_PER_BATCH,
            Self::Postgres => postgres::ACCOUNTS_PER_BATCH,
        }
    }
}
