//! Caches: on disk (originals and transformed results), in memory (hot answers), and the
//! coalescing of identical work.
//!
//! - [`DiskCache`]: entries on local disk, each one file (a small JSON header, then the bytes),
//!   written to a temporary file and renamed into place, so a partial entry is never served.
//!   Bounded in bytes with least-recently-used eviction; entries older than a TTL are misses.
//! - [`MemoryCache`]: hot objects in RAM, bounded in bytes, scan-resistant, invalidated by
//!   scope in O(1).
//! - [`Coalescer`]: N concurrent callers asking for one key share one execution of the work.

mod coalesce;
mod entry;
mod index;
mod memory;

pub use coalesce::Coalescer;
pub use entry::{CachedEntry, EntryMeta, HEAD_LEN};
pub use memory::{MemoryCache, MemoryStats, Stamp, Weighed};

/// Where an entry's body starts in its file (after the fixed header).
pub const HEADER_OFFSET: u64 = entry::HEADER_LEN as u64;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// Why an entry could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("reading the source failed: {0}")]
    Source(io::Error),
    #[error("cache I/O: {0}")]
    Io(#[from] io::Error),
    /// An entry copied whole from elsewhere is not one: no header, or bytes that do not match it.
    #[error("not a whole cache entry: {0}")]
    NotAnEntry(&'static str),
}

/// A bounded, LRU-evicted cache of byte blobs on local disk.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    index: Mutex<index::Index>,
}

/// The stable file name for a logical key.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl DiskCache {
    /// Opens (creating) a cache under `dir` bounded to `max_bytes`, indexing what is there.
    pub async fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> io::Result<Self> {
        let dir = dir.into();
        let scan_dir = dir.clone();
        let index = tokio::task::spawn_blocking(move || index::Index::scan(&scan_dir, max_bytes))
            .await
            .map_err(io::Error::other)??;
        Ok(Self {
            dir,
            index: Mutex::new(index),
        })
    }

    /// Opens the entry for `key` when present and younger than `max_age`.
    pub async fn get(&self, key: &str, max_age: Option<Duration>) -> Option<CachedEntry> {
        let hash = key_hash(key);
        let path = self.path_of(&hash);
        let entry = match CachedEntry::open(&path).await {
            Ok(entry) => entry,
            Err(_) => {
                self.lock().forget(&hash);
                return None;
            }
        };
        if let Some(max_age) = max_age
            && entry.meta.age() > max_age
        {
            return None;
        }
        self.lock().touch(&hash);
        Some(entry)
    }

    /// Removes the entry for `key`; says whether there was one.
    pub async fn remove(&self, key: &str) -> bool {
        let hash = key_hash(key);
        self.lock().forget(&hash);
        tokio::fs::remove_file(self.path_of(&hash)).await.is_ok()
    }

    /// Streams `body` into the entry for `key`, refusing more than `limit` bytes. `sniff` names
    /// the content type from the first bytes. The entry appears atomically when complete; on any
    /// error nothing is left behind.
    pub async fn put<S>(
        &self,
        key: &str,
        mut meta: EntryMeta,
        body: S,
        limit: u64,
        sniff: fn(&[u8]) -> String,
    ) -> Result<CachedEntry, PutError>
    where
        S: Stream<Item = io::Result<Bytes>> + Unpin,
    {
        self.put_with(key, |tmp_path| async move {
            write_entry(&tmp_path, &mut meta, body, limit, sniff).await
        })
        .await
    }

    /// Stores an entry copied whole from elsewhere: the header and bytes [`DiskCache::entry_file`]
    /// holds, as another node's cache wrote them. Refused unless it is one — pixelway's header,
    /// the size it declares, the SHA-256 of the bytes — and past `limit` body bytes. The header
    /// is kept as it is, `stored_at` included: the entry counts from when it was made, so a
    /// purge since then makes it a miss here as it would there.
    pub async fn put_whole<S>(
        &self,
        key: &str,
        whole: S,
        limit: u64,
    ) -> Result<CachedEntry, PutError>
    where
        S: Stream<Item = io::Result<Bytes>> + Unpin,
    {
        self.put_with(key, |tmp_path| async move {
            copy_whole_entry(&tmp_path, whole, limit).await
        })
        .await
    }

    /// The file that holds `key`'s entry (header and bytes), whether or not it exists.
    pub fn entry_file(&self, key: &str) -> PathBuf {
        self.path_of(&key_hash(key))
    }

    /// Writes an entry into a temporary file with `write` (which returns the file's size), then
    /// puts it in place and in the index: it appears whole or not at all.
    async fn put_with<W, F>(&self, key: &str, write: W) -> Result<CachedEntry, PutError>
    where
        W: FnOnce(PathBuf) -> F,
        F: Future<Output = Result<u64, PutError>>,
    {
        let hash = key_hash(key);
        let final_path = self.path_of(&hash);
        let tmp_dir = self.dir.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let tmp_path = tmp_dir.join(format!("{hash}.{}", rand_suffix()));
        let size = match write(tmp_path.clone()).await {
            Ok(size) => size,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp_path).await;
                return Err(e);
            }
        };
        if let Some(parent) = final_path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&tmp_path, &final_path).await?;
        let evicted = self.lock().insert(&hash, size);
        for victim in evicted {
            let _ = tokio::fs::remove_file(self.path_of(&victim)).await;
        }
        Ok(CachedEntry::open(&final_path).await?)
    }

    /// Bytes currently held (headers included).
    pub fn total_bytes(&self) -> u64 {
        self.lock().total()
    }

    fn path_of(&self, hash: &str) -> PathBuf {
        entry_path(&self.dir, hash)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, index::Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `dir/ab/cd/abcd…`: two levels of fan-out keep directories small.
pub(crate) fn entry_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(&hash[..2]).join(&hash[2..4]).join(hash)
}

