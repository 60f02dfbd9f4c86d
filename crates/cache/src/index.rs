//! The in-memory index of a disk cache: entry sizes in least-recently-used order, and the total
//! they add up to. Rebuilt from the files at start-up (oldest modification first).

use lru::LruCache;
use std::io;
use std::path::Path;

#[derive(Debug)]
pub(crate) struct Index {
    lru: LruCache<String, u64>,
    total: u64,
    max_bytes: u64,
}

impl Index {
    pub(crate) fn new(max_bytes: u64) -> Self {
        Self {
            lru: LruCache::unbounded(),
            total: 0,
            max_bytes,
        }
    }

    /// Indexes the entries under `dir`, removing leftover temporary files.
    pub(crate) fn scan(dir: &Path, max_bytes: u64) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let _ = std::fs::remove_dir_all(dir.join("tmp"));
        let mut found = Vec::new();
        collect(dir, 0, &mut found)?;
        found.sort_by_key(|(_, _, modified)| *modified);
        let mut index = Self::new(max_bytes);
        for (hash, size, _) in found {
            for victim in index.insert(&hash, size) {
                let _ = std::fs::remove_file(crate::entry_path(dir, &victim));
            }
        }
        Ok(index)
    }

    /// Records an entry as most recently used; returns the hashes evicted to stay in bounds
    /// (never the entry just inserted).
    pub(crate) fn insert(&mut self, hash: &str, size: u64) -> Vec<String> {
        if let Some(old) = self.lru.put(hash.to_string(), size) {
            self.total -= old;
        }
        self.total += size;
        let mut evicted = Vec::new();
        // The entry just inserted is the most recently used, so it is popped last: keep it.
        while self.total > self.max_bytes && self.lru.len() > 1 {
            if let Some((victim, victim_size)) = self.lru.pop_lru() {
                self.total -= victim_size;
                evicted.push(victim);
            }
        }
        evicted
    }

    pub(crate) fn touch(&mut self, hash: &str) {
        self.lru.get(hash);
    }

    pub(crate) fn forget(&mut self, hash: &str) {
        if let Some(size) = self.lru.pop(hash) {
            self.total -= size;
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

type Found = Vec<(String, u64, std::time::SystemTime)>;

fn collect(dir: &Path, depth: usize, found: &mut Found) -> io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let meta = item.metadata()?;
        let name = item.file_name().to_string_lossy().into_owned();
        if meta.is_dir() && depth < 2 && name.len() == 2 {
            collect(&item.path(), depth + 1, found)?;
        } else if meta.is_file() && depth == 2 && name.len() == 64 {
            let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            found.push((name, meta.len(), modified));
        }
    }
    Ok(())
}
