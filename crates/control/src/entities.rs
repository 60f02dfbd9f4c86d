//! Changes to an account's entities: the account itself (operator), its origins, URL endpoints
//! and named transformations, and custom domains (operator). Each method validates, writes,
//! and puts the change on the delivery path before it returns.

use crate::{Control, ControlError, validate};
use pixelway_origins::OriginSpec;
use pixelway_store::{
    Applied, DeclaredAccount, EndpointFields, EndpointRecord, NamedTransformation, OriginRecord,
    StoreError,
};

/// A new account's keys (shown once).
#[derive(Debug, Clone)]
pub struct AccountKeys {
    pub private_key: String,
    pub public_key: String,
}

/// The fields of a named transformation that an update changes (`None`: kept).
#[derive(Debug, Clone, Default)]
pub struct NamedChanges {
    pub name: Option<String>,
    pub transformation: Option<String>,
    pub enabled: Option<bool>,
}

/// A custom domain the config file declares: host, account, endpoint identifier (`None`: an
/// alias of the default endpoint), and the file's key for it.
pub struct DeclaredDomain<'a> {
    pub host: &'a str,
    pub account: &'a str,
    pub endpoint: Option<&'a str>,
    pub key: String,
}

/// A random key with a readable prefix (`private_…`, `public_…`).
fn new_key(prefix: &str) -> String {
    use rand::Rng;
    let random: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    format!("{prefix}{random}")
}

impl Control {
    /// Creates an account (with its default endpoint and new keys).
    pub async fn create_account(&self, id: &str) -> Result<AccountKeys, ControlError> {
        validate::account_id(id)?;
        let keys = AccountKeys {
            private_key: new_key("private_"),
            public_key: new_key("public_"),
        };
        self.store
            .create_account(id, &keys.private_key, &keys.public_key)
            .await?;
        self.account_changed(id).await?;
        Ok(keys)
    }

    /// Gives an account new keys: URLs signed with the old private key stop working at once.
    pub async fn rotate_keys(&self, id: &str) -> Result<AccountKeys, ControlError> {
        let keys = AccountKeys {
            private_key: new_key("private_"),
            public_key: new_key("public_"),
        };
        self.store
            .rotate_account_keys(id, &keys.private_key, &keys.public_key)
            .await
            .map_err(|e| match e {
                // Says exactly what to change instead (no key in the answer: it would be logged
                // as the refusal's reason).
                StoreError::Managed { key, .. } => ControlError::Conflict(format!(
                    "account {id:?}'s keys come from the config file ({key}): write new \
                     private_key and public_key values there, or into the ${{PIXELWAY_SECRET_…}} \
                     variables the file names for them, and restart; the old keys stop working \
                     at that restart"
                )),
                other => other.into(),
            })?;
        self.account_changed(id).await?;
        Ok(keys)
    }

    /// Deletes an account: its entities, its file records and its Media Library's bytes.
    pub async fn delete_account(&self, id: &str) -> Result<(), ControlError> {
        self.store.delete_account(id).await?;
        self.account_changed(id).await?;
        self.media.remove_account(id).await?;
        Ok(())
    }

    /// Creates an origin; one that could never be built (a malformed URL, a bad key format) is
    /// refused before it is stored, naming the field. The account's first origin joins its
    /// default endpoint ([`pixelway_store::Store::join_first_origin`], the rule the config file follows too).
    pub async fn create_origin(
        &self,
        account: &str,
        name: &str,
        spec: &OriginSpec,
    ) -> Result<OriginRecord, ControlError> {
        self.check_origin(name, spec)?;
        let origin = self
            .store
            .create_origin(account, name, spec)
            .await
            .map_err(|e| ControlError::from(e).in_field("name"))?;
        if self.store.join_first_origin(account, &origin.id).await? {
            tracing::info!(
                account,
                origin = name,
                "the account's first origin joined its default endpoint (/{account}/)"
            );
        }
        self.account_changed(account).await?;
        Ok(origin)
    }

