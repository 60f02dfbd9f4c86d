//! The control plane: the one path every change takes, from every surface (the management
//! API, the dashboard through it, the config file at start, the embedded samples).
//!
//! [`Control`] owns the store, the Media Library, the catalog delivery routes by, the purge
//! ledger and the private-file answers. It has one method per kind of change; each one
//!
//! 1. validates what it is given ([`validate`]: names, origin specs, transformation text,
//!    paths, tags, coordinates),
//! 2. writes it to the store (and the Media Library),
//! 3. invalidates what it touched: the account in the catalog, the node's caches of a file or
//!    folder ([`NodeCaches`]), private-file answers, the purge ledger,
//!
//! and returns a typed [`ControlError`] when it refuses or fails. Surfaces only parse, call
//! and render; none of them writes to the store or invalidates a cache itself.
//!
//! - [`catalog`]: the in-memory view delivery routes by, rebuilt per account
//! - [`entities`]: accounts, origins, URL endpoints, named transformations, custom domains
//! - [`library`]: Media Library files and folders; [`media_library`]: their bytes
//! - [`purge`]: purges by URL and the ledger that makes older cache entries misses
//! - [`private_files`], [`readiness`], [`sniff`], [`validate`]

pub mod caches;
pub mod catalog;
pub mod changes;
pub mod credentials;
pub mod entities;
mod error;
pub mod library;
pub mod media_library;
pub mod private_files;
pub mod purge;
pub mod readiness;
mod shards;
pub mod sniff;
pub mod sorted_map;
pub mod validate;

pub use caches::{NoCaches, NodeCaches};
pub use catalog::{Catalog, MediaLibraryFactory};
pub use error::ControlError;
pub use media_library::{MediaError, MediaLibrary};

use arc_swap::ArcSwap;
use pixelway_origins::BuildContext;
use pixelway_store::Store;
use std::sync::Arc;

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What a [`Control`] is made of.
pub struct Parts {
    pub store: Store,
    pub media: MediaLibrary,
    /// The context account origins are built with (timeouts, outbound address policy).
    pub origins: BuildContext,
    /// The hosts that serve `/{account}/…` URLs (empty: every host).
    pub public_hosts: Vec<String>,
    /// The node's caches of files, which changes make stale.
    pub caches: Arc<dyn NodeCaches>,
}

/// The control plane of a running node: where every change comes in.
pub struct Control {
    store: Store,
    media: MediaLibrary,
    origins: BuildContext,
    public_hosts: Vec<String>,
    caches: Arc<dyn NodeCaches>,
    catalog: ArcSwap<Catalog>,
    /// One catalog build at a time: two changes applied at once never swap in each other's
    /// older view.
    building: tokio::sync::Mutex<()>,
    /// Media Library writers of one path take turns (a path hashes to one of these).
    path_locks: Vec<tokio::sync::Mutex<()>>,
    purges: purge::Ledger,
    private_files: private_files::PrivateFiles,
    readiness: readiness::Readiness,
    /// This node's name in the changes it records (random per start).
    node_id: String,
    /// The numbers of the recorded changes this node has applied.
    applied: std::sync::Mutex<changes::AppliedChanges>,
    /// The addresses this node listens on (`127.0.0.1:8080`): URLs an account hands in on them
    /// (purges) mean the same as on the first public host.
    own_hosts: std::sync::OnceLock<Vec<String>>,
}

impl Control {
    /// A control plane with an empty catalog: call [`Control::start`] before serving.
    pub fn new(parts: Parts) -> Self {
        Self {
            store: parts.store,
            media: parts.media,
            origins: parts.origins,
            public_hosts: parts.public_hosts,
            caches: parts.caches,
            catalog: ArcSwap::from_pointee(Catalog::default()),
            building: tokio::sync::Mutex::new(()),
            path_locks: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
            purges: purge::Ledger::default(),
            private_files: Default::default(),
            readiness: Default::default(),
            node_id: uuid::Uuid::new_v4().simple().to_string(),
            applied: Default::default(),
            own_hosts: Default::default(),
        }
    }

