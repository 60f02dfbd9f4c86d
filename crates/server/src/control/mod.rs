//! The control plane: the one object the server owns that holds the store, the Media Library
//! and what a catalog is built from. Every surface that changes entities (the config file at
//! start, the management API, the dashboard) goes through it, and [`crate::App::reload`] puts
//! the change on the delivery path at once, without a restart.

mod media_library;

pub use media_library::{MediaError, MediaLibrary};

use crate::catalog::Catalog;
use arc_swap::ArcSwap;
use pixelway_origins::BuildContext;
use pixelway_store::{Store, StoreError};
use std::sync::Arc;

/// Store, Media Library and origin-building context, owned by the running server.
pub struct Control {
    store: Store,
    media: MediaLibrary,
    origins: BuildContext,
    public_hosts: Vec<String>,
    /// One catalog build at a time: two changes applied at once never swap in each other's
    /// older view.
    building: tokio::sync::Mutex<()>,
    /// Media Library writers of one path take turns (a path hashes to one of these).
    path_locks: Vec<tokio::sync::Mutex<()>>,
}

/// Why a catalog could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

impl Control {
    /// `origins` is the context account origins are built with (timeouts, address policy);
    /// `public_hosts` the hosts that serve `/{account}/…` URLs.
    pub fn new(
        store: Store,
        media: MediaLibrary,
        origins: BuildContext,
        public_hosts: Vec<String>,
    ) -> Self {
        Self {
            store,
            media,
            origins,
            public_hosts,
            building: tokio::sync::Mutex::new(()),
            path_locks: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }

    /// The locks Media Library writers take per path.
    pub fn path_locks(&self) -> &[tokio::sync::Mutex<()>] {
        &self.path_locks
    }

    /// The store every entity lives in.
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

    /// The Media Library, for writes.
    pub fn media(&self) -> &MediaLibrary {
        &self.media
    }

    /// A catalog of everything the store holds now.
    pub async fn build_catalog(&self) -> Result<Catalog, ControlError> {
        let _one_at_a_time = self.building.lock().await;
        self.build_catalog_locked().await
    }

    async fn build_catalog_locked(&self) -> Result<Catalog, ControlError> {
        let started = std::time::Instant::now();
        let snapshot = self.store.snapshot().await?;
        tracing::debug!(took = ?started.elapsed(), accounts = snapshot.accounts.len(), "store snapshot read");
        Ok(Catalog::build(
            &snapshot,
            &self.origins,
            &self.media,
            &self.public_hosts,
        )?)
    }

    /// Builds a catalog and swaps it in while still holding the build lock, so catalogs are
    /// swapped in the order they were built.
    pub(crate) async fn rebuild(&self, catalog: &ArcSwap<Catalog>) -> Result<(), ControlError> {
        let _one_at_a_time = self.building.lock().await;
        catalog.store(Arc::new(self.build_catalog_locked().await?));
        Ok(())
    }

    /// Rebuilds one account in the current catalog (everything else shared) and swaps the
    /// result in: what an account's own change costs, whatever the number of accounts.
    pub(crate) async fn rebuild_account(
        &self,
        account: &str,
        catalog: &ArcSwap<Catalog>,
    ) -> Result<(), ControlError> {
        let _one_at_a_time = self.building.lock().await;
        let snapshot = self.store.snapshot_of(account).await?;
        let next = catalog
            .load()
            .with_account(account, &snapshot, &self.origins, &self.media)?;
        catalog.store(Arc::new(next));
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use pixelway_store::SecretBox;

    /// A control plane over a fresh SQLite store and a local Media Library under `dir`.
    pub async fn control(dir: &std::path::Path) -> Control {
        let secrets = SecretBox::from_key_file(&dir.join("secrets.key")).unwrap();
        let url = format!("sqlite://{}", dir.join("pixelway.db").display());
        let store = Store::open(&url, secrets).await.unwrap();
        let origins = BuildContext {
            default_timeout: std::time::Duration::from_secs(1),
            address_policy: Default::default(),
        };
        let media = MediaLibrary::local(dir.join("media"), origins.clone()).unwrap();
        Control::new(store, media, origins, Vec::new())
    }

    /// A change in the store is on the delivery path after `App::reload`, not before.
    #[tokio::test]
    async fn reload_puts_store_changes_on_the_delivery_path() {
        use pixelway_route::Directory;
        let dir = tempfile::tempdir().unwrap();
        let control = control(dir.path()).await;
        let catalog = control.build_catalog().await.unwrap();
        let app = crate::App::new(
            control,
            catalog,
            pixelway_cache::DiskCache::open(dir.path().join("o"), 1 << 20)
                .await
                .unwrap(),
            pixelway_cache::DiskCache::open(dir.path().join("r"), 1 << 20)
                .await
                .unwrap(),
            crate::delivery::Workers::new(
                1,
                1,
                std::time::Duration::from_secs(1),
                Default::default(),
            ),
            crate::purge::tests::settings(),
        );
        let settings = pixelway_store::AccountSettings::default();
        app.control
            .store()
            .upsert_account("fresh", "private_fresh", "public_fresh", &settings)
            .await
            .unwrap();
        assert!(
            !app.catalog.load().has_account("fresh"),
            "not before reload"
        );
        app.reload().await.unwrap();
        assert!(app.catalog.load().has_account("fresh"));
        assert!(
            app.catalog.load().endpoint("fresh", "").is_some(),
            "with its default endpoint"
        );
    }
}
