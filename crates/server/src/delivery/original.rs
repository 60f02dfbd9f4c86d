//! [`Original`]: a found file, open on local disk and described well enough to answer with
//! (content type from its bytes, strong ETag, size, modification time).

use super::sniff;
use pixelway_cache::CachedEntry;
use pixelway_origins::{Body, Failure, Object};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A file ready to be served.
#[derive(Debug)]
pub struct Original {
    /// Name of the origin that had it (for `x-pixelway-origin`).
    pub origin_name: String,
    pub content_type: String,
    /// Quoted strong ETag.
    pub etag: String,
    pub last_modified: Option<SystemTime>,
    pub file: tokio::fs::File,
    /// Where the bytes start in `file`.
    pub offset: u64,
    pub len: u64,
}

impl Original {
    /// An original served from the cache of originals.
    pub fn from_cache(entry: CachedEntry, origin_name: &str) -> Self {
        let last_modified = entry
            .meta
            .last_modified
            .map(|s| UNIX_EPOCH + std::time::Duration::from_secs(s));
        Self {
            origin_name: origin_name.to_string(),
            content_type: entry.meta.content_type.clone(),
            etag: format!(
                "\"{}\"",
                &entry.meta.sha256[..32.min(entry.meta.sha256.len())]
            ),
            last_modified,
            offset: entry.body_offset(),
            len: entry.meta.size,
            file: entry.file,
        }
    }

    /// An original that is a local file (Media Library on disk, local folder origin).
    pub async fn from_object(
        object: Object,
        origin_name: &str,
        limit: u64,
    ) -> Result<Self, Failure> {
        let file = match object.body {
            Body::File(file) => tokio::fs::File::from_std(file),
            Body::Stream(_) => return Err(Failure::Other("expected a local file".into())),
        };
        let (mut file, len, modified) = describe(file)
            .await
            .map_err(|e| Failure::Other(e.to_string()))?;
        if len > limit {
            return Err(Failure::TooLarge);
        }
        let mut head = vec![0u8; 512.min(len as usize)];
        file.read_exact(&mut head)
            .await
            .map_err(|e| Failure::Other(e.to_string()))?;
        file.seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(|e| Failure::Other(e.to_string()))?;
        let mtime_nanos = modified
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            origin_name: origin_name.to_string(),
            content_type: sniff::content_type(&head),
            etag: format!("\"{len:x}-{mtime_nanos:x}\""),
            last_modified: modified,
            file,
            offset: 0,
            len,
        })
    }
}

async fn describe(
    file: tokio::fs::File,
) -> std::io::Result<(tokio::fs::File, u64, Option<SystemTime>)> {
    let meta = file.metadata().await?;
    Ok((file, meta.len(), meta.modified().ok()))
}
