//! The Media Library's storage: a local folder (embedded default) or an S3-compatible bucket,
//! one sub-folder or key prefix per account. Reads go through the account's Media Library origin
//! (the first of every endpoint's chain); writes go through [`MediaLibrary::put`] and
//! [`MediaLibrary::store`].
//!
//! Durability: a file is written whole to a spool file, synced, and only then renamed into place
//! (and its folder synced), so a crash leaves the old bytes or the new ones, never a half file.
//! Spool files left by a crash are removed when the library is opened.

use crate::catalog::{CatalogError, MediaLibraryFactory};
use pixelway_origins::object::ObjectOrigin;
use pixelway_origins::{BuildContext, EffectiveSettings, Origin, OriginSpec, SpecError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where Media Library files live.
#[derive(Debug, Clone)]
pub enum MediaLibrary {
    /// `root/{account}/{path}` on local disk.
    Local { root: PathBuf, ctx: BuildContext },
    /// An S3 bucket; `spec` holds the bucket and the prefix every account's folder goes under;
    /// uploads are spooled under `spool` first.
    S3 {
        spec: OriginSpec,
        ctx: BuildContext,
        spool: PathBuf,
    },
}

/// The bucket folder of shared results ([`MediaLibrary::shared_results_folder`]); a backup of the
/// library leaves it out (it is a cache).
pub const SHARED_RESULTS_FOLDER: &str = ".results";

/// The folder of the local library where uploads are spooled (on the library's own file
/// system, so that putting a file in place is a rename). Account ids never start with a dot.
const LOCAL_SPOOL: &str = ".incoming";

/// Why a Media Library write failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media library folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("media library bucket: {0}")]
    Bucket(String),
}

impl MediaLibrary {
    /// A library under a local folder, created when missing.
    pub fn local(root: PathBuf, ctx: BuildContext) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        clear_spool(&root.join(LOCAL_SPOOL))?;
        Ok(Self::Local { root, ctx })
    }

    /// A library in an S3 bucket, spooling uploads under `spool`.
    pub fn s3(spec: OriginSpec, ctx: BuildContext, spool: PathBuf) -> std::io::Result<Self> {
        clear_spool(&spool)?;
        Ok(Self::S3 { spec, ctx, spool })
    }

    /// Where uploads are written before they are stored.
    pub fn spool(&self) -> PathBuf {
        match self {
            Self::Local { root, .. } => root.join(LOCAL_SPOOL),
            Self::S3 { spool, .. } => spool.clone(),
        }
    }

    /// Stores a spooled file (already complete) at `path` of an account's library: on disk
    /// synced, renamed into place and its folder synced; in a bucket streamed from the spool
    /// (one PUT, or a multipart upload for large files: the object appears only when complete).
    /// When this returns the bytes are durable.
    pub async fn store(
        &self,
        account: &str,
        path: &str,
        spooled: tempfile::NamedTempFile,
    ) -> Result<(), MediaError> {
        match self {
            Self::Local { root, .. } => {
                let target = root.join(account).join(path);
                tokio::task::spawn_blocking(move || persist_durably(spooled, &target))
                    .await
                    .map_err(|e| MediaError::Io(std::io::Error::other(e)))??;
                Ok(())
            }
            Self::S3 { .. } => self
                .bucket(account)?
                .put_file(path, spooled.path())
                .await
                .map_err(MediaError::Bucket),
        }
    }

    /// A new spool file, for [`MediaLibrary::store`].
    pub fn spool_file(&self) -> Result<tempfile::NamedTempFile, MediaError> {
        let spool = self.spool();
        std::fs::create_dir_all(&spool)?;
        Ok(tempfile::Builder::new()
            .suffix(".pixelway-tmp")
            .tempfile_in(spool)?)
    }

    /// Copies the bytes of `path` into a new spool file.
    pub async fn read_into_spool(
        &self,
        account: &str,
        path: &str,
    ) -> Result<tempfile::NamedTempFile, MediaError> {
        let spooled = self.spool_file()?;
        match self {
            Self::Local { root, .. } => {
                let source = pixelway_origins::local::open_beneath(&root.join(account), path)?;
                let mut target = spooled.reopen()?;
                tokio::task::spawn_blocking(move || {
                    let mut source = source;
                    std::io::copy(&mut source, &mut target)
                })
                .await
                .map_err(|e| MediaError::Io(std::io::Error::other(e)))??;
            }
            Self::S3 { .. } => {
                self.bucket(account)?
                    .get_into(path, spooled.path())
                    .await
                    .map_err(MediaError::Bucket)?;
            }
        }
        Ok(spooled)
    }

    /// Removes an account's whole library (its account was deleted).
    pub async fn remove_account(&self, account: &str) -> Result<(), MediaError> {
        match self {
            Self::Local { root, .. } => match tokio::fs::remove_dir_all(root.join(account)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
            Self::S3 { .. } => self
                .bucket(account)?
                .delete_all()
                .await
                .map_err(MediaError::Bucket),
        }
    }

    /// Removes `path` from an account's library (nothing when it is not there).
    pub async fn remove(&self, account: &str, path: &str) -> Result<(), MediaError> {
        match self {
            Self::Local { root, .. } => {
                match tokio::fs::remove_file(root.join(account).join(path)).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                    _ => Ok(()),
                }
            }
            Self::S3 { .. } => self
                .bucket(account)?
                .delete(path)
                .await
                .map_err(MediaError::Bucket),
        }
    }

    fn bucket(&self, account: &str) -> Result<pixelway_origins::object::ObjectOrigin, MediaError> {
        let settings = EffectiveSettings {
            timeout: self.ctx().default_timeout,
            retries: 1,
        };
        pixelway_origins::object::ObjectOrigin::from_spec(
            &self.account_spec(account),
            settings,
            &self.ctx().address_policy,
        )
        .map_err(|e| MediaError::Bucket(e.to_string()))
    }

    /// The origin spec of one account's library.
    fn account_spec(&self, account: &str) -> OriginSpec {
        match self {
            Self::Local { root, .. } => OriginSpec::LocalFolder {
                path: root.join(account).display().to_string(),
                settings: Default::default(),
            },
            Self::S3 { spec, .. } => {
                let mut spec = spec.clone();
                if let OriginSpec::S3 { prefix, .. } = &mut spec {
                    *prefix = if prefix.is_empty() {
                        account.to_string()
                    } else {
                        format!("{prefix}/{account}")
                    };
                }
                spec
            }
        }
    }

    /// The bucket folder where nodes share transformed results (`storage.shared_results`), beside
    /// the accounts' folders; `None` for a library on local disk. Its name starts with a dot, which
    /// no account id does.
    pub fn shared_results_folder(&self) -> Option<Result<ObjectOrigin, SpecError>> {
        let Self::S3 { ctx, .. } = self else {
            return None;
        };
        let settings = EffectiveSettings {
            timeout: ctx.default_timeout,
            retries: 0,
        };
        let spec = self.account_spec(SHARED_RESULTS_FOLDER);
        Some(ObjectOrigin::from_spec(
            &spec,
            settings,
            &ctx.address_policy,
        ))
    }

    fn ctx(&self) -> &BuildContext {
        match self {
            Self::Local { ctx, .. } | Self::S3 { ctx, .. } => ctx,
        }
    }

    /// Stores a file in an account's library atomically: on disk a uniquely named temporary
    /// file, synced, then renamed into place (two uploads to one folder never share a temporary
    /// name); in a bucket one PUT.
    pub async fn put(&self, account: &str, path: &str, bytes: Vec<u8>) -> Result<(), MediaError> {
        match self {
            Self::Local { root, .. } => {
                let target = root.join(account).join(path);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                let mut tmp = target.clone().into_os_string();
                tmp.push(format!(".{}.pixelway-tmp", uuid::Uuid::new_v4().simple()));
                let tmp = PathBuf::from(tmp);
                tokio::fs::write(&tmp, &bytes).await?;
                tokio::fs::File::open(&tmp).await?.sync_all().await?;
                if let Err(e) = tokio::fs::rename(&tmp, &target).await {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(e.into());
                }
                Ok(())
            }
            Self::S3 { .. } => self
                .bucket(account)?
                .put(path, bytes)
                .await
                .map_err(MediaError::Bucket),
        }
    }
}

