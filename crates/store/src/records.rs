//! The shapes the store reads and writes, and [`Snapshot`], everything delivery needs at once.

use crate::{Store, StoreError};
use pixelway_origins::OriginSpec;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// A tenant.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: String,
    /// Decrypted; used for the management API and URL signatures. Never logged.
    pub private_key: String,
    pub public_key: String,
    pub settings: AccountSettings,
}

/// An account's delivery settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSettings {
    /// Leave out `x-pixelway-origin` on delivery responses.
    pub hide_origin_header: bool,
    /// "Use best format": choose WebP/AVIF from `Accept` for transformed images that name no
    /// format. `None`: the server default (`[delivery] use_best_format`).
    pub use_best_format: Option<bool>,
    /// Let automatic format choices pick AVIF. `None`: the server default.
    pub auto_avif: Option<bool>,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("private_key", &"***")
            .field("public_key", &self.public_key)
            .field("settings", &self.settings)
            .finish()
    }
}

/// An origin of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginRecord {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// With its secrets restored.
    pub spec: OriginSpec,
    /// The config file entry that declares it; `None`: made through the API.
    pub managed_by: Option<String>,
}

/// A URL endpoint with its ordered origins (after the Media Library, which is implicit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRecord {
    pub id: String,
    pub account_id: String,
    /// Empty for the default endpoint.
    pub identifier: String,
    pub description: String,
    pub default_image: Option<String>,
    pub signed_urls_only: bool,
    pub named_transformations_only: bool,
    pub origin_ids: Vec<String>,
    /// The config file entry that declares it; `None`: made through the API.
    pub managed_by: Option<String>,
}

/// What a caller gives to create or update an endpoint (origins by name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointInput {
    pub identifier: String,
    pub description: String,
    pub default_image: Option<String>,
    pub signed_urls_only: bool,
    pub named_transformations_only: bool,
    pub origin_names: Vec<String>,
}

/// A custom domain mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRecord {
    pub host: String,
    pub account_id: String,
    /// `None`: alias of the default endpoint; `Some(identifier)`: one-to-one.
    pub endpoint_identifier: Option<String>,
}

/// A stored transformation, used as `n-<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedTransformation {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub transformation: String,
    /// A disabled one is unknown to delivery.
    pub enabled: bool,
    pub created_at: i64,
    /// The config file entry that declares it; `None`: made through the API.
    pub managed_by: Option<String>,
}

/// A Media Library file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRecord {
    pub id: String,
    pub account_id: String,
    /// Relative path in the library, e.g. `samples/cups.jpg` (no leading slash).
    pub path: String,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub sha256: String,
    pub is_private: bool,
    /// `image` or `non-image`.
    pub file_type: String,
    /// `jpg`, `png`, `webp`, `mp4`, …
    pub format: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_alpha: bool,
    pub tags: Vec<String>,
    pub description: String,
    /// A JSON object.
    pub custom_metadata: serde_json::Map<String, serde_json::Value>,
    /// `x,y,w,h`.
    pub custom_coordinates: Option<String>,
    /// Counts up each time the file's bytes are replaced.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `customCoordinates` text (`x,y,width,height` in whole pixels, spaces allowed around each) as
/// its four numbers; `None` for anything else. The API checks what it stores with it, delivery
/// reads what is stored with it.
pub fn parse_custom_coordinates(text: &str) -> Option<[u32; 4]> {
    let mut numbers = text.split(',').map(|n| n.trim().parse::<u32>().ok());
    let parsed = [
        numbers.next()??,
        numbers.next()??,
        numbers.next()??,
        numbers.next()??,
    ];
    numbers.next().is_none().then_some(parsed)
}

impl FileRecord {
    /// The folder the file is in, `/` or `/a/b/`.
    pub fn folder(&self) -> String {
        match self.path.rfind('/') {
            Some(i) => format!("/{}", &self.path[..=i]),
            None => "/".to_string(),
        }
    }
}

/// Every account's configuration, as delivery needs it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub accounts: Vec<AccountRecord>,
    pub origins: Vec<OriginRecord>,
    pub endpoints: Vec<EndpointRecord>,
    pub domains: Vec<DomainRecord>,
    pub named_transformations: Vec<NamedTransformation>,
    /// The accounts with at least one private Media Library file (which files: asked of the
    /// store per request, [`Store::is_private_file`]).
    pub accounts_with_private_files: Vec<String>,
}

/// Which accounts a snapshot read takes.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    All,
    One(&'a str),
    /// Ids from the first (included) to the second (excluded; `None`: to the end).
    Range(&'a str, Option<&'a str>),
}

/// Below this many accounts a snapshot is read in one part.
const PARTS_FROM: i64 = 20_000;

