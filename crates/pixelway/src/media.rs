//! The Media Library's storage: a local folder (embedded default) or an S3-compatible bucket,
//! one sub-folder or key prefix per account.

use crate::config::StorageConfig;
use anyhow::{Context, bail};
use pixelway_origins::spec::Secret;
use pixelway_origins::{BuildContext, Origin, OriginSettings, OriginSpec};
use pixelway_server::MediaLibraryFactory;
use std::path::PathBuf;
use std::sync::Arc;

/// Where Media Library files live.
#[derive(Debug, Clone)]
pub enum MediaLibrary {
    Local { root: PathBuf, ctx: BuildContext },
    S3 { spec: OriginSpec, ctx: BuildContext },
}

impl MediaLibrary {
    /// From `storage.media_library` (`file://…` or `s3://bucket/prefix`) and `[storage.s3]`.
    pub fn from_config(storage: &StorageConfig, ctx: BuildContext) -> anyhow::Result<Self> {
        let url = storage.media_library();
        if let Some(path) = url.strip_prefix("file://") {
            let root = PathBuf::from(path);
            std::fs::create_dir_all(&root)
                .with_context(|| format!("storage.media_library: creating {}", root.display()))?;
            return Ok(Self::Local { root, ctx });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("storage.media_library = {url:?}: no bucket");
            }
            let s3 = &storage.s3;
            let spec = OriginSpec::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
                endpoint: s3.endpoint.clone(),
                region: s3.region.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: Secret(s3.secret_access_key.clone()),
                allow_http: s3.allow_http,
                settings: OriginSettings::default(),
            };
            return Ok(Self::S3 { spec, ctx });
        }
        bail!("storage.media_library = {url:?}: use file://PATH or s3://BUCKET/PREFIX")
    }

    /// The origin spec of one account's library.
    fn account_spec(&self, account: &str) -> OriginSpec {
        match self {
            Self::Local { root, .. } => OriginSpec::LocalFolder {
                path: root.join(account).display().to_string(),
                settings: OriginSettings::default(),
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

    /// Stores a file in an account's library (atomically: a temporary file renamed into place,
    /// or one S3 PUT).
    pub async fn put(&self, account: &str, path: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        match self {
            Self::Local { root, .. } => {
                let target = root.join(account).join(path);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                let tmp = target.with_extension("pixelway-tmp");
                tokio::fs::write(&tmp, &bytes).await?;
                tokio::fs::File::open(&tmp).await?.sync_all().await?;
                tokio::fs::rename(&tmp, &target).await?;
                Ok(())
            }
            Self::S3 { .. } => {
                let spec = self.account_spec(account);
                let store = pixelway_origins::object::ObjectOrigin::from_spec(
                    &spec,
                    pixelway_origins::EffectiveSettings {
                        timeout: self.ctx().default_timeout,
                        retries: 1,
                    },
                    &self.ctx().address_policy,
                )?;
                store.put(path, bytes).await.map_err(anyhow::Error::msg)?;
                Ok(())
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
