//! Applies the entities a config file declares (accounts, origins, endpoints, named
//! transformations, custom domains) to the store in one transaction: created when new, updated
//! when changed, marked as managed by the file (the API shows them so and refuses to change
//! them) — and the ones the file declared at an earlier start but no longer does are removed.
//! A file whose entities are unchanged since they were last applied (same fingerprint) is not
//! applied again.

use crate::config::AccountConfig;
use crate::config::Config;
use pixelway_control::Control;
use pixelway_control::entities::DeclaredDomain;
use pixelway_store::{AccountSettings, Applied, DeclaredAccount, EndpointInput};

/// Applies the file's entities through the control plane (which checks them with the same
/// rules as every other surface and writes them in one transaction).
pub async fn apply(config: &Config, control: &Control) -> anyhow::Result<()> {
    let (declared, domains) = entities(config);
    match control
        .apply_config(&declared, &domains, &config.declared_fingerprint)
        .await?
    {
        None => tracing::info!("the config file's entities are unchanged since they were applied"),
        Some(applied) => {
            for taken in applied.taken_over {
                tracing::warn!("{taken}");
            }
            for removed in applied.removed {
                tracing::warn!(entity = %removed, "removed: the config file no longer declares it");
            }
        }
    }
    Ok(())
}

/// What applying the file would take over from the API and remove, changing nothing.
pub async fn preview(config: &Config, control: &Control) -> anyhow::Result<Applied> {
    let (declared, domains) = entities(config);
    Ok(control.preview_config(&declared, &domains).await?)
}

/// The file's accounts and custom domains as the control plane takes them. Every account is
/// written in a few multi-row statements per chunk (a first start with many tenants would
/// otherwise run millions of statements).
fn entities(config: &Config) -> (Vec<DeclaredAccount<'_>>, Vec<DeclaredDomain<'_>>) {
    let declared: Vec<DeclaredAccount<'_>> = config.accounts.iter().map(declared).collect();
    let domains: Vec<DeclaredDomain<'_>> = config
        .custom_domains
        .iter()
        .map(|domain| DeclaredDomain {
            host: &domain.host,
            account: &domain.account,
            endpoint: domain.endpoint.as_deref(),
            key: format!(
                "[[custom_domain]] host = {:?}",
                domain.host.to_ascii_lowercase()
            ),
        })
        .collect();
    (declared, domains)
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