impl Snapshot {
    /// The parts' accounts in the order of the parts (ranges of ids, in order), custom domains
    /// by host as a whole read gives them.
    fn joined(parts: Vec<Snapshot>) -> Snapshot {
        let mut whole = Snapshot::default();
        for part in parts {
            whole.accounts.extend(part.accounts);
            whole.origins.extend(part.origins);
            whole.endpoints.extend(part.endpoints);
            whole.domains.extend(part.domains);
            whole
                .named_transformations
                .extend(part.named_transformations);
            whole
                .accounts_with_private_files
                .extend(part.accounts_with_private_files);
        }
        whole.domains.sort_by(|a, b| a.host.cmp(&b.host));
        whole
    }
}

/// A range of accounts a snapshot is read in ([`Store::snapshot_parts`]).
#[derive(Debug, Clone)]
pub struct SnapshotPart {
    /// The first account id (included; empty: from the start).
    from: String,
    /// The first account id after it (`None`: to the end).
    to: Option<String>,
}

impl Store {
    /// Loads everything delivery needs, decrypting secrets: the parts of
    /// [`Store::snapshot_parts`] read at once and joined.
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let parts = self.snapshot_parts().await?;
        let reads = parts.iter().map(|part| self.snapshot_part(part));
        Ok(Snapshot::joined(
            futures::future::try_join_all(reads).await?,
        ))
    }

    /// The ranges of accounts a whole snapshot is read in, in order: one with few accounts, one
    /// per connection the backend reads with at once with many. Each part is read in one read
    /// transaction ([`Store::snapshot_part`]), a consistent view of its accounts even while
    /// writers work; a change committed between two parts' reads is a change after the
    /// snapshot, which the caller applies anyway (it rebuilds the accounts the change touched).
    pub async fn snapshot_parts(&self) -> Result<Vec<SnapshotPart>, StoreError> {
        let count = self.account_count().await?;
        let parts = match count < PARTS_FROM {
            true => 1,
            false => self.backend().snapshot_parts(),
        };
        self.parts_of(count, parts).await
    }

    /// The accounts in `parts` ranges of about as many accounts each (fewer when there are
    /// fewer accounts), in order of their ids.
    pub async fn snapshot_in_parts(&self, parts: usize) -> Result<Vec<SnapshotPart>, StoreError> {
        let count = self.account_count().await?;
        self.parts_of(count, parts).await
    }

    /// [`Store::snapshot_in_parts`] of `count` accounts.
    async fn parts_of(&self, count: i64, parts: usize) -> Result<Vec<SnapshotPart>, StoreError> {
        let parts = parts.max(1) as i64;
        let mut bounds: Vec<String> = Vec::new();
        for part in 1..parts {
            let offset = count * part / parts;
            if offset == 0 {
                continue;
            }
            let id: String = sqlx::query("SELECT id FROM accounts ORDER BY id LIMIT 1 OFFSET $1")
                .bind(offset)
                .fetch_one(self.pool())
                .await?
                .try_get("id")?;
            if bounds.last() != Some(&id) {
                bounds.push(id);
            }
        }
        let starts: Vec<String> = std::iter::once(String::new())
            .chain(bounds.iter().cloned())
            .collect();
        let ends = bounds.into_iter().map(Some).chain([None]);
        Ok(starts
            .into_iter()
            .zip(ends)
            .map(|(from, to)| SnapshotPart { from, to })
            .collect())
    }

    async fn account_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT count(*) AS n FROM accounts")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }

    /// What delivery needs of the accounts of `part`.
    pub async fn snapshot_part(&self, part: &SnapshotPart) -> Result<Snapshot, StoreError> {
        match (part.from.as_str(), &part.to) {
            ("", None) => self.snapshot_where(Scope::All).await,
            (from, to) => self.snapshot_where(Scope::Range(from, to.as_deref())).await,
        }
    }

    /// What delivery needs of one account (an account that does not exist: an empty snapshot).
    pub async fn snapshot_of(&self, account: &str) -> Result<Snapshot, StoreError> {
        self.snapshot_where(Scope::One(account)).await
    }

    async fn snapshot_where(&self, account: Scope<'_>) -> Result<Snapshot, StoreError> {
        let backend = self.backend();
        let mut tx = self.pool().begin_with(backend.begin_snapshot()).await?;
        let (accounts, accounts_with_private_files) = self.load_accounts(&mut tx, account).await?;
        let snapshot = Snapshot {
            accounts,
            origins: self.load_origins(&mut tx, account).await?,
            endpoints: load_endpoints(&mut tx, backend, account).await?,
            domains: load_domains(&mut tx, account).await?,
            named_transformations: load_named_transformations(&mut tx, account).await?,
            accounts_with_private_files,
        };
        tx.commit().await?;
        Ok(snapshot)
    }

    async fn load_accounts(
        &self,
        tx: &mut AnyConnection,
        account: Scope<'_>,
    ) -> Result<(Vec<AccountRecord>, Vec<String>), StoreError> {
        let sql = format!(
            "SELECT id, private_key_enc, public_key, hide_origin_header, use_best_format, \
             auto_avif, CAST(CASE WHEN EXISTS (SELECT 1 FROM files WHERE \
             files.account_id = accounts.id AND files.is_private = 1) THEN 1 ELSE 0 END \
             AS BIGINT) AS has_private_files FROM accounts {} ORDER BY id",
            only(account, "id")
        );
        let mut accounts = Vec::new();
        let mut with_private_files = Vec::new();
        for_each_row(bound(&sql, account), tx, |row| {
            if row.try_get::<i64, _>("has_private_files")? != 0 {
                with_private_files.push(row.try_get("id")?);
            }
            accounts.push(AccountRecord {
                id: row.try_get("id")?,
                private_key: self.secrets().open(row.try_get("private_key_enc")?)?,
                public_key: row.try_get("public_key")?,
                settings: AccountSettings {
                    hide_origin_header: row.try_get::<i64, _>("hide_origin_header")? != 0,
                    use_best_format: row
                        .try_get::<Option<i64>, _>("use_best_format")?
                        .map(|v| v != 0),
                    auto_avif: row.try_get::<Option<i64>, _>("auto_avif")?.map(|v| v != 0),
                },
            });
            Ok(())
        })
        .await?;
        Ok((accounts, with_private_files))
    }

    async fn load_origins(
        &self,
        tx: &mut AnyConnection,
        account: Scope<'_>,
    ) -> Result<Vec<OriginRecord>, StoreError> {
        let sql = format!(
            "SELECT {ORIGIN_COLUMNS} FROM origins {} ORDER BY created_at, id",
            only(account, "account_id")
        );
        let mut origins = Vec::new();
        for_each_row(bound(&sql, account), tx, |row| {
            origins.push(self.origin_from_row(row)?);
            Ok(())
        })
        .await?;
        Ok(origins)
    }

    /// An origin from a row of [`ORIGIN_COLUMNS`], its secrets opened.
    pub(crate) fn origin_from_row(&self, row: &AnyRow) -> Result<OriginRecord, StoreError> {
        let mut spec: OriginSpec = serde_json::from_str(row.try_get("spec_json")?)
            .map_err(|e| StoreError::Corrupt(format!("origin spec: {e}")))?;
        if let Some(sealed) = row.try_get::<Option<String>, _>("secrets_enc")? {
            let json = self.secrets().open(&sealed)?;
            let secrets: BTreeMap<String, String> = serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("origin secrets: {e}")))?;
            spec.put_secrets(secrets);
        }
        Ok(OriginRecord {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            name: row.try_get("name")?,
            spec,
            managed_by: row.try_get("managed_by")?,
        })
    }
}

