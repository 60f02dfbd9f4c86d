//! [`App`]: the state every request shares (catalog, caches, settings), and the axum router
//! that puts the surfaces together.

use crate::catalog::Catalog;
use crate::delivery::{self, FetchFail, TransformFail, Workers};
use arc_swap::ArcSwap;
use axum::Router;
use axum::routing::get;
use pixelway_cache::{Coalescer, DiskCache};
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

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
}

/// Shared state of the running server.
pub struct App {
    pub catalog: ArcSwap<Catalog>,
    pub originals: Arc<DiskCache>,
    pub coalescer: Coalescer<String, Result<(), FetchFail>>,
    /// Transformed results, keyed by endpoint, path, original ETag, canonical transformation and
    /// format choice.
    pub results: Arc<DiskCache>,
    pub transforms: Coalescer<String, Result<(), TransformFail>>,
    pub workers: Workers,
    pub settings: Settings,
}

impl App {
    pub fn new(
        catalog: Catalog,
        originals: DiskCache,
        results: DiskCache,
        workers: Workers,
        settings: Settings,
    ) -> Self {
        Self {
            catalog: ArcSwap::from_pointee(catalog),
            originals: Arc::new(originals),
            coalescer: Coalescer::default(),
            results: Arc::new(results),
            transforms: Coalescer::default(),
            workers,
            settings,
        }
    }

    /// Swaps in a rebuilt catalog (after a configuration change).
    pub fn replace_catalog(&self, catalog: Catalog) {
        self.catalog.store(Arc::new(catalog));
    }
}

/// The HTTP surface: health checks, then delivery for every other path.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(|| async { "ready\n" }))
        .fallback(delivery::deliver)
        .with_state(app)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
