//! Row helpers the entity writes share: an account row with its default endpoint, a custom
//! domain row, an origin spec sealed for storage, an endpoint's id and its ordered origins.
//! Names are checked before they get here (`pixelway_control::validate`).

use crate::{AccountSettings, Store, StoreError, new_id, now_unix};
use pixelway_origins::OriginSpec;
use sqlx::Row;

impl Store {
    /// Creates or updates an account; a new account gets its default endpoint.
    pub(crate) async fn upsert_account_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        id: &str,
        private_key: &str,
        public_key: &str,
        settings: &AccountSettings,
    ) -> Result<(), StoreError> {
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

    /// Maps a custom domain to an account's default endpoint (alias) or to one endpoint.
    pub(crate) async fn upsert_domain_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        host: &str,
        account: &str,
        endpoint_identifier: Option<&str>,
    ) -> Result<(), StoreError> {
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
    tx: &mut sqlx::AnyConnection,
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
    tx: &mut sqlx::AnyConnection,
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
