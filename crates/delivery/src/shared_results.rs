//! The result tier every node shares (`storage.shared_results`): transformed results kept in the
//! Media Library's bucket, in a folder of their own, so that what one node transformed is a hit
//! on the others. A node looks there after its own result cache and before transforming; what it
//! makes it copies there afterwards, off the request path.
//!
//! An object is a whole result-cache entry (its header, then its bytes), named by the hash of
//! the result's key. The key holds everything that makes two results differ (endpoint, path, the
//! original's and every layer's ETag, the canonical transformation, the format facts), so a
//! changed original is a new name, never a stale hit. The header keeps the time the result was
//! made: an entry made before a purge of its path is a miss, exactly as on the node that made it,
//! and is deleted from the bucket. A copied entry is checked whole (header, size, SHA-256) before
//! a node serves it. Nothing else removes objects: the bucket's own lifecycle rule on the folder
//! bounds it (docs/scaling.md).

use pixelway_cache::{CachedEntry, DiskCache, PutError, key_hash};
use pixelway_origins::object::ObjectOrigin;
use pixelway_origins::{Body, Fetch, Origin};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Copies to the bucket at once; a result made while this many are in flight stays on its node.
const MAX_COPIES_IN_FLIGHT: usize = 4;

/// The shared result tier: a folder of the Media Library's bucket.
#[derive(Debug)]
pub struct SharedResults {
    folder: ObjectOrigin,
    copies: Arc<Semaphore>,
}

impl SharedResults {
    /// The tier in `folder` (see `MediaLibrary::shared_results_folder`).
    pub fn new(folder: ObjectOrigin) -> Self {
        Self {
            folder,
            copies: Arc::new(Semaphore::new(MAX_COPIES_IN_FLIGHT)),
        }
    }

    /// The shared entry of `key`, copied into this node's `results` (at most `limit` bytes);
    /// `None` when there is none, or it is not whole, or the bucket fails (then the node
    /// transforms, as without the tier).
    pub async fn fetch(&self, results: &DiskCache, key: &str, limit: u64) -> Option<CachedEntry> {
        let name = object_name(key);
        let stream = match self.folder.fetch(&name).await {
            Fetch::Found(object) => match object.body {
                Body::Stream(stream) => stream,
                Body::Local(_) => return None,
            },
            Fetch::NotHere(_) => return None,
            Fetch::Failed(failure) => {
                tracing::warn!(%failure, "shared results: the bucket failed; transforming here");
                return None;
            }
        };
        match results.put_whole(key, stream, limit).await {
            Ok(entry) => Some(entry),
            Err(error @ PutError::NotAnEntry(_)) => {
                tracing::warn!(%error, object = %name, "shared results: a broken entry, deleted");
                self.forget(key).await;
                None
            }
            Err(error) => {
                tracing::warn!(%error, object = %name, "shared results: copying an entry failed");
                None
            }
        }
    }

    /// Copies `key`'s entry from this node's `results` to the bucket, in the background. Skipped
    /// (the result stays on this node) while [`MAX_COPIES_IN_FLIGHT`] copies run.
    pub fn share(&self, results: &DiskCache, key: &str) {
        let Ok(permit) = Arc::clone(&self.copies).try_acquire_owned() else {
            tracing::debug!("shared results: copies busy; this result stays on its node");
            return;
        };
        let file = results.entry_file(key);
        let name = object_name(key);
        let folder = self.folder.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(error) = folder.put_file(&name, &file).await {
                tracing::warn!(%error, object = %name, "shared results: sharing a result failed");
            }
        });
    }

    /// Deletes `key`'s entry from the bucket (purged, or broken). Awaited before the result is
    /// made again, so the new one it shares is never deleted in its place.
    pub async fn forget(&self, key: &str) {
        let name = object_name(key);
        if let Err(error) = self.folder.delete(&name).await {
            tracing::warn!(%error, object = %name, "shared results: deleting an entry failed");
        }
    }
}

/// `ab/abcdef…`: the key's hash, fanned out by its first two characters.
fn object_name(key: &str) -> String {
    let hash = key_hash(key);
    format!("{}/{hash}", &hash[..2])
}
