//! Origins, URL endpoints and named transformations one at a time, by id and within one account,
//! as the management API and the dashboard read and change them. An entity the config file
//! manages is refused ([`StoreError::Managed`], naming its key in the file).

use crate::records::{
    ENDPOINT_COLUMNS, NAMED_COLUMNS, ORIGIN_COLUMNS, endpoint_from_row, named_from_row,
};
use crate::rows::{SealedSpec, set_endpoint_origins};
use crate::{
    EndpointRecord, NamedTransformation, OriginRecord, Store, StoreError, audited, new_id, now_unix,
};
use pixelway_origins::OriginSpec;
use sqlx::Row;

/// An endpoint's fields as the API gives them (origins by id, in order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointFields {
    pub identifier: String,
    pub description: String,
    pub default_image: Option<String>,
    pub signed_urls_only: bool,
    pub named_transformations_only: bool,
    pub origin_ids: Vec<String>,
}

fn managed(what: &'static str, name: &str, key: Option<String>) -> Result<(), StoreError> {
    match key {
        Some(key) => Err(StoreError::Managed {
            what,
            name: name.to_string(),
            key,
        }),
        None => Ok(()),
    }
}

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        name: id.to_string(),
    }
}

impl Store {
    /// An account's origins, oldest first.
    pub async fn origins_of(&self, account: &str) -> Result<Vec<OriginRecord>, StoreError> {
        let rows = sqlx::query(audited(format!(
            "SELECT {ORIGIN_COLUMNS} FROM origins WHERE account_id = $1 ORDER BY created_at, id"
        )))
        .bind(account)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| self.origin_from_row(row)).collect()
    }

    /// Origin `id` of `account`.
    pub async fn origin(&self, account: &str, id: &str) -> Result<OriginRecord, StoreError> {
        let row = sqlx::query(audited(format!(
            "SELECT {ORIGIN_COLUMNS} FROM origins WHERE account_id = $1 AND id = $2"
        )))
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found("origin", id))?;
        self.origin_from_row(&row)
    }

    /// Creates an origin; its name must be new in the account.
    pub async fn create_origin(
        &self,
        account: &str,
        name: &str,
        spec: &OriginSpec,
    ) -> Result<OriginRecord, StoreError> {
        let SealedSpec {
            kind,
            spec_json,
            sealed,
        } = self.seal_spec(spec)?;
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO origins (id, account_id, name, kind, spec_json, secrets_enc, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, name) DO NOTHING",
        )
        .bind(&id)
        .bind(account)
        .bind(name)
        .bind(&kind)
        .bind(&spec_json)
        .bind(&sealed)
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Exists {
                what: "origin",
                name: name.to_string(),
            });
        }
        self.origin(account, &id).await
    }

    /// The seed's rule, "the first origin you add becomes accessible through the default URL
    /// endpoint": when origin `id` is the account's only origin and the account's default
    /// endpoint lists none (and the config file does not manage it), the origin joins it.
    /// One transaction; returns whether it joined.
    pub async fn join_first_origin(&self, account: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_transaction().await?;
        let other = sqlx::query("SELECT 1 FROM origins WHERE account_id = $1 AND id <> $2 LIMIT 1")
            .bind(account)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let default = sqlx::query(
            "SELECT e.id FROM endpoints e WHERE e.account_id = $1 AND e.identifier = '' \
             AND e.managed_by IS NULL \
             AND NOT EXISTS (SELECT 1 FROM endpoint_origins l WHERE l.endpoint_id = e.id)",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?;
        let (None, Some(default)) = (other, default) else {
            return Ok(false);
        };
        let default: String = default.try_get("id")?;
        set_endpoint_origins(&mut tx, &default, &[id.to_string()]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces origin `id`'s name and spec.
    pub async fn update_origin(
        &self,
        account: &str,
        id: &str,
        name: &str,
        spec: &OriginSpec,
    ) -> Result<OriginRecord, StoreError> {
        let current = self.origin(account, id).await?;
        managed("origin", &current.name, current.managed_by)?;
        let SealedSpec {
            kind,
            spec_json,
            sealed,
        } = self.seal_spec(spec)?;
        let mut tx = self.write_transaction().await?;
        let clash =
            sqlx::query("SELECT 1 FROM origins WHERE account_id = $1 AND name = $2 AND id <> $3")
                .bind(account)
                .bind(name)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if clash.is_some() {
            return Err(StoreError::Exists {
                what: "origin",
                name: name.to_string(),
            });
        }
        sqlx::query(
            "UPDATE origins SET name = $1, kind = $2, spec_json = $3, secrets_enc = $4 \
             WHERE account_id = $5 AND id = $6",
        )
        .bind(name)
        .bind(&kind)
        .bind(&spec_json)
        .bind(&sealed)
        .bind(account)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.origin(account, id).await
    }

    /// Deletes origin `id`; refused while an endpoint uses it.
    pub async fn delete_origin(&self, account: &str, id: &str) -> Result<(), StoreError> {
        let current = self.origin(account, id).await?;
        managed("origin", &current.name, current.managed_by)?;
        let mut tx = self.write_transaction().await?;
        let users = sqlx::query(
            "SELECT e.identifier FROM endpoint_origins l JOIN endpoints e ON e.id = l.endpoint_id \
             WHERE l.origin_id = $1 ORDER BY e.identifier",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !users.is_empty() {
            let names: Vec<String> = users
                .iter()
                .map(|row| {
                    let identifier: String = row.try_get("identifier").unwrap_or_default();
                    if identifier.is_empty() {
                        "the default endpoint".to_string()
                    } else {
                        format!("endpoint {identifier:?}")
                    }
                })
                .collect();
            return Err(StoreError::InUse {
                what: "origin",
                name: current.name,
                by: names.join(", "),
            });
        }
        sqlx::query("DELETE FROM origins WHERE account_id = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An account's URL endpoints, the default one first.
    pub async fn endpoints_of(&self, account: &str) -> Result<Vec<EndpointRecord>, StoreError> {
        let rows = sqlx::query(audited(format!(
            "SELECT {ENDPOINT_COLUMNS}, {} AS origins FROM endpoints WHERE account_id = $1 \
             ORDER BY identifier",
            self.backend().endpoint_origins_json()
        )))
        .bind(account)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// URL endpoint `id` of `account`.
    pub async fn endpoint(&self, account: &str, id: &str) -> Result<EndpointRecord, StoreError> {
        let row = sqlx::query(audited(format!(
            "SELECT {ENDPOINT_COLUMNS}, {} AS origins FROM endpoints \
             WHERE account_id = $1 AND id = $2",
            self.backend().endpoint_origins_json()
        )))
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found("URL endpoint", id))?;
        endpoint_from_row(&row)
    }

    /// The id of `account`'s default endpoint.
    pub async fn default_endpoint_id(&self, account: &str) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT id FROM endpoints WHERE account_id = $1 AND identifier = ''")
            .bind(account)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| not_found("URL endpoint", "default"))?;
        Ok(row.try_get("id")?)
    }

    /// Creates a URL endpoint; its identifier must be new in the account, its origins the
    /// account's own.
    pub async fn create_endpoint(
        &self,
        account: &str,
        fields: &EndpointFields,
    ) -> Result<EndpointRecord, StoreError> {
        self.save_endpoint(account, None, fields).await
    }

    /// Replaces URL endpoint `id`'s fields.
    pub async fn update_endpoint(
        &self,
        account: &str,
        id: &str,
        fields: &EndpointFields,
    ) -> Result<EndpointRecord, StoreError> {
        self.save_endpoint(account, Some(id), fields).await
    }

    /// Whether endpoint `id` may take `fields` (read in the write's transaction): not the
    /// config file's, and the default endpoint keeps its empty prefix.
    async fn check_endpoint_update(
        tx: &mut sqlx::AnyConnection,
        account: &str,
        id: &str,
        fields: &EndpointFields,
    ) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT identifier, managed_by FROM endpoints WHERE account_id = $1 AND id = $2",
        )
        .bind(account)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found("URL endpoint", id))?;
        let identifier: String = row.try_get("identifier")?;
        managed("URL endpoint", &identifier, row.try_get("managed_by")?)?;
        if identifier.is_empty() && !fields.identifier.is_empty() {
            return Err(crate::Invalid {
                field: "urlPrefix",
                value: fields.identifier.clone(),
                reason: "cannot be set on the default endpoint (its prefix is empty)",
            }
            .into());
        }
        Ok(())
    }

    async fn save_endpoint(
        &self,
        account: &str,
        id: Option<&str>,
        fields: &EndpointFields,
    ) -> Result<EndpointRecord, StoreError> {
        if id.is_none() && fields.identifier.is_empty() {
            return Err(crate::Invalid {
                field: "urlPrefix",
                value: String::new(),
                reason: "is required: the account already has its default endpoint",
            }
            .into());
        }
        let mut tx = self.write_transaction().await?;
        if let Some(id) = id {
            Self::check_endpoint_update(&mut tx, account, id, fields).await?;
        }
        for origin in &fields.origin_ids {
            let owned = sqlx::query("SELECT 1 FROM origins WHERE account_id = $1 AND id = $2")
                .bind(account)
                .bind(origin)
                .fetch_optional(&mut *tx)
                .await?;
            if owned.is_none() {
                return Err(not_found("origin", origin));
            }
        }
        // A prefix the account uses already is refused by the table's unique constraint.
        let taken = |e: sqlx::Error| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Exists {
                what: "URL endpoint",
                name: fields.identifier.clone(),
            },
            _ => e.into(),
        };
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE endpoints SET identifier = $1, description = $2, default_image = $3, \
                     signed_urls_only = $4, named_transformations_only = $5 \
                     WHERE account_id = $6 AND id = $7",
                )
                .bind(&fields.identifier)
                .bind(&fields.description)
                .bind(&fields.default_image)
                .bind(fields.signed_urls_only as i64)
                .bind(fields.named_transformations_only as i64)
                .bind(account)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(taken)?;
                id.to_string()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO endpoints (id, account_id, identifier, description, default_image, \
                     signed_urls_only, named_transformations_only, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&id)
                .bind(account)
                .bind(&fields.identifier)
                .bind(&fields.description)
                .bind(&fields.default_image)
                .bind(fields.signed_urls_only as i64)
                .bind(fields.named_transformations_only as i64)
                .bind(now_unix())
                .execute(&mut *tx)
                .await
                .map_err(taken)?;
                id
            }
        };
        set_endpoint_origins(&mut tx, &id, &fields.origin_ids).await?;
        tx.commit().await?;
        // What was written, as a read would give it (an endpoint written here is the API's).
        Ok(EndpointRecord {
            id,
            account_id: account.to_string(),
            identifier: fields.identifier.clone(),
            description: fields.description.clone(),
            default_image: fields.default_image.clone(),
            signed_urls_only: fields.signed_urls_only,
            named_transformations_only: fields.named_transformations_only,
            origin_ids: fields.origin_ids.clone(),
            managed_by: None,
        })
    }

    /// Deletes URL endpoint `id` (never the default one) and the custom domains mapped to it.
    pub async fn delete_endpoint(&self, account: &str, id: &str) -> Result<(), StoreError> {
        let current = self.endpoint(account, id).await?;
        if current.identifier.is_empty() {
            return Err(crate::Invalid {
                field: "URL endpoint",
                value: "default".into(),
                reason: "is the account's default endpoint and cannot be deleted",
            }
            .into());
        }
        managed("URL endpoint", &current.identifier, current.managed_by)?;
        sqlx::query("DELETE FROM endpoints WHERE account_id = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// An account's named transformations, by name.
    pub async fn named_transformations_of(
        &self,
        account: &str,
    ) -> Result<Vec<NamedTransformation>, StoreError> {
        let rows = sqlx::query(audited(format!(
            "SELECT {NAMED_COLUMNS} FROM named_transformations WHERE account_id = $1 ORDER BY name"
        )))
        .bind(account)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(named_from_row).collect()
    }

    /// Named transformation `id` of `account`.
    pub async fn named_transformation(
        &self,
        account: &str,
        id: &str,
    ) -> Result<NamedTransformation, StoreError> {
        let row = sqlx::query(audited(format!(
            "SELECT {NAMED_COLUMNS} FROM named_transformations WHERE account_id = $1 AND id = $2"
        )))
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found("named transformation", id))?;
        named_from_row(&row)
    }

    /// Creates or changes a named transformation (`id` `None`: a new one, its name new in the
    /// account). The transformation text is checked by the caller.
    pub async fn save_named_transformation(
        &self,
        account: &str,
        id: Option<&str>,
        name: &str,
        transformation: &str,
        enabled: bool,
    ) -> Result<NamedTransformation, StoreError> {
        if let Some(id) = id {
            let current = self.named_transformation(account, id).await?;
            managed("named transformation", &current.name, current.managed_by)?;
        }
        let mut tx = self.write_transaction().await?;
        let clash = sqlx::query(
            "SELECT 1 FROM named_transformations WHERE account_id = $1 AND name = $2 AND id <> $3",
        )
        .bind(account)
        .bind(name)
        .bind(id.unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?;
        if clash.is_some() {
            return Err(StoreError::Exists {
                what: "named transformation",
                name: name.to_string(),
            });
        }
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE named_transformations SET name = $1, transformation = $2, enabled = $3 \
                     WHERE account_id = $4 AND id = $5",
                )
                .bind(name)
                .bind(transformation)
                .bind(enabled as i64)
                .bind(account)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id.to_string()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO named_transformations (id, account_id, name, transformation, \
                     enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(account)
                .bind(name)
                .bind(transformation)
                .bind(enabled as i64)
                .bind(now_unix())
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        tx.commit().await?;
        self.named_transformation(account, &id).await
    }

    /// Deletes named transformation `id`.
    pub async fn delete_named_transformation(
        &self,
        account: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let current = self.named_transformation(account, id).await?;
        managed("named transformation", &current.name, current.managed_by)?;
        sqlx::query("DELETE FROM named_transformations WHERE account_id = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

const DOMAIN_COLUMNS: &str = "d.host, d.account_id, e.identifier, d.managed_by";

/// A domain from a row of [`DOMAIN_COLUMNS`], with its provenance.
fn domain_from_row(
    row: &sqlx::any::AnyRow,
) -> Result<(crate::DomainRecord, Option<String>), StoreError> {
    Ok((
        crate::DomainRecord {
            host: row.try_get("host")?,
            account_id: row.try_get("account_id")?,
            endpoint_identifier: row.try_get("identifier")?,
        },
        row.try_get("managed_by")?,
    ))
}

fn account_summary_from_row(row: &sqlx::any::AnyRow) -> Result<AccountSummary, StoreError> {
    Ok(AccountSummary {
        id: row.try_get("id")?,
        public_key: row.try_get("public_key")?,
        managed_by: row.try_get("managed_by")?,
    })
}

/// An account as the operator sees it (no keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: String,
    pub public_key: String,
    pub managed_by: Option<String>,
}

impl Store {
    /// Every account, by id.
    pub async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        let rows = sqlx::query("SELECT id, public_key, managed_by FROM accounts ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(account_summary_from_row).collect()
    }

    /// At most `limit` accounts whose id contains `text`, by id (a page of the operator's list).
    pub async fn accounts_matching(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<AccountSummary>, StoreError> {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(
            "SELECT id, public_key, managed_by FROM accounts WHERE id LIKE $1 ESCAPE '\\' \
             ORDER BY id LIMIT $2",
        )
        .bind(pattern)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(account_summary_from_row).collect()
    }

    async fn account_summary(&self, id: &str) -> Result<AccountSummary, StoreError> {
        let row = sqlx::query("SELECT id, public_key, managed_by FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| not_found("account", id))?;
        account_summary_from_row(&row)
    }

    /// Creates an account with its default endpoint; refused when the id is taken.
    pub async fn create_account(
        &self,
        id: &str,
        private_key: &str,
        public_key: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        // Ids are unique regardless of case: `Shop` beside `shop` is two names for a person
        // reading URLs, logs and the dashboard.
        let taken = sqlx::query("SELECT id FROM accounts WHERE lower(id) = lower($1)")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(taken) = taken {
            let taken: String = taken.try_get("id")?;
            return Err(StoreError::Exists {
                what: "account",
                name: taken,
            });
        }
        self.upsert_account_in(&mut tx, id, private_key, public_key, &Default::default())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives an account new keys (its old signatures stop verifying).
    pub async fn rotate_account_keys(
        &self,
        id: &str,
        private_key: &str,
        public_key: &str,
    ) -> Result<(), StoreError> {
        let current = self.account_summary(id).await?;
        managed("account", id, current.managed_by)?;
        sqlx::query("UPDATE accounts SET private_key_enc = $1, public_key = $2 WHERE id = $3")
            .bind(self.secrets().seal(private_key))
            .bind(public_key)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes an account and everything of it in the store (origins, endpoints, domains,
    /// named transformations, file records, purges).
    pub async fn delete_account(&self, id: &str) -> Result<(), StoreError> {
        let current = self.account_summary(id).await?;
        managed("account", id, current.managed_by)?;
        sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every custom domain with its account and endpoint identifier (`None`: alias of the
    /// default endpoint) and provenance.
    pub async fn domains(&self) -> Result<Vec<(crate::DomainRecord, Option<String>)>, StoreError> {
        let rows = sqlx::query(audited(format!(
            "SELECT {DOMAIN_COLUMNS} FROM custom_domains d \
             LEFT JOIN endpoints e ON e.id = d.endpoint_id ORDER BY d.host"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(domain_from_row).collect()
    }

    /// One custom domain (any case) with its provenance, if it is mapped.
    pub async fn domain(
        &self,
        host: &str,
    ) -> Result<Option<(crate::DomainRecord, Option<String>)>, StoreError> {
        let row = sqlx::query(audited(format!(
            "SELECT {DOMAIN_COLUMNS} FROM custom_domains d \
             LEFT JOIN endpoints e ON e.id = d.endpoint_id WHERE d.host = $1"
        )))
        .bind(host.to_ascii_lowercase())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(domain_from_row).transpose()
    }

    /// Maps (or re-maps) a custom domain made through the API; a domain the config file
    /// manages is refused.
    pub async fn map_domain(
        &self,
        host: &str,
        account: &str,
        endpoint_identifier: Option<&str>,
    ) -> Result<(), StoreError> {
        let host = host.to_ascii_lowercase();
        if let Some((_, Some(key))) = self.domain(&host).await? {
            return Err(StoreError::Managed {
                what: "custom domain",
                name: host,
                key,
            });
        }
        self.account_summary(account).await?;
        let mut tx = self.write_transaction().await?;
        self.upsert_domain_in(&mut tx, &host, account, endpoint_identifier)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a custom domain made through the API.
    pub async fn unmap_domain(&self, host: &str) -> Result<(), StoreError> {
        let host = host.to_ascii_lowercase();
        let (_, managed_by) = self
            .domain(&host)
            .await?
            .ok_or_else(|| not_found("custom domain", &host))?;
        managed("custom domain", &host, managed_by)?;
        sqlx::query("DELETE FROM custom_domains WHERE host = $1")
            .bind(&host)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
