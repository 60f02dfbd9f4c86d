//! Local folders (the `local_folder` kind and a Media Library on disk), read with plain file
//! I/O: one blocking-pool trip opens the file, reads its metadata and its first chunk, which for
//! most images is the whole file. The rest is read on demand with positional reads.
//!
//! A file is opened *beneath* its folder: no symbolic link, `..` or absolute link may lead out
//! of it (`openat2` with `RESOLVE_BENEATH`; on kernels without `openat2`, no link is followed at
//! all). A link inside the folder to the data directory's key file or database is never served.

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
    /// call from `spawn_blocking`. For paths pixelway made itself (cache entries); files named by
    /// a request go through [`LocalFile::open_beneath_blocking`].
    pub fn open_blocking(path: &Path, offset: u64) -> io::Result<(Self, std::fs::Metadata)> {
        Self::from_file(File::open(path)?, offset)
    }

    /// Opens `relative` inside `root` without following anything out of it (see the module
    /// comment), then as [`LocalFile::open_blocking`].
    pub fn open_beneath_blocking(
        root: &Path,
        relative: &str,
    ) -> io::Result<(Self, std::fs::Metadata)> {
        Self::from_file(open_beneath(root, relative)?, 0)
    }

    /// [`LocalFile::open_beneath_blocking`] without ever waiting for the disk, so it may run
    /// on the async runtime: the path is resolved only from the kernel's lookup cache
    /// (`RESOLVE_CACHED`) and the first chunk read only from the page cache (`RWF_NOWAIT`).
    /// `None` when anything is not in memory (or the kernel cannot say): then open it on the
    /// blocking pool. A hot file costs no trip to another thread this way.
    pub fn open_beneath_cached(
        root: &Path,
        relative: &str,
    ) -> Option<io::Result<(Self, std::fs::Metadata)>> {
        use rustix::fs::{CWD, Mode, OFlags, ResolveFlags};
        let cached = ResolveFlags::CACHED;
        let dir_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = match rustix::fs::openat2(CWD, root, dir_flags, Mode::empty(), cached) {
            Ok(dir) => dir,
            Err(_) => return None,
        };
        let read = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
        let beneath = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS | cached;
        let file = match rustix::fs::openat2(&dir, relative, read, Mode::empty(), beneath) {
            Ok(fd) => File::from(fd),
            Err(rustix::io::Errno::NOENT) => {
                return Some(Err(io::Error::from(io::ErrorKind::NotFound)));
            }
            Err(rustix::io::Errno::XDEV | rustix::io::Errno::LOOP) => {
                return Some(Err(outside_as_not_found(rustix::io::Errno::XDEV)));
            }
            // Not cached (EAGAIN), no openat2 (ENOSYS), anything else: the blocking way says.
            Err(_) => return None,
        };
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return Some(Err(io::Error::new(io::ErrorKind::NotFound, "not a file")));
        }
        let len = meta.len();
        let mut head = vec![0u8; (len as usize).min(CHUNK)];
        let mut filled = 0;
        while filled < head.len() {
            let mut slices = [std::io::IoSliceMut::new(&mut head[filled..])];
            match rustix::io::preadv2(
                &file,
                &mut slices,
                filled as u64,
                rustix::io::ReadWriteFlags::NOWAIT,
            ) {
                Ok(0) | Err(_) => return None,
                Ok(n) => filled += n,
            }
        }
        let local = Self {
            file: Arc::new(file),
            offset: 0,
            len,
            head: Bytes::from(head),
        };
        Some(Ok((local, meta)))
    }

    fn from_file(file: File, offset: u64) -> io::Result<(Self, std::fs::Metadata)> {
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

/// Opens `relative` (plain names joined by '/') for reading, resolved strictly beneath `root`.
/// A path that would leave the root reads as "not found".
pub fn open_beneath(root: &Path, relative: &str) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let dir = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let read = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let beneath = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    match rustix::fs::openat2(&dir, relative, read, Mode::empty(), beneath) {
        Ok(fd) => Ok(File::from(fd)),
        // Kernels before 5.6 have no openat2: follow no link at all.
        Err(rustix::io::Errno::NOSYS) => open_without_links(dir, relative, read),
        Err(e) => Err(outside_as_not_found(e)),
    }
}

