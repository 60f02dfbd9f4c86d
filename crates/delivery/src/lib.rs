//! The delivery path and the front door: everything between a request for an image and its
//! bytes.
//!
//! - [`edge`]: what every request passes through first (header limit, request id, access
//!   line), and the split between delivery and the router of the other surfaces
//! - [`deliver`]: one delivery request as named steps — route, authorize, parse the
//!   transformation, find the original along the origin chain, transform, respond
//! - [`cache_keys`]: every cache key; [`error`]: delivery errors mapped to HTTP in one place
//! - [`forwarded`]: the request's host and client behind trusted proxies
//! - [`access_log`], [`metrics`]: what was served, per request and per minute
//!
//! [`Delivery`] is the state those share: the node's caches, its transformation workers and
//! its settings, over the [`Control`] plane whose catalog it routes by. The node's caches are
//! also what [`LocalCaches`] forgets when a change makes part of them stale.

pub mod access_log;
mod answer;
pub mod cache_keys;
mod chain;
pub mod deliver;
pub mod edge;
pub mod error;
pub mod forwarded;
mod layer_inputs;
pub mod metrics;
mod original;
mod respond;
pub mod shared_results;
mod transform;

pub use answer::{Answer, Payload};
pub use chain::{Attempt, FetchFail};
pub use deliver::{deliver, deliver_to};
pub use shared_results::SharedResults;
pub use transform::{Rendition, ResultFrom, Sources, TransformFail, Workers, set_memory_release};

use pixelway_cache::{Coalescer, DiskCache, MemoryCache};
use pixelway_control::{Control, NodeCaches};
use std::sync::Arc;
use std::time::Duration;

/// Settings taken from the config file, for delivery and the surfaces beside it.
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

/// The node's caches of files: cached originals on disk and answers in memory. Made before
/// the control plane (which forgets parts of them as changes come in), then shared with
/// [`Delivery`].
pub struct LocalCaches {
    pub originals: Arc<DiskCache>,
    /// Hot answers in memory, in front of both disk caches.
    pub memory: MemoryCache<Answer>,
}

impl LocalCaches {
    pub fn new(originals: DiskCache, settings: &Settings) -> Self {
        Self {
            originals: Arc::new(originals),
            memory: MemoryCache::new(
                settings.memory_cache_bytes,
                settings.memory_cache_max_object,
            ),
        }
    }
}

#[async_trait::async_trait]
impl NodeCaches for LocalCaches {
    async fn forget_file(&self, account: &str, path: &str, origin_ids: &[String]) -> usize {
        let mut removed = 0;
        for origin in origin_ids {
            if self
                .originals
                .remove(&cache_keys::original(origin, path))
                .await
            {
                removed += 1;
            }
        }
        self.memory
            .invalidate(cache_keys::file_scope(account, path));
        removed
    }

    async fn forget_folder(&self, account: &str, folder: &str) {
        self.memory
            .invalidate(cache_keys::folder_scope(account, folder));
    }
}

/// What the delivery path shares across requests.
pub struct Delivery {
    /// Where the catalog, purges and private-file answers come from.
    pub control: Arc<Control>,
    pub caches: Arc<LocalCaches>,
    pub coalescer: Coalescer<String, Result<(), FetchFail>>,
    /// Transformed results, keyed by endpoint, path, original ETag, canonical transformation and
    /// format choice.
    pub results: Arc<DiskCache>,
    /// The result tier shared with the other nodes, in the bucket (`storage.shared_results`).
    pub shared_results: Option<Arc<SharedResults>>,
    pub transforms: Coalescer<String, Result<ResultFrom, TransformFail>>,
    pub workers: Workers,
    pub settings: Settings,
    /// Traffic numbers of the last hour (the dashboard's overview).
    pub metrics: metrics::Metrics,
}

impl Delivery {
    pub fn new(
        control: Arc<Control>,
        caches: Arc<LocalCaches>,
        results: DiskCache,
        workers: Workers,
        settings: Settings,
    ) -> Self {
        Self {
            control,
            caches,
            coalescer: Coalescer::default(),
            results: Arc::new(results),
            shared_results: None,
            transforms: Coalescer::default(),
            workers,
            settings,
            metrics: Default::default(),
        }
    }

    /// Shares transformed results with the other nodes through `shared`.
    pub fn with_shared_results(mut self, shared: SharedResults) -> Self {
        self.shared_results = Some(Arc::new(shared));
        self
    }

    /// Cached originals on disk.
    pub fn originals(&self) -> &DiskCache {
        &self.caches.originals
    }

    /// Answers held in memory.
    pub fn memory(&self) -> &MemoryCache<Answer> {
        &self.caches.memory
    }
}