/// Syncs `spooled`, renames it to `target` (creating its folders) and syncs the folder, so the
/// rename itself survives a crash.
fn persist_durably(spooled: tempfile::NamedTempFile, target: &Path) -> std::io::Result<()> {
    spooled.as_file().sync_all()?;
    let folder = target.parent().expect("a file path has a folder");
    std::fs::create_dir_all(folder)?;
    spooled.persist(target).map_err(|e| e.error)?;
    std::fs::File::open(folder)?.sync_all()
}

/// Removes what a crash left in the spool folder (never acknowledged, so never wanted).
fn clear_spool(spool: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(spool) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(spool)
}

impl MediaLibraryFactory for MediaLibrary {
    fn media_library(&self, account: &str) -> Result<Arc<dyn Origin>, CatalogError> {
        // An account's folder is made by its first write (`put`, `persist_durably`), not here:
        // a start with many tenants would otherwise make a hundred thousand folders, and a
        // missing folder reads as "no such file", which it is.
        if let Self::Local { root, .. } = self {
            return Ok(Arc::new(pixelway_origins::local::LocalFolder::new(
                root.join(account),
            )));
        }
        self.account_spec(account)
            .build(self.ctx())
            .map_err(|source| CatalogError::MediaLibraryOrigin {
                account: account.to_string(),
                source,
            })
    }

    fn is_local(&self) -> bool {
        matches!(self, Self::Local { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two files that differ only in their extension, written at once, both land intact (the
    /// temporary name used to be derived with `with_extension`, shared by `a.jpg` and `a.png`).
    #[tokio::test]
    async fn concurrent_writes_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = BuildContext {
            default_timeout: std::time::Duration::from_secs(1),
            address_policy: Default::default(),
        };
        let library = Arc::new(MediaLibrary::local(dir.path().to_path_buf(), ctx).unwrap());
        let mut writes = Vec::new();
        for round in 0..20u8 {
            for name in ["a.jpg", "a.png"] {
                let library = Arc::clone(&library);
                let bytes = vec![round; 64 * 1024 + name.len()];
                writes.push(tokio::spawn(async move {
                    library.put("acme", &format!("{round}/{name}"), bytes).await
                }));
            }
        }
        for write in writes {
            write.await.unwrap().unwrap();
        }
        for round in 0..20u8 {
            for name in ["a.jpg", "a.png"] {
                let bytes = std::fs::read(dir.path().join(format!("acme/{round}/{name}"))).unwrap();
                assert_eq!(bytes, vec![round; 64 * 1024 + name.len()]);
            }
            let leftovers = std::fs::read_dir(dir.path().join(format!("acme/{round}")))
                .unwrap()
                .count();
            assert_eq!(leftovers, 2, "no temporary file is left behind");
        }
    }
}
