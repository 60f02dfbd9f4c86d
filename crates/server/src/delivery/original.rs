//! [`Original`]: a found file, open on local disk and described well enough to answer with
//! (content type from its bytes, strong ETag, size, modification time).

use super::sniff;
use pixelway_cache::CachedEntry;
use pixelway_origins::local::LocalFile;
use pixelway_origins::{Body, Failure, Object};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file ready to be served.
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
}

impl Original {
    /// An original served from the cache of originals.
    pub fn from_cache(entry: CachedEntry, origin_name: &str) -> Self {
        let meta = entry.meta;
        Self {
            origin_name: origin_name.to_string(),
            etag: format!("\"{}\"", &meta.sha256[..32.min(meta.sha256.len())]),
            last_modified: meta
                .last_modified
                .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            body: LocalFile {
                file: entry.file,
                offset: pixelway_cache::HEADER_OFFSET,
                len: meta.size,
                head: entry.head,
            },
            content_type: meta.content_type,
        }
    }

    /// An original that is a local file (Media Library on disk, local folder origin).
    pub fn from_object(object: Object, origin_name: &str, limit: u64) -> Result<Self, Failure> {
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
            body,
        })
    }
}