/// The `WHERE` clause on `column` that keeps the accounts of `scope` (nothing for all).
fn only(scope: Scope<'_>, column: &str) -> String {
    match scope {
        Scope::All => String::new(),
        Scope::One(_) => format!("WHERE {column} = $1"),
        Scope::Range(_, Some(_)) => format!("WHERE {column} >= $1 AND {column} < $2"),
        Scope::Range(_, None) => format!("WHERE {column} >= $1"),
    }
}

/// A query of SQL built by [`only`], with the scope's ids bound.
fn bound<'q>(
    sql: &str,
    scope: Scope<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let query = sqlx::query(crate::audited(sql.to_string()));
    match scope {
        Scope::All => query,
        Scope::One(account) => query.bind(account),
        Scope::Range(from, Some(to)) => query.bind(from).bind(to),
        Scope::Range(from, None) => query.bind(from),
    }
}

/// One endpoint as [`load_endpoints`] reads it from the database's JSON: an array of id,
/// identifier, description, default image, signed URLs only, named transformations only,
/// managed by, and the origins' ids in order.
#[derive(serde::Deserialize)]
struct EndpointRow(
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Vec<String>,
);

async fn load_endpoints(
    tx: &mut AnyConnection,
    backend: crate::backend::Backend,
    account: Scope<'_>,
) -> Result<Vec<EndpointRecord>, StoreError> {
    // One row per account, its endpoints (each with its origins in order) as a JSON array made
    // by the database: with many tenants, reading row by row was most of a start.
    let sql = backend.endpoints_as_json(&only(account, "account_id"));
    let mut endpoints = Vec::new();
    for_each_row(bound(&sql, account), tx, |row| {
        let account_id: String = row.try_get("account_id")?;
        let list: &str = row.try_get("list")?;
        let parsed: Vec<EndpointRow> = serde_json::from_str(list)
            .map_err(|e| StoreError::Corrupt(format!("endpoints of {account_id}: {e}")))?;
        let first = endpoints.len();
        endpoints.extend(parsed.into_iter().map(|e| EndpointRecord {
            id: e.0,
            account_id: account_id.clone(),
            identifier: e.1,
            description: e.2,
            default_image: e.3,
            signed_urls_only: e.4 != 0,
            named_transformations_only: e.5 != 0,
            managed_by: e.6,
            origin_ids: e.7,
        }));
        endpoints[first..].sort_by(|a, b| a.identifier.cmp(&b.identifier));
        Ok(())
    })
    .await?;
    Ok(endpoints)
}

