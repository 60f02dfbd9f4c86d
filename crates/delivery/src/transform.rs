//! The transform step: a found original + a parsed transformation → a transformed file, through
//! the result cache. Misses for one key are coalesced; the CPU work runs on a bounded pool of
//! blocking threads behind an admission queue, never on the async runtime.
//!
//! Nothing holds a worker for long: a request waits at most `queue_wait` for one (then 503),
//! the pipeline stops at its time budget (checked between and inside its stages), and work whose
//! every requester has gone is stopped at its next check.

use super::layer_inputs::LayerInput;
use super::original::Original;
use crate::Delivery;
use crate::error::DeliveryError;
use bytes::Bytes;
use pixelway_cache::{EntryMeta, PutError};
use pixelway_transform::Transformation;
use pixelway_transform::pipeline::{self, Budget, FormatChoice, Limits, ProcessError, Stop};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Admission and concurrency for image work.
#[derive(Debug)]
pub struct Workers {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    /// Longest a transformation waits for a worker (`limits.transform_queue_wait`).
    queue_wait: Duration,
    pub limits: Limits,
}

impl Workers {
    /// `workers` run at once; up to `queue` more wait, each at most `queue_wait`; beyond that
    /// requests get 503.
    pub fn new(workers: usize, queue: usize, queue_wait: Duration, limits: Limits) -> Self {
        Self {
            running: Arc::new(Semaphore::new(workers.max(1))),
            admitted: Arc::new(Semaphore::new(workers.max(1) + queue)),
            queue_wait,
            limits,
        }
    }
}

/// A transformed result, from the result cache.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub content_type: String,
    /// Quoted strong ETag of the result's own bytes.
    pub etag: String,
    pub body: pixelway_origins::local::LocalFile,
    /// As fresh as the original it was made from.
    pub fresh_until: Option<std::time::Instant>,
    /// What the result was made despite (a truncated input drawn as far as it goes).
    pub warning: Option<String>,
}

impl Rendition {
    fn from_cache(entry: pixelway_cache::CachedEntry, original: &Original) -> Self {
        let meta = entry.meta;
        Self {
            etag: super::original::etag_of_entry(&meta.sha256),
            body: pixelway_origins::local::LocalFile {
                file: entry.file,
                offset: pixelway_cache::HEADER_OFFSET,
                len: meta.size,
                head: entry.head,
            },
            content_type: meta.content_type,
            fresh_until: original.fresh_until,
            warning: meta.warning,
        }
    }
}

/// What a transformation reads: the original, and the files its layers draw.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub original: &'a Original,
    pub layers: &'a [LayerInput],
}

/// Why a coalesced transform failed; shared by every waiter.
#[derive(Debug, Clone)]
pub enum TransformFail {
    Process(ProcessError),
    Overloaded,
    Internal(String),
}

/// Where a transformed result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFrom {
    /// This node's result cache.
    Cache,
    /// The result tier shared with the other nodes (another node made it).
    Shared,
    /// Made now.
    Transformation,
}

