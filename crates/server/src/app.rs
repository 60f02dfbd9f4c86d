//! [`App`]: the state every request shares (catalog, caches, settings), and the axum router
//! that puts the surfaces together.

use crate::catalog::Catalog;
use crate::control::Control;
use crate::delivery::Answer;
use crate::delivery::{self, FetchFail, TransformFail, Workers};
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use pixelway_cache::{Coalescer, DiskCache, MemoryCache};
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;

/// Delivery settings taken from the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Originals larger than this are refused while streaming (`limits.max_origin_bytes`).
    pub max_origin_bytes: u64,
    /// How long a cached original is used before it is fetched again (`storage.original_ttl`).
    pub original_ttl: Duration,
    /// Operator token (`server.admin_token`); empty disables operator features.
    pub admin_token: String,
    /// `Cache-Control: max-age` of files served.
    pub cache_max_age: Duration,
    /// `Cache-Control: max-age` of a default image served in place of a missing file.
    pub default_image_max_age: Duration,
    /// `Cache-Control: max-age` of a 404.
    pub not_found_max_age: Duration,
    /// Choose the output format from `Accept` when a transformation names none ("use best
    /// format", on by default).
    pub best_format: bool,
    /// Let automatic choices pick AVIF (off by default).
    pub auto_avif: bool,
    /// Longest request header section accepted (`limits.max_header_bytes`); beyond: 431.
    pub max_header_bytes: usize,
    /// Largest request body accepted (`limits.max_request_body`); beyond: 413. Uploads have
    /// their own limit.
    pub max_request_body: usize,
    /// Largest file an upload may store (`limits.max_upload_bytes`).
    pub max_upload_bytes: u64,
    /// Longest wait for the next piece of an upload's body (`limits.upload_read_timeout`); also
    /// the grace before `min_body_rate` applies.
    pub upload_read_timeout: Duration,
    /// Slowest an upload body may arrive on average, in bytes per second, after the grace
    /// (`server.min_body_rate`); slower: 408.
    pub min_body_rate: u64,
    /// Upload bodies read at once before their client is known (a client-side signature may
    /// follow the file); more: 503 (`server.max_unauthenticated_uploads`).
    pub max_unauthenticated_uploads: usize,
    /// Base of the URLs the management API hands out (`server.public_url`); default:
    /// `http://` + the request's host.
    pub public_url: Option<String>,
    /// Proxies whose forwarded host and client headers are believed (`server.trusted_proxies`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The memory tier's budget in bytes (`storage.memory_cache_bytes`; 0: off).
    pub memory_cache_bytes: u64,
    /// Larger answers are not held in memory (`storage.memory_cache_max_object`).
    pub memory_cache_max_object: u64,
}

/// Shared state of the running server.
pub struct App {
    /// Store, Media Library and catalog building: where changes come in.
    pub control: Control,
    pub catalog: ArcSwap<Catalog>,
    pub originals: Arc<DiskCache>,
    pub coalescer: Coalescer<String, Result<(), FetchFail>>,
    /// Transformed results, keyed by endpoint, path, original ETag, canonical transformation and
    /// format choice.
    pub results: Arc<DiskCache>,
    pub transforms: Coalescer<String, Result<(), TransformFail>>,
    /// Hot answers in memory, in front of both disk caches.
    pub memory: MemoryCache<Answer>,
    pub workers: Workers,
    pub settings: Settings,
    /// Purges by URL: cached entries of a purged path stored before the purge are misses.
    pub purges: crate::purge::Ledger,
    /// Which library files are private, looked up and cached.
    pub private_files: crate::private_files::PrivateFiles,
    /// Traffic numbers of the last hour (the dashboard's overview).
    pub metrics: crate::metrics::Metrics,
    /// The dashboard's own state (failed sign-ins).
    pub dashboard: crate::dashboard::DashboardState,
    /// What the start-up origin checks found (`/readyz`).
    pub readiness: crate::readiness::Readiness,
    /// Places for upload bodies read before their client is known.
    pub unauthenticated_uploads: Arc<tokio::sync::Semaphore>,
}

