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

impl Store {
    /// Loads everything delivery needs, decrypting secrets, in one read transaction (a
    /// consistent view even while writers work).
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.snapshot_where(None).await
    }

    /// What delivery needs of one account (an account that does not exist: an empty snapshot).
    pub async fn snapshot_of(&self, account: &str) -> Result<Snapshot, StoreError> {
        self.snapshot_where(Some(account)).await
    }

    async fn snapshot_where(&self, account: Option<&str>) -> Result<Snapshot, StoreError> {
        let backend = self.backend();
        let mut tx = self.pool().begin_with(backend.begin_snapshot()).await?;
        let snapshot = Snapshot {
            accounts: self.load_accounts(&mut tx, account).await?,
            origins: self.load_origins(&mut tx, account).await?,
            endpoints: load_endpoints(&mut tx, backend, account).await?,
            domains: load_domains(&mut tx, account).await?,
            named_transformations: load_named_transformations(&mut tx, account).await?,
            accounts_with_private_files: load_accounts_with_private_files(&mut tx, account).await?,
        };
        tx.commit().await?;
        Ok(snapshot)
    }

    async fn load_accounts(
        &self,
        tx: &mut AnyConnection,
        account: Option<&str>,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        let sql = format!(
            "SELECT id, private_key_enc, public_key, hide_origin_header, use_best_format, \
             auto_avif FROM accounts {} ORDER BY id",
            only(account, "id")
        );
        let rows = bound(&sql, account).fetch_all(&mut *tx).await?;
        rows.iter()
            .map(|row| {
                Ok(AccountRecord {
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
                })
            })
            .collect()
    }

    async fn load_origins(
        &self,
        tx: &mut AnyConnection,
        account: Option<&str>,
    ) -> Result<Vec<OriginRecord>, StoreError> {
        let sql = format!(
            "SELECT {ORIGIN_COLUMNS} FROM origins {} ORDER BY created_at, id",
            only(account, "account_id")
        );
        let rows = bound(&sql, account).fetch_all(&mut *tx).await?;
        rows.iter().map(|row| self.origin_from_row(row)).collect()
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

/// `WHERE {column} = $1` when loading one account, nothing when loading all.
fn only(account: Option<&str>, column: &str) -> String {
    match account {
        Some(_) => format!("WHERE {column} = $1"),
        None => String::new(),
    }
}

/// A query of SQL built by [`only`], with the account bound when there is one.
fn bound<'q>(
    sql: &str,
    account: Option<&'q str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let query = sqlx::query(crate::audited(sql.to_string()));
    match account {
        Some(account) => query.bind(account),
        None => query,
    }
}

/// One endpoint as [`load_endpoints`] reads it from the database's JSON.
#[derive(serde::Deserialize)]
struct EndpointRow {
    id: String,
    identifier: String,
    description: String,
    default_image: Option<String>,
    signed_urls_only: i64,
    named_transformations_only: i64,
    managed_by: Option<String>,
    origins: Vec<String>,
}

async fn load_endpoints(
    tx: &mut AnyConnection,
    backend: crate::backend::Backend,
    account: Option<&str>,
) -> Result<Vec<EndpointRecord>, StoreError> {
    // One row per account, its endpoints (each with its origins in order) as a JSON array made
    // by the database: with many tenants, reading row by row was most of a start.
    let sql = backend.endpoints_as_json(&only(account, "account_id"));
    let rows = bound(&sql, account).fetch_all(&mut *tx).await?;
    let mut endpoints = Vec::new();
    for row in &rows {
        let account_id: String = row.try_get("account_id")?;
        let list: String = row.try_get("list")?;
        let parsed: Vec<EndpointRow> = serde_json::from_str(&list)
            .map_err(|e| StoreError::Corrupt(format!("endpoints of {account_id}: {e}")))?;
        let mut parsed: Vec<EndpointRecord> = parsed
            .into_iter()
            .map(|e| EndpointRecord {
                id: e.id,
                account_id: account_id.clone(),
                identifier: e.identifier,
                description: e.description,
                default_image: e.default_image,
                signed_urls_only: e.signed_urls_only != 0,
                named_transformations_only: e.named_transformations_only != 0,
                origin_ids: e.origins,
                managed_by: e.managed_by,
            })
            .collect();
        parsed.sort_by(|a, b| a.identifier.cmp(&b.identifier));
        endpoints.extend(parsed);
    }
    Ok(endpoints)
}

async fn load_domains(
    tx: &mut AnyConnection,
    account: Option<&str>,
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
    account: Option<&str>,
) -> Result<Vec<NamedTransformation>, StoreError> {
    let sql = format!(
        "SELECT {NAMED_COLUMNS} FROM named_transformations {} ORDER BY account_id, name",
        only(account, "account_id")
    );
    let rows = bound(&sql, account).fetch_all(&mut *tx).await?;
    rows.iter().map(named_from_row).collect()
}

/// The accounts that have a private file.
async fn load_accounts_with_private_files(
    tx: &mut AnyConnection,
    account: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let sql = match account {
        Some(_) => "SELECT DISTINCT account_id FROM files WHERE account_id = $1 AND is_private = 1",
        None => "SELECT DISTINCT account_id FROM files WHERE is_private = 1",
    };
    let rows = bound(sql, account).fetch_all(&mut *tx).await?;
    rows.iter()
        .map(|row| row.try_get("account_id").map_err(Into::into))
        .collect()
}

pub(crate) const ORIGIN_COLUMNS: &str = "id, account_id, name, spec_json, secrets_enc, managed_by";
pub(crate) const ENDPOINT_COLUMNS: &str = "id, account_id, identifier, description, \
    default_image, signed_urls_only, named_transformations_only, managed_by";
pub(crate) const NAMED_COLUMNS: &str =
    "id, account_id, name, transformation, enabled, created_at, managed_by";

/// An endpoint from a row of [`ENDPOINT_COLUMNS`] and its origins in order.
pub(crate) fn endpoint_from_row(
    row: &AnyRow,
    origin_ids: Vec<String>,
) -> Result<EndpointRecord, StoreError> {
    Ok(EndpointRecord {
        origin_ids,
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
