//! Applies the entities a config file declares (accounts, origins, endpoints, named
//! transformations, custom domains) to the store in one transaction: created when new, updated
//! when changed, marked as managed by the file (the API shows them so and refuses to change
//! them) — and the ones the file declared at an earlier start but no longer does are removed.
//! A file whose entities are unchanged since they were last applied (same fingerprint) is not
//! applied again.

use crate::config::Config;
use pixelway_store::{AccountSettings, EndpointInput, Store};

pub async fn apply(config: &Config, store: &Store) -> anyhow::Result<()> {
    if store.applied_fingerprint().await?.as_deref() == Some(&config.declared_fingerprint) {
        tracing::info!("the config file's entities are unchanged since they were applied");
        return Ok(());
    }
    let mut apply = store.begin_config_apply().await?;
    for account in &config.accounts {
        let id = account.id.as_str();
        let account_key = format!("[[account]] id = {id:?}");
        let settings = AccountSettings {
            hide_origin_header: account.hide_origin_header,
            use_best_format: account.use_best_format,
            auto_avif: account.auto_avif,
        };
        apply
            .account(
                id,
                &account.private_key,
                &account.public_key,
                &settings,
                &account_key,
            )
            .await?;
        // The default endpoint comes with the account; it is the file's only when the file
        // declares it (`identifier = ""`), else the API and dashboard may set its origins.
        // Origins first: the first one an account gets joins its default endpoint, and an
        // endpoint declared below may then set its own order.
        for origin in &account.origins {
            let key = format!(
                "{account_key} › [[account.origin]] name = {:?}",
                origin.name
            );
            apply.origin(id, &origin.name, &origin.spec, &key).await?;
        }
        for endpoint in &account.endpoints {
            let input = EndpointInput {
                identifier: endpoint.identifier.clone(),
                description: endpoint.description.clone(),
                default_image: endpoint.default_image.clone(),
                signed_urls_only: endpoint.signed_urls_only,
                named_transformations_only: endpoint.named_transformations_only,
                origin_names: endpoint.origins.clone(),
            };
            let key = format!(
                "{account_key} › [[account.endpoint]] identifier = {:?}",
                endpoint.identifier
            );
            apply.endpoint(id, &input, &key).await?;
        }
        for named in &account.named_transformations {
            let key = format!(
                "{account_key} › [[account.named_transformation]] name = {:?}",
                named.name
            );
            apply
                .named_transformation(id, &named.name, &named.transformation, &key)
                .await?;
        }
    }
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
