//! The Media Library's storage: a local folder (embedded default) or an S3-compatible bucket,
//! one sub-folder or key prefix per account. Reads go through the account's Media Library origin
//! (the first of every endpoint's chain); writes go through [`MediaLibrary::put`].

use crate::catalog::MediaLibraryFactory;
use pixelway_origins::{BuildContext, EffectiveSettings, Origin, OriginSpec};
use std::path::PathBuf;
use std::sync::Arc;

/// Where Media Library files live.
#[derive(Debug, Clone)]
pub enum MediaLibrary {
    /// `root/{account}/{path}` on local disk.
    Local { root: PathBuf, ctx: BuildContext },
    /// An S3 bucket; `spec` holds the bucket and the prefix every account's folder goes under.
    S3 { spec: OriginSpec, ctx: BuildContext },
}

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
        Ok(Self::Local { root, ctx })
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
            Self::S3 { .. } => {
                let spec = self.account_spec(account);
                let settings = EffectiveSettings {
                    timeout: self.ctx().default_timeout,
                    retries: 1,
                };
                let bucket = pixelway_origins::object::ObjectOrigin::from_spec(
                    &spec,
                    settings,
                    &self.ctx().address_policy,
                )
                .map_err(|e| MediaError::Bucket(e.to_string()))?;
                bucket.put(path, bytes).await.map_err(MediaError::Bucket)
            }
        }
    }
}

impl MediaLibraryFactory for MediaLibrary {
    fn media_library(&self, account: &str) -> Result<Arc<dyn Origin>, String> {
        if let Self::Local { root, .. } = self {
            std::fs::create_dir_all(root.join(account)).map_err(|e| e.to_string())?;
        }
        self.account_spec(account)
            .build(self.ctx())
            .map_err(|e| format!("media library of {account}: {e}"))
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
