//! One cache entry on disk: a fixed-size header (magic, length, JSON [`EntryMeta`]) followed by
//! the bytes. A fixed header lets the writer stream the body first and fill the header last.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes reserved for the header at the start of every entry file.
pub(crate) const HEADER_LEN: usize = 4096;
/// Bytes of the body looked at to name its content type.
pub(crate) const SNIFF_LEN: usize = 512;
/// Bytes of the body read when an entry is opened: all of most images.
pub const HEAD_LEN: usize = 256 * 1024;
const MAGIC: &[u8; 4] = b"PXW1";

/// What is known about a cached blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryMeta {
    /// Body size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the body (the strong ETag).
    pub sha256: String,
    /// Content type sniffed from the bytes.
    pub content_type: String,
    /// When the entry was stored (unix seconds).
    pub stored_at: u64,
    /// The origin's Last-Modified (unix seconds), if it said.
    pub last_modified: Option<u64>,
    /// Free-form label of where the bytes came from (an origin name).
    pub source: String,
}

impl EntryMeta {
    /// A fresh header for an entry from `source`, stored now.
    pub fn new(source: &str, last_modified: Option<SystemTime>) -> Self {
        Self {
            stored_at: unix_seconds(SystemTime::now()),
            last_modified: last_modified.map(unix_seconds),
            source: source.to_string(),
            ..Self::default()
        }
    }

    /// How long ago the entry was stored.
    pub fn age(&self) -> Duration {
        let now = unix_seconds(SystemTime::now());
        Duration::from_secs(now.saturating_sub(self.stored_at))
    }
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An open cache entry: its header, the file, and the first bytes of the body already read.
#[derive(Debug)]
pub struct CachedEntry {
    pub meta: EntryMeta,
    pub file: Arc<std::fs::File>,
    /// The first `min(size, HEAD_LEN)` bytes of the body.
    pub head: Bytes,
}

impl CachedEntry {
    /// Opens an entry and reads its header and the start of its body in one trip to the
    /// blocking pool.
    pub(crate) async fn open(path: &Path) -> io::Result<Self> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(io::Error::other)?
    }

    fn open_blocking(path: &Path) -> io::Result<Self> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(path)?;
        let mut header = vec![0u8; HEADER_LEN];
        file.read_exact_at(&mut header, 0)?;
        let meta = decode_header(&header)?;
        if file.metadata()?.len() != HEADER_LEN as u64 + meta.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry size mismatch",
            ));
        }
        let mut head = vec![0u8; (meta.size as usize).min(HEAD_LEN)];
        file.read_exact_at(&mut head, HEADER_LEN as u64)?;
        Ok(Self {
            meta,
            file: Arc::new(file),
            head: Bytes::from(head),
        })
    }

    /// Where the body starts in [`CachedEntry::file`].
    pub fn body_offset(&self) -> u64 {
        HEADER_LEN as u64
    }
}

pub(crate) fn encode_header(meta: &EntryMeta) -> io::Result<Vec<u8>> {
    let json = serde_json::to_vec(meta)?;
    if json.len() + 8 > HEADER_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "entry header too large",
        ));
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&(json.len() as u32).to_le_bytes());
    header.extend_from_slice(&json);
    header.resize(HEADER_LEN, 0);
    Ok(header)
}

fn decode_header(header: &[u8]) -> io::Result<EntryMeta> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a cache entry");
    if header.get(..4) != Some(MAGIC.as_slice()) {
        return Err(bad());
    }
    let len = u32::from_le_bytes(header[4..8].try_into().map_err(|_| bad())?) as usize;
    let json = header.get(8..8 + len).ok_or_else(bad)?;
    serde_json::from_slice(json).map_err(|_| bad())
}
