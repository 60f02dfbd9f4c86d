//! The transform step: a found original + a parsed transformation → a transformed file, through
//! the result cache. Misses for one key are coalesced; the CPU work runs on a bounded pool of
//! blocking threads behind an admission queue, never on the async runtime.

use super::original::Original;
use crate::app::App;
use crate::error::DeliveryError;
use bytes::Bytes;
use pixelway_cache::{EntryMeta, PutError};
use pixelway_transform::Transformation;
use pixelway_transform::pipeline::{self, FormatChoice, Limits, ProcessError};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Admission and concurrency for image work.
#[derive(Debug)]
pub struct Workers {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    pub limits: Limits,
}

impl Workers {
    /// `workers` run at once; up to `queue` more wait; beyond that requests get 503.
    pub fn new(workers: usize, queue: usize, limits: Limits) -> Self {
        Self {
            running: Arc::new(Semaphore::new(workers.max(1))),
            admitted: Arc::new(Semaphore::new(workers.max(1) + queue)),
            limits,
        }
    }
}

/// Why a coalesced transform failed; shared by every waiter.
#[derive(Debug, Clone)]
pub enum TransformFail {
    Process(ProcessError),
    Overloaded,
    Internal(String),
}

/// The transformed version of `original`, from the result cache or made now.
pub async fn transformed(
    app: &App,
    scope: &str,
    original: Original,
    transformation: &Transformation,
    choice: FormatChoice,
) -> Result<Original, DeliveryError> {
    // The original's ETag is part of the key: a changed original never gets a stale result.
    let key = format!(
        "result\n{scope}\n{}\n{}\n{choice:?}",
        original.etag,
        transformation.canonical()
    );
    if let Some(entry) = app.results.get(&key, None).await {
        return Ok(Original::from_cache(entry, &original.origin_name));
    }
    let label = original.origin_name.clone();
    let origin_name = label.clone();
    let work = {
        let key = key.clone();
        let transformation = transformation.clone();
        let results = Arc::clone(&app.results);
        let running = Arc::clone(&app.workers.running);
        let limits = app.workers.limits;
        // Only the request that starts the work needs a queue slot: the others wait for it.
        let admitted = Arc::clone(&app.workers.admitted);
        move || async move {
            let _admission = admitted
                .try_acquire_owned()
                .map_err(|_| TransformFail::Overloaded)?;
            let running = running
                .acquire_owned()
                .await
                .map_err(|_| TransformFail::Overloaded)?;
            let output = run_pipeline(original, transformation, choice, limits, running).await?;
            let meta = EntryMeta::new(&origin_name, None);
            let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(output.bytes))]);
            match results
                .put(&key, meta, body, u64::MAX, super::sniff::content_type)
                .await
            {
                Ok(_) => Ok(()),
                Err(PutError::Io(e) | PutError::Source(e)) => {
                    Err(TransformFail::Internal(e.to_string()))
                }
                Err(PutError::TooLarge(_)) => {
                    Err(TransformFail::Internal("result too large".into()))
                }
            }
        }
    };
    match app.transforms.run(key.clone(), work).await {
        Ok(()) => {}
        Err(TransformFail::Process(e)) => return Err(DeliveryError::Process(e)),
        Err(TransformFail::Overloaded) => return Err(DeliveryError::Overloaded),
        Err(TransformFail::Internal(e)) => return Err(DeliveryError::Internal(e)),
    }
    let entry = app
        .results
        .get(&key, None)
        .await
        .ok_or_else(|| DeliveryError::Internal("result vanished from the cache".into()))?;
    Ok(Original::from_cache(entry, &label))
}

/// Reads the original and runs the pipeline, all on the blocking pool. The worker slot
/// (`running`) is held by the blocking task itself, so it is only freed when the CPU work ends,
/// even when the request stops waiting because the time budget is spent.
async fn run_pipeline(
    original: Original,
    transformation: Transformation,
    choice: FormatChoice,
    limits: Limits,
    running: OwnedSemaphorePermit,
) -> Result<pipeline::Output, TransformFail> {
    let body = original.body;
    let work = tokio::task::spawn_blocking(move || {
        let _running = running;
        let bytes = if body.head.len() as u64 == body.len {
            body.head.clone()
        } else {
            body.read_blocking(0, body.len as usize)
                .map_err(|e| TransformFail::Internal(e.to_string()))?
        };
        pipeline::process(&bytes, &transformation, choice, limits).map_err(TransformFail::Process)
    });
    // The pipeline checks the budget between stages; a single long stage is not interrupted,
    // but nobody waits for it beyond the budget (plus a little for reading the original).
    match tokio::time::timeout(limits.time_budget + WAIT_GRACE, work).await {
        Ok(joined) => joined.map_err(|e| TransformFail::Internal(e.to_string()))?,
        Err(_) => Err(TransformFail::Process(ProcessError::TimeBudget {
            stage: "a single stage",
            limit: limits.time_budget,
        })),
    }
}

/// Time allowed beyond the budget for reading the original before the waiting stops.
const WAIT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);