    /// Replaces origin `id` (the caller has merged stored secrets the request left out).
    pub async fn update_origin(
        &self,
        account: &str,
        id: &str,
        name: &str,
        spec: &OriginSpec,
    ) -> Result<OriginRecord, ControlError> {
        self.check_origin(name, spec)?;
        let origin = self
            .store
            .update_origin(account, id, name, spec)
            .await
            .map_err(|e| ControlError::from(e).in_field("name"))?;
        self.account_changed(account).await?;
        Ok(origin)
    }

    /// An origin's name, and a spec that can be built (named by the request's field).
    fn check_origin(&self, name: &str, spec: &OriginSpec) -> Result<(), ControlError> {
        validate::origin_name(name).map_err(|e| ControlError::from(e).in_field("name"))?;
        validate::origin_spec(spec, &self.origins)?;
        match spec.address_refusal(&self.origins.address_policy) {
            Some(refusal) => Err(ControlError::Invalid(refusal)),
            None => Ok(()),
        }
    }

    /// Deletes origin `id`; refused while an endpoint uses it.
    pub async fn delete_origin(&self, account: &str, id: &str) -> Result<(), ControlError> {
        self.store.delete_origin(account, id).await?;
        self.account_changed(account).await
    }

    /// Creates a URL endpoint.
    pub async fn create_endpoint(
        &self,
        account: &str,
        fields: &EndpointFields,
    ) -> Result<EndpointRecord, ControlError> {
        validate::endpoint_fields(fields)?;
        let endpoint = self
            .store
            .create_endpoint(account, fields)
            .await
            .map_err(endpoint_error)?;
        self.account_changed(account).await?;
        Ok(endpoint)
    }

    /// Replaces URL endpoint `id`'s fields (origins in their new order).
    pub async fn update_endpoint(
        &self,
        account: &str,
        id: &str,
        fields: &EndpointFields,
    ) -> Result<EndpointRecord, ControlError> {
        validate::endpoint_fields(fields)?;
        let endpoint = self
            .store
            .update_endpoint(account, id, fields)
            .await
            .map_err(endpoint_error)?;
        self.account_changed(account).await?;
        Ok(endpoint)
    }

    /// Deletes URL endpoint `id` (never the default one) and the domains mapped to it.
    pub async fn delete_endpoint(&self, account: &str, id: &str) -> Result<(), ControlError> {
        self.store.delete_endpoint(account, id).await?;
        self.account_changed(account).await
    }

    /// Creates a named transformation.
    pub async fn create_named(
        &self,
        account: &str,
        name: &str,
        transformation: &str,
        enabled: bool,
    ) -> Result<NamedTransformation, ControlError> {
        validate::transformation_name(name)?;
        validate::transformation_text(transformation)?;
        let named = self
            .store
            .save_named_transformation(account, None, name, transformation, enabled)
            .await?;
        self.account_changed(account).await?;
        Ok(named)
    }

    /// Changes the given fields of named transformation `id`.
    pub async fn update_named(
        &self,
        account: &str,
        id: &str,
        changes: NamedChanges,
    ) -> Result<NamedTransformation, ControlError> {
        let current = self.store.named_transformation(account, id).await?;
        let name = changes.name.unwrap_or(current.name);
        let transformation = changes.transformation.unwrap_or(current.transformation);
        validate::transformation_name(&name)?;
        validate::transformation_text(&transformation)?;
        let named = self
            .store
            .save_named_transformation(
                account,
                Some(id),
                &name,
                &transformation,
                changes.enabled.unwrap_or(current.enabled),
            )
            .await?;
        self.account_changed(account).await?;
        Ok(named)
    }

    /// Deletes named transformation `id`.
    pub async fn delete_named(&self, account: &str, id: &str) -> Result<(), ControlError> {
        self.store.delete_named_transformation(account, id).await?;
        self.account_changed(account).await
    }