/// The transformed version of `sources`: from the result cache, from the shared tier, or made
/// now.
pub async fn transformed(
    app: &Delivery,
    account: &str,
    endpoint_id: &str,
    path: &str,
    sources: Sources<'_>,
    transformation: &Transformation,
    choice: FormatChoice,
) -> Result<(Rendition, ResultFrom), DeliveryError> {
    let Sources { original, layers } = sources;
    let layer_etags: Vec<(&str, &str)> = layers
        .iter()
        .map(|l| (l.path.as_str(), l.original.etag.as_str()))
        .collect();
    let key = crate::cache_keys::result(
        endpoint_id,
        path,
        &original.etag,
        transformation,
        choice,
        &layer_etags,
    );
    // What is made from layers is as fresh as the least fresh of its inputs.
    let fresh_until = layers
        .iter()
        .filter_map(|l| l.original.fresh_until)
        .chain(original.fresh_until)
        .min();
    let from_cache = |entry| Rendition {
        fresh_until,
        ..Rendition::from_cache(entry, original)
    };
    if let Some(entry) = app.results.get(&key, None).await
        && !app
            .control
            .purges()
            .is_purged(account, path, entry.meta.stored_at)
    {
        return Ok((from_cache(entry), ResultFrom::Cache));
    }
    let origin_name = original.origin_name.clone();
    let stop = Stop::default();
    let work = {
        let key = key.clone();
        let transformation = transformation.clone();
        let results = Arc::clone(&app.results);
        let shared = app.shared_results.clone();
        let control = Arc::clone(&app.control);
        let (account, path) = (account.to_string(), path.to_string());
        let max_bytes = app.settings.max_origin_bytes;
        let running = Arc::clone(&app.workers.running);
        let (limits, queue_wait) = (app.workers.limits, app.workers.queue_wait);
        // Only the request that starts the work needs a queue slot: the others wait for it.
        let admitted = Arc::clone(&app.workers.admitted);
        let stop = stop.clone();
        let original = original.clone();
        let layers = layers.to_vec();
        move || async move {
            if let Some(shared) = &shared
                && let Some(entry) = shared.fetch(&results, &key, max_bytes).await
            {
                if !control
                    .purges()
                    .is_purged(&account, &path, entry.meta.stored_at)
                {
                    return Ok(ResultFrom::Shared);
                }
                results.remove(&key).await;
                shared.forget(&key).await;
            }
            let _admission = admitted
                .try_acquire_owned()
                .map_err(|_| TransformFail::Overloaded)?;
            let running = match tokio::time::timeout(queue_wait, running.acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) | Err(_) => return Err(TransformFail::Overloaded),
            };
            if stop.is_stopped() {
                return Err(TransformFail::Process(ProcessError::Abandoned));
            }
            let budget =
                Budget::start(limits.time_budget, stop).with_memory_limit(limits.max_memory);
            let inputs = Inputs { original, layers };
            let output =
                run_pipeline(inputs, transformation, choice, limits, budget, running).await?;
            let mut meta = EntryMeta::new(&origin_name, None);
            if !output.warnings.is_empty() {
                let warning = output.warnings.join("; ");
                tracing::warn!(%warning, origin = %origin_name, "the input is damaged: served what it holds");
                meta.warning = Some(warning);
            }
            let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(output.bytes))]);
            match results
                .put(
                    &key,
                    meta,
                    body,
                    u64::MAX,
                    pixelway_control::sniff::content_type,
                )
                .await
            {
                Ok(_) => {
                    if let Some(shared) = &shared {
                        shared.share(&results, &key);
                    }
                    Ok(ResultFrom::Transformation)
                }
                Err(PutError::TooLarge(_)) => {
                    Err(TransformFail::Internal("result too large".into()))
                }
                Err(other) => Err(TransformFail::Internal(other.to_string())),
            }
        }
    };
    let outcome = app
        .transforms
        .run_or_abandon(key.clone(), work, move || stop.stop())
        .await;
    let from = match outcome {
        Ok(from) => from,
        Err(TransformFail::Process(e)) => return Err(DeliveryError::Process(e)),
        Err(TransformFail::Overloaded) => return Err(DeliveryError::Overloaded),
        Err(TransformFail::Internal(e)) => return Err(DeliveryError::Internal(e)),
    };
    let entry = app
        .results
        .get(&key, None)
        .await
        .ok_or_else(|| DeliveryError::Internal("result vanished from the cache".into()))?;
    Ok((from_cache(entry), from))
}

/// Everything a pipeline run reads: the original and its layers' files.
struct Inputs {
    original: Original,
    layers: Vec<LayerInput>,
}

/// Reads the original and runs the pipeline, all on the blocking pool. The worker slot
/// (`running`) is held by the blocking task itself, so it is only freed when the CPU work ends.
/// The waiting stops shortly after the budget is spent, and the work is then told to stop too.
async fn run_pipeline(
    inputs: Inputs,
    transformation: Transformation,
    choice: FormatChoice,
    limits: Limits,
    budget: Budget,
    running: OwnedSemaphorePermit,
) -> Result<pipeline::Output, TransformFail> {
    let limit = budget.limit();
    let stop = budget.stop_handle();
    let work = tokio::task::spawn_blocking(move || {
        let _running = running;
        let bytes = read_whole(&inputs.original.body)?;
        let mut layer_files = pipeline::LayerFiles::new();
        for layer in &inputs.layers {
            let file = read_whole(&layer.original.body)?;
            // The buffer read for this call only: taken over, not copied.
            layer_files.insert(layer.path.clone(), Vec::from(file));
        }
        let output = pipeline::process_layered(
            &bytes,
            &transformation,
            &layer_files,
            choice,
            limits,
            &budget,
        );
        drop((bytes, layer_files));
        if budget.peak_memory() >= LARGE_TRANSFORMATION {
            release_freed_memory();
        }
        output.map_err(TransformFail::Process)
    });
    match tokio::time::timeout(limit + WAIT_GRACE, work).await {
        Ok(joined) => joined.map_err(|e| TransformFail::Internal(e.to_string()))?,
        Err(_) => {
            stop.stop();
            Err(TransformFail::Process(ProcessError::TimeBudget {
                stage: "a single stage",
                limit,
            }))
        }
    }
}

/// A file's bytes (already in memory when its first chunk was all of it). Blocking.
fn read_whole(body: &pixelway_origins::local::LocalFile) -> Result<Bytes, TransformFail> {
    if body.head.len() as u64 == body.len {
        return Ok(body.head.clone());
    }
    body.read_blocking(0, body.len as usize)
        .map_err(|e| TransformFail::Internal(e.to_string()))
}

/// A transformation that needed this many bytes of pixels at once is followed by handing freed
/// memory back to the system (the allocator would keep it for this thread otherwise).
const LARGE_TRANSFORMATION: u64 = 64 << 20;

/// How freed memory goes back to the system: set once by the binary, which picks the allocator.
static MEMORY_RELEASE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what [`release_freed_memory`] calls (the allocator's collect function).
pub fn set_memory_release(release: fn()) {
    let _ = MEMORY_RELEASE.set(release);
}

fn release_freed_memory() {
    if let Some(release) = MEMORY_RELEASE.get() {
        release();
    }
}

/// Time allowed beyond the budget for reading the original before the waiting stops.
const WAIT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);
