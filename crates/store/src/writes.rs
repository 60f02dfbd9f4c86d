//! Creating and updating accounts, origins, endpoints, custom domains and named transformations.
//! Every write is an upsert keyed by the entity's natural name, so the entities a config file
//! declares can be applied at every start-up. Every name is checked by [`crate::validate`]
//! first, whichever surface the write came from.

use crate::{AccountSettings, EndpointInput, Store, StoreError, new_id, now_unix, validate};
use pixelway_origins::OriginSpec;
use sqlx::Row;

impl Store {
    /// Creates or updates an account; a new account gets its default endpoint.
    pub(crate) async fn upsert_account_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        id: &str,
        private_key: &str,
        public_key: &str,
        settings: &AccountSettings,
    ) -> Result<(), StoreError> {
        validate::account_id(id)?;
        let sealed = self.secrets().seal(private_key);
        sqlx::query(
            "INSERT INTO accounts (id, private_key_enc, public_key, hide_origin_header, \
             use_best_format, auto_avif, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET \
             private_key_enc = excluded.private_key_enc, public_key = excluded.public_key, \
             hide_origin_header = excluded.hide_origin_header, \
             use_best_format = excluded.use_best_format, auto_avif = excluded.auto_avif",
        )
        .bind(id)
        .bind(sealed)
        .bind(public_key)
        .bind(settings.hide_origin_header as i64)
        .bind(settings.use_best_format.map(i64::from))
        .bind(settings.auto_avif.map(i64::from))
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO endpoints (id, account_id, identifier, created_at) VALUES ($1, $2, '', $3) \
             ON CONFLICT (account_id, identifier) DO NOTHING",
        )
        .bind(new_id())
        .bind(id)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Creates or updates an origin by name; returns its id. The first origin an account adds
    /// joins its default endpoint.
    pub(crate) async fn upsert_origin_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        account: &str,
        name: &str,
        spec: &OriginSpec,
    ) -> Result<String, StoreError> {
        validate::origin_name(name)?;
        let SealedSpec {
            kind,
            spec_json,
            sealed,
        } = self.seal_spec(spec)?;
        let existing: Option<String> =
            sqlx::query("SELECT id FROM origins WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get("id"))
                .transpose()?;
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE origins SET kind = $1, spec_json = $2, secrets_enc = $3 WHERE id = $4",
                )
                .bind(&kind)
                .bind(&spec_json)
                .bind(&sealed)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let count: i64 =
                    sqlx::query("SELECT COUNT(*) AS n FROM origins WHERE account_id = $1")
                        .bind(account)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("n")?;
                let id = new_id();
                sqlx::query(
                    "INSERT INTO origins (id, account_id, name, kind, spec_json, secrets_enc, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(account)
                .bind(name)
                .bind(&kind)
                .bind(&spec_json)
                .bind(&sealed)
                .bind(now_unix())
                .execute(&mut *tx)
                .await?;
                if count == 0 {
                    let default = endpoint_id(&mut *tx, account, "").await?;
                    set_endpoint_origins(&mut *tx, &default, std::slice::from_ref(&id)).await?;
                }
                id
            }
        };
        Ok(id)
    }

    /// Creates or updates an endpoint by identifier, with its origins in order (by name).
    pub(crate) async fn upsert_endpoint_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        account: &str,
        input: &EndpointInput,
    ) -> Result<String, StoreError> {
        validate::endpoint_identifier(&input.identifier)?;
        let mut origin_ids = Vec::with_capacity(input.origin_names.len());
        for name in &input.origin_names {
            let row = sqlx::query("SELECT id FROM origins WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "origin",
                    name: name.clone(),
                })?;
            origin_ids.push(row.try_get::<String, _>("id")?);
        }
        sqlx::query(
            "INSERT INTO endpoints (id, account_id, identifier, description, default_image, \
             signed_urls_only, named_transformations_only, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, identifier) DO UPDATE SET \
             description = excluded.description, default_image = excluded.default_image, \
             signed_urls_only = excluded.signed_urls_only, \
             named_transformations_only = excluded.named_transformations_only",
        )
        .bind(new_id())
        .bind(account)
        .bind(&input.identifier)
        .bind(&input.description)
        .bind(&input.default_image)
        .bind(input.signed_urls_only as i64)
        .bind(input.named_transformations_only as i64)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        let id = endpoint_id(&mut *tx, account, &input.identifier).await?;
        set_endpoint_origins(&mut *tx, &id, &origin_ids).await?;
        Ok(id)
    }

    /// Maps a custom domain to an account's default endpoint (alias) or to one endpoint.
    pub(crate) async fn upsert_domain_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        host: &str,
        account: &str,
        endpoint_identifier: Option<&str>,
    ) -> Result<(), StoreError> {
        validate::domain_host(host)?;
        let host = host.to_ascii_lowercase();
        let host = host.as_str();
        let endpoint = match endpoint_identifier {
            Some(identifier) => Some(endpoint_id(&mut *tx, account, identifier).await?),
            None => None,
        };
        sqlx::query(
            "INSERT INTO custom_domains (host, account_id, endpoint_id) VALUES ($1, $2, $3) \
             ON CONFLICT (host) DO UPDATE SET account_id = excluded.account_id, \
             endpoint_id = excluded.endpoint_id",
        )
        .bind(host.to_ascii_lowercase())
        .bind(account)
        .bind(endpoint)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Creates or updates a named transformation.
    pub(crate) async fn upsert_named_transformation_in(
        &self,
        tx: &mut sqlx::SqliteConnection,
        account: &str,
        name: &str,
        transformation: &str,
    ) -> Result<(), StoreError> {
        validate::transformation_name(name)?;
        sqlx::query(
            "INSERT INTO named_transformations (id, account_id, name, transformation, enabled, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) \
             ON CONFLICT (account_id, name) DO UPDATE SET transformation = excluded.transformation",
        )
        .bind(new_id())
        .bind(account)
        .bind(name)
        .bind(transformation)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Creates or updates an account; a new account gets its default endpoint.
    pub async fn upsert_account(
        &self,

        id: &str,
        private_key: &str,
        public_key: &str,
        settings: &AccountSettings,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        self.upsert_account_in(&mut tx, id, private_key, public_key, settings)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates or updates an origin by name; returns its id. The first origin an account adds
    /// joins its default endpoint.
    pub async fn upsert_origin(
        &self,

        account: &str,
        name: &str,
        spec: &OriginSpec,
    ) -> Result<String, StoreError> {
        let mut tx = self.write_transaction().await?;
        let out = self.upsert_origin_in(&mut tx, account, name, spec).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Creates or updates an endpoint by identifier, with its origins in order (by name).
    pub async fn upsert_endpoint(
        &self,

        account: &str,
        input: &EndpointInput,
    ) -> Result<String, StoreError> {
        let mut tx = self.write_transaction().await?;
        let out = self.upsert_endpoint_in(&mut tx, account, input).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Maps a custom domain to an account's default endpoint (alias) or to one endpoint.
    pub async fn upsert_domain(
        &self,

        host: &str,
        account: &str,
        endpoint_identifier: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        self.upsert_domain_in(&mut tx, host, account, endpoint_identifier)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates or updates a named transformation.
    pub async fn upsert_named_transformation(
        &self,

        account: &str,
        name: &str,
        transformation: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        self.upsert_named_transformation_in(&mut tx, account, name, transformation)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An origin spec as stored: its kind, its JSON without secrets, and the secrets sealed.
pub(crate) struct SealedSpec {
    pub kind: String,
    pub spec_json: String,
    pub sealed: Option<String>,
}

impl Store {
    pub(crate) fn seal_spec(&self, spec: &OriginSpec) -> Result<SealedSpec, StoreError> {
        let mut public = spec.clone();
        let secrets = public.take_secrets();
        let spec_json = serde_json::to_string(&public)
            .map_err(|e| StoreError::Corrupt(format!("origin spec: {e}")))?;
        let sealed = (!secrets.is_empty()).then(|| {
            self.secrets()
                .seal(&serde_json::to_string(&secrets).unwrap_or_default())
        });
        let kind = serde_json::to_value(spec.kind())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Ok(SealedSpec {
            kind,
            spec_json,
            sealed,
        })
    }
}

pub(crate) async fn endpoint_id(
    tx: &mut sqlx::SqliteConnection,
    account: &str,
    identifier: &str,
) -> Result<String, StoreError> {
    sqlx::query("SELECT id FROM endpoints WHERE account_id = $1 AND identifier = $2")
        .bind(account)
        .bind(identifier)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "endpoint",
            name: format!("{account}/{identifier}"),
        })?
        .try_get("id")
        .map_err(Into::into)
}

pub(crate) async fn set_endpoint_origins(
    tx: &mut sqlx::SqliteConnection,
    endpoint: &str,
    origin_ids: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM endpoint_origins WHERE endpoint_id = $1")
        .bind(endpoint)
        .execute(&mut *tx)
        .await?;
    for (position, origin) in origin_ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO endpoint_origins (endpoint_id, position, origin_id) VALUES ($1, $2, $3)",
        )
        .bind(endpoint)
        .bind(position as i64)
        .bind(origin)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