    /// Maps custom domain `host` to an account's endpoint (`None`: an alias of its default
    /// endpoint). A host mapped elsewhere before moves: both accounts are rebuilt.
    pub async fn map_domain(
        &self,
        host: &str,
        account: &str,
        endpoint_identifier: Option<&str>,
    ) -> Result<(), ControlError> {
        validate::domain_host(host)?;
        let host = host.to_ascii_lowercase();
        if self
            .public_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
        {
            return Err(ControlError::Invalid(format!(
                "{host:?} is a public host (server.public_hosts), not a custom domain"
            )));
        }
        let previous = self.domain_owner(&host).await?;
        self.store
            .map_domain(&host, account, endpoint_identifier)
            .await
            .map_err(|e| match e {
                // The account or endpoint named in the request: the request's fault.
                StoreError::NotFound { what, name } => {
                    ControlError::Invalid(format!("{what} {name:?} not found"))
                }
                other => other.into(),
            })?;
        if let Some(previous) = previous.filter(|p| p != account) {
            self.account_changed(&previous).await?;
        }
        self.account_changed(account).await
    }

    /// Removes custom domain `host`.
    pub async fn unmap_domain(&self, host: &str) -> Result<(), ControlError> {
        let owner = self.domain_owner(host).await?;
        self.store.unmap_domain(host).await?;
        if let Some(owner) = owner {
            self.account_changed(&owner).await?;
        }
        Ok(())
    }

    async fn domain_owner(&self, host: &str) -> Result<Option<String>, ControlError> {
        Ok(self.store.domain(host).await?.map(|(d, _)| d.account_id))
    }

    /// Applies the entities a config file declares, in one transaction: created when new,
    /// updated when changed, marked as managed by the file, and the ones it no longer declares
    /// removed. A file whose fingerprint was applied before is not applied again. Returns the
    /// entities removed. Call before [`Control::start`] (the catalog is built from the result).
    pub async fn apply_config(
        &self,
        accounts: &[DeclaredAccount<'_>],
        domains: &[DeclaredDomain<'_>],
        fingerprint: &str,
    ) -> Result<Option<Applied>, ControlError> {
        if self.store.applied_fingerprint().await?.as_deref() == Some(fingerprint) {
            return Ok(None);
        }
        let apply = self.write_config(accounts, domains).await?;
        Ok(Some(apply.finish(fingerprint).await?))
    }

    /// What applying the file would change beyond its declared writes (entities taken over
    /// from the API, entities removed), found by applying it in a transaction that is rolled
    /// back: nothing changes.
    pub async fn preview_config(
        &self,
        accounts: &[DeclaredAccount<'_>],
        domains: &[DeclaredDomain<'_>],
    ) -> Result<Applied, ControlError> {
        let apply = self.write_config(accounts, domains).await?;
        Ok(apply.preview().await?)
    }

    /// Checks the file's entities and writes them, uncommitted.
    async fn write_config(
        &self,
        accounts: &[DeclaredAccount<'_>],
        domains: &[DeclaredDomain<'_>],
    ) -> Result<pixelway_store::ConfigApply<'_>, ControlError> {
        for account in accounts {
            validate::declared_account(account)?;
        }
        for domain in domains {
            validate::domain_host(domain.host)?;
        }
        let mut apply = self.store.begin_config_apply().await?;
        apply.accounts(accounts).await?;
        for domain in domains {
            apply
                .domain(domain.host, domain.account, domain.endpoint, &domain.key)
                .await?;
        }
        Ok(apply)
    }
}

/// An endpoint write's errors, named by field: an origin id that is not the account's is the
/// request's fault, not a missing endpoint.
fn endpoint_error(error: StoreError) -> ControlError {
    match error {
        StoreError::NotFound {
            what: "origin",
            name,
        } => ControlError::Invalid(format!(
            "origins: {name:?} is not an origin of this account"
        )),
        other => ControlError::from(other).in_field("urlPrefix"),
    }
}