/// Walks `relative` one component at a time with `O_NOFOLLOW`: any link is refused.
fn open_without_links(
    mut dir: rustix::fd::OwnedFd,
    relative: &str,
    read: rustix::fs::OFlags,
) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut components = relative.split('/').peekable();
    while let Some(name) = components.next() {
        let last = components.peek().is_none();
        let flags = if last {
            read | OFlags::NOFOLLOW
        } else {
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
        };
        dir = rustix::fs::openat(&dir, name, flags, Mode::empty()).map_err(|e| match e {
            // A link where a directory was expected.
            rustix::io::Errno::NOTDIR => outside_as_not_found(rustix::io::Errno::LOOP),
            other => outside_as_not_found(other),
        })?;
    }
    Ok(File::from(dir))
}

/// `EXDEV` (the path leaves the root) and `ELOOP` (a refused link) read as "not found": a
/// request learns nothing about what lies outside the folder.
fn outside_as_not_found(e: rustix::io::Errno) -> io::Error {
    match e {
        rustix::io::Errno::XDEV | rustix::io::Errno::LOOP => {
            io::Error::new(io::ErrorKind::NotFound, "path leads outside the folder")
        }
        other => other.into(),
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
        // A file in the kernel's caches is opened right here; any other on the blocking pool.
        let opened = match LocalFile::open_beneath_cached(&self.root, path) {
            Some(opened) => Ok(opened),
            None => {
                let root = self.root.clone();
                let path = path.to_string();
                tokio::task::spawn_blocking(move || LocalFile::open_beneath_blocking(&root, &path))
                    .await
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// The cached way gives what the blocking way gives, or nothing (never another answer).
    #[test]
    fn the_cached_open_agrees_with_the_blocking_one() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let bytes: Vec<u8> = (0..CHUNK as u32 + 1000).map(|n| n as u8).collect();
        std::fs::write(root.join("sub/big.bin"), &bytes).unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        symlink("../secret", root.join("out")).unwrap();
        // Just written: in the page cache, so the cached way answers.
        let (cached, meta) = LocalFile::open_beneath_cached(&root, "sub/big.bin")
            .expect("a file just written is cached")
            .unwrap();
        let (blocking, _) = LocalFile::open_beneath_blocking(&root, "sub/big.bin").unwrap();
        assert_eq!(cached.len, blocking.len);
        assert_eq!(meta.len(), bytes.len() as u64);
        assert_eq!(cached.head, blocking.head);
        assert_eq!(&cached.head[..], &bytes[..CHUNK]);
        for refused in ["out", "missing.jpg", "sub"] {
            if let Some(answer) = LocalFile::open_beneath_cached(&root, refused) {
                assert_eq!(
                    answer.unwrap_err().kind(),
                    io::ErrorKind::NotFound,
                    "{refused}"
                );
            }
        }
    }

    /// The walk used on kernels without `openat2` opens plain files and refuses every link.
    #[test]
    fn the_fallback_walk_follows_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.jpg"), b"a").unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        symlink("../secret", root.join("out")).unwrap();
        symlink("a.jpg", root.join("sub/in")).unwrap();
        symlink("sub", root.join("dir")).unwrap();
        let walk = |path: &str| {
            use rustix::fs::{Mode, OFlags};
            let dir =
                rustix::fs::open(&root, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
            open_without_links(dir, path, OFlags::RDONLY | OFlags::CLOEXEC)
        };
        let mut content = String::new();
        use std::io::Read;
        walk("sub/a.jpg")
            .unwrap()
            .read_to_string(&mut content)
            .unwrap();
        assert_eq!(content, "a");
        for refused in ["out", "sub/in", "dir/a.jpg"] {
            let err = walk(refused).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{refused}");
        }
        // openat2 itself allows the links that stay inside, and refuses the one that leaves.
        assert!(open_beneath(&root, "sub/in").is_ok());
        assert!(open_beneath(&root, "dir/a.jpg").is_ok());
        assert_eq!(
            open_beneath(&root, "out").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
