//! Walking an endpoint's origin chain: the Media Library first, then each origin in order, each
//! remote one through the cache of originals, with concurrent misses for one file coalesced into
//! a single fetch. Every attempt is recorded for the trace header.

use super::original::Original;
use crate::Delivery;
use crate::error::DeliveryError;
use pixelway_cache::{EntryMeta, PutError};
use pixelway_control::catalog::ChainOrigin;
use pixelway_origins::{Body, Failure, Fetch, Miss};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the memory tier serves a file of a local folder origin (changed by others than
/// pixelway) before looking at the folder again.
const LOCAL_RECHECK: Duration = Duration::from_secs(2);

/// Why a coalesced fetch did not store the file; shared by every waiter, so it is `Clone`.
#[derive(Debug, Clone)]
pub enum FetchFail {
    Missed(Miss),
    Failed(Failure),
}

impl FetchFail {
    /// The `ik-error` code, with the failure's detail when there is one.
    pub fn label(&self) -> String {
        match self {
            FetchFail::Missed(miss) => miss.error_code().to_string(),
            FetchFail::Failed(failure) => format!("{} ({failure})", failure.error_code()),
        }
    }
}

/// One origin tried while serving a request.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub origin: String,
    /// `found`, `cached`, or an `ik-error` code.
    pub outcome: String,
    pub elapsed: Duration,
    /// The file was fetched from a remote origin (not a cache, not the Media Library).
    pub fetched: bool,
    /// The origin failed (not a plain miss).
    pub failed: bool,
}

/// Finds `path` in `chain`; on failure, names the most specific cause.
pub async fn find(
    app: &Delivery,
    account: &str,
    endpoint: &str,
    chain: &[Arc<ChainOrigin>],
    path: &str,
    attempts: &mut Vec<Attempt>,
) -> Result<Original, DeliveryError> {
    let mut hard_cause: Option<&'static str> = None;
    for origin in chain {
        let started = Instant::now();
        let outcome = try_origin(app, account, origin, path).await;
        let label = match &outcome {
            Ok((_, label)) => label.to_string(),
            Err(fail) => fail.label(),
        };
        attempts.push(Attempt {
            origin: origin.name.clone(),
            outcome: label,
            elapsed: started.elapsed(),
            fetched: matches!(outcome, Ok((_, "found"))) && !origin.serves_local_files,
            failed: matches!(outcome, Err(FetchFail::Failed(_))),
        });
        match outcome {
            Ok((original, _)) => return Ok(original),
            Err(FetchFail::Failed(Failure::TooLarge)) => {
                return Err(DeliveryError::OriginalTooLarge);
            }
            Err(FetchFail::Missed(Miss::NotFound)) => {}
            Err(FetchFail::Missed(Miss::Forbidden)) => {
                hard_cause.get_or_insert("EACCES");
            }
            Err(FetchFail::Failed(failure)) => {
                tracing::warn!(
                    %account,
                    endpoint = %endpoint,
                    %path,
                    origin = %origin.name,
                    %failure,
                    "origin failed, trying the next"
                );
                hard_cause.get_or_insert(failure.error_code());
            }
        }
    }
    Err(DeliveryError::NotFound {
        path: path.to_string(),
        code: hard_cause.unwrap_or("ENOENT"),
        max_age: app.settings.not_found_max_age.as_secs(),
        trace: None,
    })
}

/// Fetches from one origin: in place for local files, else through the cache of originals (an
/// entry stored before a purge of its path is a miss).
pub async fn try_origin(
    app: &Delivery,
    account: &str,
    origin: &Arc<ChainOrigin>,
    path: &str,
) -> Result<(Original, &'static str), FetchFail> {
    if origin.serves_local_files {
        return match origin.origin.fetch(path).await {
            Fetch::Found(object) => {
                // The Media Library changes only through pixelway (which invalidates what
                // memory holds of a file); another local folder is looked at again soon.
                let recheck = origin.kind.is_some().then_some(LOCAL_RECHECK);
                let original = Original::from_object(
                    object,
                    &origin.name,
                    app.settings.max_origin_bytes,
                    recheck,
                )
                .map_err(FetchFail::Failed)?;
                Ok((original, "found"))
            }
            Fetch::NotHere(miss) => Err(FetchFail::Missed(miss)),
            Fetch::Failed(failure) => Err(FetchFail::Failed(failure)),
        };
    }
    let key = crate::cache_keys::original(&origin.id, path);
    if let Some(entry) = app
        .originals()
        .get(&key, Some(app.settings.original_ttl))
        .await
        && !app
            .control
            .purges()
            .is_purged(account, path, entry.meta.stored_at)
    {
        return Ok((
            Original::from_cache(entry, &origin.name, app.settings.original_ttl),
            "cached",
        ));
    }
    let work = {
        let (origin, path, key) = (Arc::clone(origin), path.to_string(), key.clone());
        let cache = Arc::clone(&app.caches.originals);
        let limit = app.settings.max_origin_bytes;
        move || fetch_into_cache(origin, path, key, cache, limit)
    };
    app.coalescer.run(key.clone(), work).await?;
    match app.originals().get(&key, None).await {
        Some(entry) => Ok((
            Original::from_cache(entry, &origin.name, app.settings.original_ttl),
            "found",
        )),
        // Evicted between storing and opening: only under extreme cache pressure.
        None => Err(FetchFail::Failed(Failure::other("cache entry vanished"))),
    }
}

/// The coalesced work: one fetch from the origin, streamed into the cache.
async fn fetch_into_cache(
    origin: Arc<ChainOrigin>,
    path: String,
    key: String,
    cache: Arc<pixelway_cache::DiskCache>,
    limit: u64,
) -> Result<(), FetchFail> {
    let object = match origin.origin.fetch(&path).await {
        Fetch::Found(object) => object,
        Fetch::NotHere(miss) => return Err(FetchFail::Missed(miss)),
        Fetch::Failed(failure) => return Err(FetchFail::Failed(failure)),
    };
    if object.size.is_some_and(|size| size > limit) {
        return Err(FetchFail::Failed(Failure::TooLarge));
    }
    let meta = EntryMeta::new(&origin.name, object.last_modified);
    let stream = match object.body {
        Body::Stream(stream) => stream,
        Body::Local(local) => {
            let len = local.len;
            local.stream(0, len)
        }
    };
    match cache
        .put(
            &key,
            meta,
            stream,
            limit,
            pixelway_control::sniff::content_type,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(PutError::TooLarge(_)) => Err(FetchFail::Failed(Failure::TooLarge)),
        Err(PutError::Source(e)) => Err(FetchFail::Failed(Failure::other(e))),
        Err(e @ (PutError::Io(_) | PutError::NotAnEntry(_))) => {
            tracing::error!(error = %e, "cache of originals failed to store");
            Err(FetchFail::Failed(Failure::other("cache write failed")))
        }
    }
}