    /// Records the addresses this node listens on (see [`Control::as_public_host`]).
    pub fn set_own_hosts(&self, hosts: Vec<String>) {
        let _ = self.own_hosts.set(hosts);
    }

    /// The first public host, when `host` is one of this node's own addresses and public hosts
    /// are set: a URL on the listen address (as a client on the machine calls it) then means
    /// the URL the node hands out. `None` otherwise.
    pub fn as_public_host(&self, host: &str) -> Option<&str> {
        let own = self.own_hosts.get()?;
        let first = self.public_hosts.first()?;
        own.iter()
            .any(|h| h.eq_ignore_ascii_case(host))
            .then_some(first.as_str())
    }

    /// Builds the catalog of everything the store holds and reads the recorded purges. On a
    /// shared store, changes recorded from now on are applied by [`Control::follow_changes`].
    pub async fn start(&self) -> Result<(), ControlError> {
        if self.store.is_shared() {
            let last = self.store.last_change_id().await?;
            *self.applied_changes() = changes::AppliedChanges::through(last);
        }
        self.rebuild_all().await?;
        self.load_purges().await
    }

    /// The catalog delivery routes by, as of now.
    pub fn catalog(&self) -> arc_swap::Guard<Arc<Catalog>> {
        self.catalog.load()
    }

    /// The catalog as of now, kept for as long as the caller needs it.
    pub fn catalog_full(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// The store, for reads. Changes go through this type's methods.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The context account origins are built with (timeouts, outbound address policy): URL
    /// uploads are fetched under the same policy.
    pub fn origin_context(&self) -> &BuildContext {
        &self.origins
    }

    /// The hosts that serve `/{account}/…` URLs (empty: every host).
    pub fn public_hosts(&self) -> &[String] {
        &self.public_hosts
    }

    /// The Media Library, for spooling uploads and reading bytes.
    pub fn media(&self) -> &MediaLibrary {
        &self.media
    }

    /// Purges recorded so far: cached entries of a purged path stored before are misses.
    pub fn purges(&self) -> &purge::Ledger {
        &self.purges
    }

    /// What the start-up origin checks found (`/readyz`).
    pub fn readiness(&self) -> &readiness::Readiness {
        &self.readiness
    }

    /// Whether `path` of `account`'s library is private (asked only for accounts the catalog
    /// says have private files).
    pub async fn is_private_file(&self, account: &str, path: &str) -> Result<bool, ControlError> {
        Ok(self
            .private_files
            .is_private(&self.store, account, path)
            .await?)
    }

    /// Rebuilds the whole catalog from the store and swaps it in (at start).
    async fn rebuild_all(&self) -> Result<(), ControlError> {
        let _one_at_a_time = self.building.lock().await;
        let started = std::time::Instant::now();
        // Each part of the store's accounts is read and built on a task of its own: reading
        // rows and building accounts overlap on all cores, and a part's rows are let go as soon
        // as its accounts are built (with a hundred thousand accounts, the start's peak).
        let parts = self.store.snapshot_parts().await?;
        let builds = parts.into_iter().map(|part| {
            let (store, ctx, media) =
                (self.store.clone(), self.origins.clone(), self.media.clone());
            tokio::spawn(async move {
                let snapshot = store.snapshot_part(&part).await?;
                let build = move || catalog::build_accounts(&snapshot, &ctx, &media);
                let accounts = tokio::task::spawn_blocking(build)
                    .await
                    .map_err(|_| catalog::CatalogError::BuilderPanicked)??;
                Ok::<_, ControlError>(accounts)
            })
        });
        let mut accounts = Vec::new();
        for built in futures::future::join_all(builds).await {
            accounts.push(built.map_err(|_| catalog::CatalogError::BuilderPanicked)??);
        }
        let catalog = Catalog::from_accounts(accounts, &self.public_hosts);
        tracing::debug!(took = ?started.elapsed(), accounts = catalog.account_count(), "catalog read and built");
        self.catalog.store(Arc::new(catalog));
        Ok(())
    }

    /// Puts an account's change on the delivery path, here and on every other node. Every
    /// change method of an account's entities ends here.
    async fn account_changed(&self, account: &str) -> Result<(), ControlError> {
        self.rebuild_account(account).await?;
        self.publish(changes::Change::Account {
            account: account.to_string(),
        })
        .await;
        Ok(())
    }

    /// That account alone rebuilt from the store (everything else shared) and swapped in.
    async fn rebuild_account(&self, account: &str) -> Result<(), ControlError> {
        let _one_at_a_time = self.building.lock().await;
        let snapshot = self.store.snapshot_of(account).await?;
        let next =
            self.catalog
                .load()
                .with_account(account, &snapshot, &self.origins, &self.media)?;
        self.catalog.store(Arc::new(next));
        Ok(())
    }

    /// Loads the purges recorded in the store into the ledger (at start).
    async fn load_purges(&self) -> Result<(), ControlError> {
        let mut collapsed = std::collections::HashMap::new();
        for (account, path, wildcard, at) in self.store.purges().await? {
            if let Some(until) = self
                .purges
                .record(&account, &path, wildcard, at.max(0) as u64)
            {
                collapsed.insert(account, until);
            }
        }
        for (account, until) in collapsed {
            self.store.collapse_purges(&account, until as i64).await?;
        }
        Ok(())
    }

    /// The lock of one library path: writers of the same path take turns.
    async fn lock_path(&self, account: &str, path: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (account, path).hash(&mut hasher);
        self.path_locks[hasher.finish() as usize % self.path_locks.len()]
            .lock()
            .await
    }
}

#[cfg(any(test, feature = "test-support"))]
pub mod test_support {
    //! A control plane over a fresh SQLite store, for tests of this crate and the ones above.
    use super::*;
    use pixelway_store::SecretBox;

