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
    /// What the bytes were made despite (a result drawn from a truncated input), served with
    /// them as `x-pixelway-warning`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
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
    /// Opens an entry and reads its header and the start of its body: right here when all of
    /// it is in the kernel's caches (nothing waits for the disk), else in one trip to the
    /// blocking pool.
    pub(crate) async fn open(path: &Path) -> io::Result<Self> {
        if let Some(opened) = Self::open_cached(path) {
            return opened;
        }
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(io::Error::other)?
    }

    fn open_blocking(path: &Path) -> io::Result<Self> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(path)?;
        Self::read(file, |file, buffer, at| file.read_exact_at(buffer, at))
    }

    /// The entry when its path, header and first bytes are all cached (`RESOLVE_CACHED`,
    /// `RWF_NOWAIT`); `None` when something would have to come from the disk.
    fn open_cached(path: &Path) -> Option<io::Result<Self>> {
        use rustix::fs::{CWD, Mode, OFlags, ResolveFlags};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let file = match rustix::fs::openat2(CWD, path, flags, Mode::empty(), ResolveFlags::CACHED)
        {
            Ok(fd) => std::fs::File::from(fd),
            Err(rustix::io::Errno::NOENT) => {
                return Some(Err(io::Error::from(io::ErrorKind::NotFound)));
            }
            Err(_) => return None,
        };
        let mut would_block = false;
        let read = Self::read(file, |file, buffer, at| {
            read_exact_nowait(file, buffer, at).inspect_err(|e| {
                would_block = e.kind() == io::ErrorKind::WouldBlock;
            })
        });
        (!would_block).then_some(read)
    }

    /// Reads the header and the first bytes of the body of `file` with `read_at`.
    fn read(
        file: std::fs::File,
        mut read_at: impl FnMut(&std::fs::File, &mut [u8], u64) -> io::Result<()>,
    ) -> io::Result<Self> {
        let mut header = vec![0u8; HEADER_LEN];
        read_at(&file, &mut header, 0)?;
        let meta = decode_header(&header)?;
        if file.metadata()?.len() != HEADER_LEN as u64 + meta.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry size mismatch",
            ));
        }
        let mut head = vec![0u8; (meta.size as usize).min(HEAD_LEN)];
        read_at(&file, &mut head, HEADER_LEN as u64)?;
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

/// Fills `buffer` from `at` with reads that never wait for the disk: `WouldBlock` when a part
/// is not in the page cache.
fn read_exact_nowait(file: &std::fs::File, buffer: &mut [u8], at: u64) -> io::Result<()> {
    let mut filled = 0;
    while filled < buffer.len() {
        let mut slices = [io::IoSliceMut::new(&mut buffer[filled..])];
        let flags = rustix::io::ReadWriteFlags::NOWAIT;
        match rustix::io::preadv2(file, &mut slices, at + filled as u64, flags) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) => filled += n,
            Err(_) => return Err(io::Error::from(io::ErrorKind::WouldBlock)),
        }
    }
    Ok(())
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

pub(crate) fn decode_header(header: &[u8]) -> io::Result<EntryMeta> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a cache entry");
    if header.get(..4) != Some(MAGIC.as_slice()) {
        return Err(bad());
    }
    let len = u32::from_le_bytes(header[4..8].try_into().map_err(|_| bad())?) as usize;
    let json = header.get(8..8 + len).ok_or_else(bad)?;
    serde_json::from_slice(json).map_err(|_| bad())
}
