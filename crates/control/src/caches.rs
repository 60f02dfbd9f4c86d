//! [`NodeCaches`]: what a node keeps of files besides the store — cached originals and answers
//! in memory — as the control plane sees it. A change forgets what it touched through this
//! trait; the delivery path implements it over its own caches, so the control plane needs no
//! delivery types.

/// The node's caches of files, for the changes that make parts of them stale.
#[async_trait::async_trait]
pub trait NodeCaches: Send + Sync {
    /// `path` of `account` changed (written, replaced, moved away, deleted, purged): its cached
    /// originals from each origin in `origin_ids` and its answers in memory are dropped.
    /// Returns how many cached originals were removed.
    async fn forget_file(&self, account: &str, path: &str, origin_ids: &[String]) -> usize;

    /// Everything of `account` in `folder` (`a/b/`, `""` for the whole library) and below was
    /// purged: its answers in memory are dropped (cached originals are left to the purge
    /// ledger, which makes them misses).
    async fn forget_folder(&self, account: &str, folder: &str);
}

/// A node without caches (tools and tests that change the store without serving).
#[derive(Debug, Default)]
pub struct NoCaches;

#[async_trait::async_trait]
impl NodeCaches for NoCaches {
    async fn forget_file(&self, _: &str, _: &str, _: &[String]) -> usize {
        0
    }

    async fn forget_folder(&self, _: &str, _: &str) {}
}
