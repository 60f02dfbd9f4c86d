//! Applies the entities a config file declares (accounts, origins, endpoints, named
//! transformations, custom domains) to the store: created when new, updated when changed.

use crate::config::Config;
use pixelway_store::{AccountSettings, EndpointInput, Store};

pub async fn apply(config: &Config, store: &Store) -> anyhow::Result<()> {
    for account in &config.accounts {
        store
            .upsert_account(
                &account.id,
                &account.private_key,
                &account.public_key,
                &AccountSettings {
                    hide_origin_header: account.hide_origin_header,
                    use_best_format: account.use_best_format,
                    auto_avif: account.auto_avif,
                },
            )
            .await?;
        // Origins first: the first one an account gets joins its default endpoint, and an
        // endpoint declared below may then set its own order.
        for origin in &account.origins {
            store
                .upsert_origin(&account.id, &origin.name, &origin.spec)
                .await?;
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
            store.upsert_endpoint(&account.id, &input).await?;
        }
        for named in &account.named_transformations {
            store
                .upsert_named_transformation(&account.id, &named.name, &named.transformation)
                .await?;
        }
    }
    for domain in &config.custom_domains {
        store
            .upsert_domain(&domain.host, &domain.account, domain.endpoint.as_deref())
            .await?;
    }
    Ok(())
}