    /// A control plane over a fresh SQLite store and a local Media Library under `dir`, with
    /// `caches` as the node's caches; started (empty catalog built).
    pub async fn control_with(dir: &std::path::Path, caches: Arc<dyn NodeCaches>) -> Control {
        let secrets = SecretBox::from_key_file(&dir.join("secrets.key")).unwrap();
        let url = format!("sqlite://{}", dir.join("pixelway.db").display());
        let store = Store::open(&url, secrets).await.unwrap();
        // Origins of tests live on loopback, as a test server's config allows them.
        let origins = BuildContext {
            default_timeout: std::time::Duration::from_secs(1),
            address_policy: pixelway_origins::guard::AddressPolicy {
                allow_private: false,
                allowed_networks: vec!["127.0.0.0/8".parse().expect("a network")],
            },
        };
        let media = MediaLibrary::local(dir.join("media"), origins.clone()).unwrap();
        let control = Control::new(Parts {
            store,
            media,
            origins,
            public_hosts: vec!["img.test".to_string()],
            caches,
        });
        control.start().await.unwrap();
        control
    }

    /// [`control_with`] without caches.
    pub async fn control(dir: &std::path::Path) -> Control {
        control_with(dir, Arc::new(NoCaches)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixelway_route::Directory;

    /// A change through a change method is on the delivery path when the method returns.
    #[tokio::test]
    async fn a_change_is_on_the_delivery_path_when_its_method_returns() {
        let dir = tempfile::tempdir().unwrap();
        let control = test_support::control(dir.path()).await;
        assert!(!control.catalog().has_account("fresh"));
        control.create_account("fresh").await.unwrap();
        assert!(control.catalog().has_account("fresh"));
        assert!(
            control.catalog().endpoint("fresh", "").is_some(),
            "with its default endpoint"
        );
        control.delete_account("fresh").await.unwrap();
        assert!(!control.catalog().has_account("fresh"));
    }
}