impl App {
    pub fn new(
        control: Control,
        catalog: Catalog,
        originals: DiskCache,
        results: DiskCache,
        workers: Workers,
        settings: Settings,
    ) -> Self {
        Self {
            control,
            catalog: ArcSwap::from_pointee(catalog),
            originals: Arc::new(originals),
            coalescer: Coalescer::default(),
            results: Arc::new(results),
            transforms: Coalescer::default(),
            memory: MemoryCache::new(
                settings.memory_cache_bytes,
                settings.memory_cache_max_object,
            ),
            workers,
            unauthenticated_uploads: Arc::new(tokio::sync::Semaphore::new(
                settings.max_unauthenticated_uploads.max(1),
            )),
            settings,
            purges: crate::purge::Ledger::default(),
            private_files: Default::default(),
            metrics: Default::default(),
            dashboard: Default::default(),
            readiness: Default::default(),
        }
    }

    /// Loads the purges recorded in the store into the ledger (at start).
    pub async fn load_purges(&self) -> Result<(), crate::ControlError> {
        let store = self.control.store();
        let mut collapsed = std::collections::HashMap::new();
        for (account, path, wildcard, at) in store.purges().await? {
            if let Some(until) = self
                .purges
                .record(&account, &path, wildcard, at.max(0) as u64)
            {
                collapsed.insert(account, until);
            }
        }
        for (account, until) in collapsed {
            store.collapse_purges(&account, until as i64).await?;
        }
        Ok(())
    }

    /// Rebuilds the catalog from the store and swaps it in: the next request routes by what
    /// the store holds now. Call after every change made through [`App::control`].
    pub async fn reload(&self) -> Result<(), crate::ControlError> {
        self.control.rebuild(&self.catalog).await
    }

    /// Like [`App::reload`] for a change that touches one account only (its origins,
    /// endpoints, named transformations, file flags, keys): only that account is rebuilt.
    pub async fn reload_account(&self, account: &str) -> Result<(), crate::ControlError> {
        self.control.rebuild_account(account, &self.catalog).await
    }
}

/// The first path segments the router answers (besides delivery, its fallback): health checks,
/// the management API and its document, the metrics, the dashboard and `/`. Any other path is
/// a delivery URL, which [`crate::edge`] hands to delivery without the router. Keep in step
/// with the routes below and in [`crate::api`] and [`crate::dashboard`] (a test checks every
/// route of the OpenAPI document against it).
const ROUTER_SEGMENTS: &[&str] = &[
    "",
    "api",
    "dashboard",
    "healthz",
    "metrics",
    "openapi.json",
    "readyz",
    "v1",
];

/// Whether the router may answer `path` with something other than delivery.
pub fn for_router(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ROUTER_SEGMENTS.contains(&first)
}

/// The HTTP surface behind [`crate::edge`]: health checks, the management API and the dashboard
/// (on public hosts), then delivery for every other path; request size limits in front of
/// everything.
pub fn router(app: Arc<App>) -> Router {
    let max_request_body = app.settings.max_request_body;
    // Uploads have their own body limit; everything else the general one.
    let limited = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(app): State<Arc<App>>| async move { app.readiness.report() }),
        )
        .merge(crate::api::router(Arc::clone(&app)))
        .merge(crate::dashboard::router(Arc::clone(&app)))
        .fallback(delivery::deliver)
        .layer(RequestBodyLimitLayer::new(max_request_body));
    Router::new()
        .merge(crate::api::upload_router(Arc::clone(&app)))
        .merge(limited)
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::for_router;

    #[test]
    fn only_the_router_s_own_first_segments_go_to_it() {
        for path in [
            "/",
            "/healthz",
            "/readyz",
            "/v1/files",
            "/api/v1/files/upload",
            "/openapi.json",
            "/metrics",
            "/dashboard",
            "/dashboard/endpoints/3",
        ] {
            assert!(for_router(path), "{path}");
        }
        for path in [
            "/demo/a.jpg",
            "/demo/tr:w-10/a.jpg",
            "/healthz2/a.jpg",
            "/v1x/a.jpg",
            "/dashboards/a.jpg",
        ] {
            assert!(!for_router(path), "{path}");
        }
    }

    #[test]
    fn every_management_api_route_goes_to_the_router() {
        use utoipa::OpenApi;
        let document = crate::api::openapi::ApiDoc::openapi();
        assert!(document.paths.paths.contains_key("/api/v1/files/upload"));
        assert!(document.paths.paths.len() > 20);
        for path in document.paths.paths.keys() {
            assert!(for_router(path), "{path} would be taken for a delivery URL");
        }
    }
}