fn rand_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}-{nanos}.tmp", std::process::id())
}

/// Writes a header placeholder, the body, then the real header; returns the file size.
async fn write_entry<S>(
    tmp_path: &Path,
    meta: &mut EntryMeta,
    mut body: S,
    limit: u64,
    sniff: fn(&[u8]) -> String,
) -> Result<u64, PutError>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    let mut file =
        tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::create(tmp_path).await?);
    file.write_all(&[0u8; entry::HEADER_LEN]).await?;
    let mut hasher = Sha256::new();
    let mut written: u64 = 0;
    let mut head = Vec::with_capacity(entry::SNIFF_LEN);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(PutError::Source)?;
        if head.len() < entry::SNIFF_LEN {
            let take = (entry::SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        append_body(&mut file, &mut hasher, &mut written, limit, &chunk).await?;
    }
    meta.size = written;
    meta.sha256 = hex::encode(hasher.finalize());
    meta.content_type = sniff(&head);
    file.seek(std::io::SeekFrom::Start(0)).await?;
    file.write_all(&entry::encode_header(meta)?).await?;
    file.flush().await?;
    file.into_inner().sync_data().await?;
    Ok(entry::HEADER_LEN as u64 + written)
}

/// Appends one chunk of an entry's body to `file`, counted into `written` (at most `limit`) and
/// hashed.
async fn append_body(
    file: &mut tokio::io::BufWriter<tokio::fs::File>,
    hasher: &mut Sha256,
    written: &mut u64,
    limit: u64,
    chunk: &[u8],
) -> Result<(), PutError> {
    *written += chunk.len() as u64;
    if *written > limit {
        return Err(PutError::TooLarge(limit));
    }
    hasher.update(chunk);
    file.write_all(chunk).await?;
    Ok(())
}

/// Copies a whole entry (header, then bytes) into `tmp_path`, checking it on the way: the
/// header must decode, the bytes must be as many as it says (at most `limit`) and hash to its
/// SHA-256. Returns the file's size.
async fn copy_whole_entry<S>(tmp_path: &Path, mut whole: S, limit: u64) -> Result<u64, PutError>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    let mut file =
        tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::create(tmp_path).await?);
    let mut header = Vec::with_capacity(entry::HEADER_LEN);
    let mut meta: Option<EntryMeta> = None;
    let mut hasher = Sha256::new();
    let mut body_len: u64 = 0;
    while let Some(chunk) = whole.next().await {
        let mut chunk = chunk.map_err(PutError::Source)?;
        if meta.is_none() {
            let take = (entry::HEADER_LEN - header.len()).min(chunk.len());
            header.extend_from_slice(&chunk.split_to(take));
            if header.len() < entry::HEADER_LEN {
                continue;
            }
            let decoded = entry::decode_header(&header)
                .map_err(|_| PutError::NotAnEntry("no entry header"))?;
            if decoded.size > limit {
                return Err(PutError::TooLarge(limit));
            }
            file.write_all(&header).await?;
            meta = Some(decoded);
        }
        append_body(&mut file, &mut hasher, &mut body_len, limit, &chunk).await?;
    }
    let meta = meta.ok_or(PutError::NotAnEntry("shorter than an entry header"))?;
    if body_len != meta.size {
        return Err(PutError::NotAnEntry(
            "the bytes are not as many as the header says",
        ));
    }
    if hex::encode(hasher.finalize()) != meta.sha256 {
        return Err(PutError::NotAnEntry(
            "the bytes do not match the header's SHA-256",
        ));
    }
    file.flush().await?;
    file.into_inner().sync_data().await?;
    Ok(entry::HEADER_LEN as u64 + body_len)
}

#[cfg(test)]
mod tests;
