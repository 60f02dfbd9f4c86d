//! Local folders (the `local_folder` kind and a Media Library on disk), read with plain file
//! I/O: one blocking-pool trip opens the file, reads its metadata and its first chunk, which for
//! most images is the whole file. The rest is read on demand with positional reads.

use crate::{Body, Failure, Fetch, Miss, Object, Origin};
use bytes::Bytes;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes read up front from a local file (and the read size for the rest).
pub const CHUNK: usize = 256 * 1024;

/// A local file, open, with its first bytes already read.
#[derive(Debug, Clone)]
pub struct LocalFile {
    pub file: Arc<File>,
    /// Where the content starts in `file`.
    pub offset: u64,
    /// Content length from `offset`.
    pub len: u64,
    /// The first `min(len, CHUNK)` bytes of the content.
    pub head: Bytes,
}

impl LocalFile {
    /// Opens `path` and reads `len - offset` bytes' worth of head, all in the calling thread:
    /// call from `spawn_blocking`.
    pub fn open_blocking(path: &Path, offset: u64) -> io::Result<(Self, std::fs::Metadata)> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "not a file"));
        }
        let len = meta.len().saturating_sub(offset);
        let head = read_at(&file, offset, (len as usize).min(CHUNK))?;
        let local = Self {
            file: Arc::new(file),
            offset,
            len,
            head,
        };
        Ok((local, meta))
    }

    /// Reads `size` bytes at content position `position` (blocking).
    pub fn read_blocking(&self, position: u64, size: usize) -> io::Result<Bytes> {
        read_at(&self.file, self.offset + position, size)
    }
}

fn read_at(file: &File, at: u64, size: usize) -> io::Result<Bytes> {
    let mut buffer = vec![0u8; size];
    let mut filled = 0;
    while filled < size {
        match file.read_at(&mut buffer[filled..], at + filled as u64)? {
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank")),
            n => filled += n,
        }
    }
    Ok(Bytes::from(buffer))
}

/// Files under a folder.
#[derive(Debug, Clone)]
pub struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

#[async_trait::async_trait]
impl Origin for LocalFolder {
    async fn fetch(&self, path: &str) -> Fetch {
        // A second line of defence after routing: only plain relative names.
        let plain = !path.is_empty()
            && path
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'));
        if !plain {
            return Fetch::NotHere(Miss::NotFound);
        }
        let full = self.root.join(path);
        let opened = tokio::task::spawn_blocking(move || LocalFile::open_blocking(&full, 0)).await;
        match opened {
            Ok(Ok((local, meta))) => Fetch::Found(Object {
                size: Some(local.len),
                last_modified: meta.modified().ok(),
                body: Body::Local(local),
            }),
            Ok(Err(e)) => match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                    Fetch::NotHere(Miss::NotFound)
                }
                io::ErrorKind::PermissionDenied => Fetch::NotHere(Miss::Forbidden),
                _ => Fetch::Failed(Failure::other(e)),
            },
            Err(e) => Fetch::Failed(Failure::other(e)),
        }
    }
}

impl LocalFile {
    /// The content bytes `start..end` as a stream: from the head when it covers them, then in
    /// `CHUNK`-sized positional reads on the blocking pool.
    pub fn stream(self, start: u64, end: u64) -> crate::ByteStream {
        use futures::StreamExt;
        let end = end.min(self.len);
        let head_len = self.head.len() as u64;
        let from_head = if start < head_len {
            Some(self.head.slice(start as usize..end.min(head_len) as usize))
        } else {
            None
        };
        let rest_start = start.max(head_len);
        let first = futures::stream::iter(from_head.map(Ok));
        let rest = futures::stream::unfold(rest_start, move |position| {
            let local = self.clone();
            async move {
                if position >= end {
                    return None;
                }
                let size = ((end - position) as usize).min(CHUNK);
                let read = tokio::task::spawn_blocking(move || local.read_blocking(position, size))
                    .await
                    .unwrap_or_else(|e| Err(io::Error::other(e)));
                Some((read, position + size as u64))
            }
        });
        first.chain(rest).boxed()
    }
}
