//! [`Original`]: a found file, open on local disk and described well enough to answer with
//! (content type from its bytes, strong ETag, size, modification time).

use pixelway_cache::CachedEntry;
use pixelway_control::sniff;
use pixelway_origins::local::LocalFile;
use pixelway_origins::{Body, Failure, Object};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A file ready to be served or transformed.
#[derive(Debug, Clone)]
pub struct Original {
    /// Name of the origin that had it (for `x-pixelway-origin`).
    pub origin_name: String,
    pub content_type: String,
    /// Quoted strong ETag.
    pub etag: String,
    pub last_modified: Option<SystemTime>,
    /// The bytes: open file, offset, length and the first chunk already read.
    pub body: LocalFile,
    /// Until when what is made from it may be served from memory without looking at the
    /// origin again (`None`: until a write invalidates it).
    pub fresh_until: Option<Instant>,
}

impl Original {
    /// An original served from the cache of originals, used for `ttl` after it was stored.
    pub fn from_cache(entry: CachedEntry, origin_name: &str, ttl: Duration) -> Self {
        let meta = entry.meta;
        Self {
            origin_name: origin_name.to_string(),
            etag: etag_of_entry(&meta.sha256),
            last_modified: meta
                .last_modified
                .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            fresh_until: Some(Instant::now() + ttl.saturating_sub(meta.age())),
            body: LocalFile {
                file: entry.file,
                offset: pixelway_cache::HEADER_OFFSET,
                len: meta.size,
                head: entry.head,
            },
            content_type: meta.content_type,
        }
    }

    /// An original that is a local file (Media Library on disk, local folder origin), looked
    /// at again after `recheck` (`None`: only writes through pixelway change it).
    pub fn from_object(
        object: Object,
        origin_name: &str,
        limit: u64,
        recheck: Option<Duration>,
    ) -> Result<Self, Failure> {
        let Body::Local(body) = object.body else {
            return Err(Failure::other("expected a local file"));
        };
        if body.len > limit {
            return Err(Failure::TooLarge);
        }
        let mtime_nanos = object
            .last_modified
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            origin_name: origin_name.to_string(),
            content_type: sniff::content_type(&body.head),
            etag: format!("\"{:x}-{mtime_nanos:x}\"", body.len),
            last_modified: object.last_modified,
            fresh_until: recheck.map(|after| Instant::now() + after),
            body,
        })
    }
}

/// The ETag of a cache entry: the start of its SHA-256.
pub fn etag_of_entry(sha256: &str) -> String {
    format!("\"{}\"", &sha256[..32.min(sha256.len())])
}
