//! Applies the entities a config file declares (accounts, origins, endpoints, named
//! transformations, custom domains) to the store in one transaction: created when new, updated
//! when changed, marked as managed by the file (the API shows them so and refuses to change
//! them) — and the ones the file declared at an earlier start but no longer does are removed.
//! A file whose entities are unchanged since they were last applied (same fingerprint) is not
//! applied again.

use crate::config::AccountConfig;
use crate::config::Config;
use pixelway_store::{AccountSettings, DeclaredAccount, EndpointInput, Store};

pub async fn apply(config: &Config, store: &Store) -> anyhow::Result<()> {
    if store.applied_fingerprint().await?.as_deref() == Some(&config.declared_fingerprint) {
        tracing::info!("the config file's entities are unchanged since they were applied");
        return Ok(());
    }
    let mut apply = store.begin_config_apply().await?;
    // Every account in a few multi-row statements per chunk (a first start with many tenants
    // would otherwise run millions of statements).
    let declared: Vec<DeclaredAccount<'_>> = config.accounts.iter().map(declared).collect();
    apply.accounts(&declared).await?;
    drop(declared);
    for domain in &config.custom_domains {
        let key = format!(
            "[[custom_domain]] host = {:?}",
            domain.host.to_ascii_lowercase()
        );
        apply
            .domain(
                &domain.host,
                &domain.account,
                domain.endpoint.as_deref(),
                &key,
            )
            .await?;
    }
    for removed in apply.finish(&config.declared_fingerprint).await? {
        tracing::warn!(entity = %removed, "removed: the config file no longer declares it");
    }
    Ok(())
}

/// An account of the file, with the file's key for it and for everything in it. The default
/// endpoint is the file's only when the file declares it (`identifier = ""`); otherwise the API
/// and dashboard may set its origins.
fn declared(account: &AccountConfig) -> DeclaredAccount<'_> {
    let account_key = format!("[[account]] id = {:?}", account.id);
    DeclaredAccount {
        id: &account.id,
        private_key: &account.private_key,
        public_key: &account.public_key,
        settings: AccountSettings {
            hide_origin_header: account.hide_origin_header,
            use_best_format: account.use_best_format,
            auto_avif: account.auto_avif,
        },
        origins: account
            .origins
            .iter()
            .map(|origin| {
                let key = format!(
                    "{account_key} › [[account.origin]] name = {:?}",
                    origin.name
                );
                (origin.name.as_str(), &origin.spec, key)
            })
            .collect(),
        endpoints: account
            .endpoints
            .iter()
            .map(|endpoint| {
                let key = format!(
                    "{account_key} › [[account.endpoint]] identifier = {:?}",
                    endpoint.identifier
                );
                let input = EndpointInput {
                    identifier: endpoint.identifier.clone(),
                    description: endpoint.description.clone(),
                    default_image: endpoint.default_image.clone(),
                    signed_urls_only: endpoint.signed_urls_only,
                    named_transformations_only: endpoint.named_transformations_only,
                    origin_names: endpoint.origins.clone(),
                };
                (input, key)
            })
            .collect(),
        named_transformations: account
            .named_transformations
            .iter()
            .map(|named| {
                let key = format!(
                    "{account_key} › [[account.named_transformation]] name = {:?}",
                    named.name
                );
                (named.name.as_str(), named.transformation.as_str(), key)
            })
            .collect(),
        key: account_key,
    }
}
