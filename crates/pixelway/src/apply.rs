//! Applies the entities a config file declares (accounts, origins, endpoints, named
//! transformations, custom domains) to the store: created when new, updated when changed, marked
//! as managed by the file (the API shows them so and refuses to change them) — and the ones the
//! file declared at an earlier start but no longer does are removed.

use crate::config::Config;
use pixelway_store::{AccountSettings, Declared, EndpointInput, Entity, Store};

pub async fn apply(config: &Config, store: &Store) -> anyhow::Result<()> {
    let declared = Declared::default();
    for account in &config.accounts {
        let id = account.id.as_str();
        store
            .upsert_account(
                id,
                &account.private_key,
                &account.public_key,
                &AccountSettings {
                    hide_origin_header: account.hide_origin_header,
                    use_best_format: account.use_best_format,
                    auto_avif: account.auto_avif,
                },
            )
            .await?;
        let account_key = format!("[[account]] id = {id:?}");
        store
            .declare(&declared, Entity::Account(id), &account_key)
            .await?;
        // The default endpoint comes with the account; it is the file's only when the file
        // declares it (`identifier = ""`), else the API and dashboard may set its origins.
        // Origins first: the first one an account gets joins its default endpoint, and an
        // endpoint declared below may then set its own order.
        for origin in &account.origins {
            store.upsert_origin(id, &origin.name, &origin.spec).await?;
            let key = format!(
                "{account_key} › [[account.origin]] name = {:?}",
                origin.name
            );
            let entity = Entity::Origin {
                account: id,
                name: &origin.name,
            };
            store.declare(&declared, entity, &key).await?;
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
            store.upsert_endpoint(id, &input).await?;
            let key = format!(
                "{account_key} › [[account.endpoint]] identifier = {:?}",
                endpoint.identifier
            );
            let entity = Entity::Endpoint {
                account: id,
                identifier: &endpoint.identifier,
            };
            store.declare(&declared, entity, &key).await?;
        }
        for named in &account.named_transformations {
            store
                .upsert_named_transformation(id, &named.name, &named.transformation)
                .await?;
            let key = format!(
                "{account_key} › [[account.named_transformation]] name = {:?}",
                named.name
            );
            let entity = Entity::NamedTransformation {
                account: id,
                name: &named.name,
            };
            store.declare(&declared, entity, &key).await?;
        }
    }
    for domain in &config.custom_domains {
        store
            .upsert_domain(&domain.host, &domain.account, domain.endpoint.as_deref())
            .await?;
        let host = domain.host.to_ascii_lowercase();
        let key = format!("[[custom_domain]] host = {host:?}");
        store
            .declare(&declared, Entity::Domain(&host), &key)
            .await?;
    }
    for removed in store.remove_undeclared(&declared).await? {
        tracing::warn!(entity = %removed, "removed: the config file no longer declares it");
    }
    Ok(())
}
