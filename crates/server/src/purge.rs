//! Purging by URL: the hook behind the management API's purge (ImageKit's
//! `POST /v1/files/purge {"url": …}`). The URL is routed exactly like a delivery request; the
//! cached originals of its file are removed for every origin of the endpoint's chain, so the next
//! request fetches it again.
//!
//! Results need no removal: their cache keys hold the original's ETag, so a changed original
//! never meets an old result, and an unchanged one would give the same bytes; stale results age
//! out of the LRU. A URL that routes to another account than the caller's is refused.

use crate::app::App;
use axum::http::Uri;
use pixelway_route::RouteError;

/// What a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub account: String,
    pub endpoint: String,
    pub path: String,
    /// Cache entries removed (0 when nothing was cached).
    pub entries: usize,
}

/// Why a URL could not be purged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeError {
    #[error("not an absolute http(s) URL: {0:?}")]
    BadUrl(String),
    #[error("{0}")]
    Route(#[from] RouteError),
    #[error("the URL belongs to another account")]
    OtherAccount,
}

/// Removes the cached originals behind `url`, on behalf of `account`.
pub async fn purge_url(app: &App, account: &str, url: &str) -> Result<Purged, PurgeError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| PurgeError::BadUrl(url.to_string()))?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| PurgeError::BadUrl(url.to_string()))?;
    let catalog = app.catalog.load();
    let route = pixelway_route::route(catalog.as_ref(), &host, uri.path(), uri.query())?;
    if route.account != account {
        return Err(PurgeError::OtherAccount);
    }
    let (_, endpoint) = catalog
        .endpoint(&route.account, &route.identifier)
        .ok_or(PurgeError::OtherAccount)?;
    let path = route.file.as_str();
    let mut entries = 0;
    for origin in endpoint.chain.iter().filter(|o| !o.serves_local_files) {
        if app
            .originals
            .remove(&crate::cache_keys::original(&origin.id, path))
            .await
        {
            entries += 1;
        }
    }
    Ok(Purged {
        account: route.account,
        endpoint: route.identifier,
        path: path.to_string(),
        entries,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::delivery::Workers;
    use pixelway_cache::{DiskCache, EntryMeta};
    use pixelway_origins::BuildContext;
    use pixelway_origins::guard::AddressPolicy;
    use pixelway_store::{AccountRecord, EndpointRecord, OriginRecord, Snapshot};
    use std::time::Duration;

    fn context() -> BuildContext {
        BuildContext {
            default_timeout: Duration::from_secs(1),
            address_policy: AddressPolicy::default(),
        }
    }

    fn snapshot() -> Snapshot {
        let account = |id: &str| AccountRecord {
            id: id.into(),
            private_key: "k".into(),
            public_key: "p".into(),
            settings: Default::default(),
        };
        let origin = |id: &str, account: &str| OriginRecord {
            id: id.into(),
            account_id: account.into(),
            name: "site".into(),
            spec: serde_json::from_value(
                serde_json::json!({"type": "web_folder", "base_url": "http://example.com"}),
            )
            .unwrap(),
        };
        let endpoint = |id: &str, account: &str, identifier: &str, origin: &str| EndpointRecord {
            id: id.into(),
            account_id: account.into(),
            identifier: identifier.into(),
            description: String::new(),
            default_image: None,
            signed_urls_only: false,
            named_transformations_only: false,
            origin_ids: vec![origin.into()],
        };
        Snapshot {
            accounts: vec![account("acme"), account("rival")],
            origins: vec![origin("o-acme", "acme"), origin("o-rival", "rival")],
            endpoints: vec![
                endpoint("e-acme", "acme", "", "o-acme"),
                endpoint("e-acme-shop", "acme", "shop", "o-acme"),
                endpoint("e-rival", "rival", "", "o-rival"),
            ],
            ..Snapshot::default()
        }
    }

    async fn app(dir: &std::path::Path) -> App {
        let control = crate::control::tests::control(dir).await;
        let catalog = Catalog::build(
            &snapshot(),
            &context(),
            control.media(),
            &["img.test".to_string()],
        )
        .unwrap();
        App::new(
            control,
            catalog,
            DiskCache::open(dir.join("originals"), 1 << 20)
                .await
                .unwrap(),
            DiskCache::open(dir.join("results"), 1 << 20).await.unwrap(),
            Workers::new(1, 1, std::time::Duration::from_secs(1), Default::default()),
            settings(),
        )
    }

    /// Settings for unit tests of the server.
    pub fn settings() -> crate::Settings {
        crate::Settings {
            max_origin_bytes: 1 << 20,
            original_ttl: Duration::from_secs(60),
            admin_token: String::new(),
            cache_max_age: Duration::from_secs(60),
            default_image_max_age: Duration::from_secs(60),
            not_found_max_age: Duration::from_secs(60),
            best_format: true,
            auto_avif: false,
            max_header_bytes: 16 << 10,
            max_request_body: 1 << 20,
        }
    }

    async fn cache(app: &App, key: &str) {
        let body =
            futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"bytes"))]);
        app.originals
            .put(key, EntryMeta::new("site", None), body, 1 << 20, |_| {
                "image/jpeg".into()
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn purges_the_cached_original_of_a_url_and_nothing_of_other_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let acme_key = crate::cache_keys::original("o-acme", "shoes/red shoe.jpg");
        let rival_key = crate::cache_keys::original("o-rival", "shoes/red shoe.jpg");
        cache(&app, &acme_key).await;
        cache(&app, &rival_key).await;

        let url = "https://img.test/acme/shop/tr:w-300/shoes/red%20shoe.jpg?tr=h-10";
        let purged = purge_url(&app, "acme", url).await.unwrap();
        assert_eq!(
            purged,
            Purged {
                account: "acme".into(),
                endpoint: "shop".into(),
                path: "shoes/red shoe.jpg".into(),
                entries: 1,
            }
        );
        assert!(app.originals.get(&acme_key, None).await.is_none());
        assert!(app.originals.get(&rival_key, None).await.is_some());
        // Twice: nothing left to remove.
        assert_eq!(purge_url(&app, "acme", url).await.unwrap().entries, 0);

        let rival_url = "https://img.test/rival/shoes/red%20shoe.jpg";
        assert_eq!(
            purge_url(&app, "acme", rival_url).await,
            Err(PurgeError::OtherAccount)
        );
        assert!(app.originals.get(&rival_key, None).await.is_some());
        assert!(matches!(
            purge_url(&app, "acme", "https://img.test/acme/../x.jpg").await,
            Err(PurgeError::Route(_))
        ));
        assert!(matches!(
            purge_url(&app, "acme", "/acme/x.jpg").await,
            Err(PurgeError::BadUrl(_))
        ));
    }
}
