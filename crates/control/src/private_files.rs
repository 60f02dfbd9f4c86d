//! Which Media Library files are private (served only with a valid signature). The fact lives in
//! the store, per file; delivery asks here, and the answers are kept in a bounded LRU so a hot
//! URL costs no query. Only accounts that have a private file at all are asked about (the
//! catalog knows which), so most requests never come here. Every surface that changes a file's
//! privacy or path calls [`PrivateFiles::forget`].

use pixelway_store::{Store, StoreError};
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// The cache of answers.
pub struct PrivateFiles {
    answers: Mutex<lru::LruCache<(String, String), bool>>,
}

/// Answers kept (an entry is two short strings and a flag).
const CAPACITY: usize = 100_000;

impl Default for PrivateFiles {
    fn default() -> Self {
        Self {
            answers: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(CAPACITY).expect("not zero"),
            )),
        }
    }
}

impl PrivateFiles {
    /// Whether `path` of `account`'s library is private.
    pub async fn is_private(
        &self,
        store: &Store,
        account: &str,
        path: &str,
    ) -> Result<bool, StoreError> {
        let key = (account.to_string(), path.to_string());
        if let Some(answer) = self.lock().get(&key) {
            return Ok(*answer);
        }
        let answer = store.is_private_file(account, path).await?;
        self.lock().put(key, answer);
        Ok(answer)
    }

    /// Drops the answer for `path` (its file was written, changed, moved or deleted).
    pub fn forget(&self, account: &str, path: &str) {
        self.lock().pop(&(account.to_string(), path.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<(String, String), bool>> {
        self.answers.lock().unwrap_or_else(|e| e.into_inner())
    }
}