/// Runs `query` and hands each row to `take` as it arrives: the rows are never all held at
/// once (with many tenants, holding them was a large part of a start's memory).
async fn for_each_row(
    query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    tx: &mut AnyConnection,
    mut take: impl FnMut(&AnyRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    use futures::TryStreamExt;
    let mut rows = query.fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        take(&row)?;
    }
    Ok(())
}

async fn load_domains(
    tx: &mut AnyConnection,
    account: Scope<'_>,
) -> Result<Vec<DomainRecord>, StoreError> {
    let sql = format!(
        "SELECT d.host, d.account_id, e.identifier FROM custom_domains d \
         LEFT JOIN endpoints e ON e.id = d.endpoint_id {} ORDER BY d.host",
        only(account, "d.account_id")
    );
    let rows = bound(&sql, account).fetch_all(&mut *tx).await?;
    rows.iter()
        .map(|row| {
            Ok(DomainRecord {
                host: row.try_get("host")?,
                account_id: row.try_get("account_id")?,
                endpoint_identifier: row.try_get("identifier")?,
            })
        })
        .collect()
}

async fn load_named_transformations(
    tx: &mut AnyConnection,
    account: Scope<'_>,
) -> Result<Vec<NamedTransformation>, StoreError> {
    let sql = format!(
        "SELECT {NAMED_COLUMNS} FROM named_transformations {} ORDER BY account_id, name",
        only(account, "account_id")
    );
    let rows = bound(&sql, account).fetch_all(&mut *tx).await?;
    rows.iter().map(named_from_row).collect()
}

pub(crate) const ORIGIN_COLUMNS: &str = "id, account_id, name, spec_json, secrets_enc, managed_by";
pub(crate) const ENDPOINT_COLUMNS: &str = "id, account_id, identifier, description, \
    default_image, signed_urls_only, named_transformations_only, managed_by";
pub(crate) const NAMED_COLUMNS: &str =
    "id, account_id, name, transformation, enabled, created_at, managed_by";

/// An endpoint from a row of [`ENDPOINT_COLUMNS`] and `origins`, its origins' ids in order as
/// a JSON array (`Backend::endpoint_origins_json`).
pub(crate) fn endpoint_from_row(row: &AnyRow) -> Result<EndpointRecord, StoreError> {
    let origins: &str = row.try_get("origins")?;
    Ok(EndpointRecord {
        origin_ids: serde_json::from_str(origins)
            .map_err(|e| StoreError::Corrupt(format!("an endpoint's origins: {e}")))?,
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        identifier: row.try_get("identifier")?,
        description: row.try_get("description")?,
        default_image: row.try_get("default_image")?,
        signed_urls_only: row.try_get::<i64, _>("signed_urls_only")? != 0,
        named_transformations_only: row.try_get::<i64, _>("named_transformations_only")? != 0,
        managed_by: row.try_get("managed_by")?,
    })
}

/// A named transformation from a row of [`NAMED_COLUMNS`].
pub(crate) fn named_from_row(row: &AnyRow) -> Result<NamedTransformation, StoreError> {
    Ok(NamedTransformation {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        transformation: row.try_get("transformation")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_at: row.try_get("created_at")?,
        managed_by: row.try_get("managed_by")?,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_custom_coordinates;

    #[test]
    fn custom_coordinates_are_four_whole_numbers() {
        assert_eq!(
            parse_custom_coordinates("10,20,30,40"),
            Some([10, 20, 30, 40])
        );
        assert_eq!(parse_custom_coordinates(" 1, 2 ,3,4 "), Some([1, 2, 3, 4]));
        for bad in ["", "1,2,3", "1,2,3,4,5", "1,2,3,x", "1,2,-3,4", "1.5,2,3,4"] {
            assert_eq!(parse_custom_coordinates(bad), None, "{bad:?}");
        }
    }
}
