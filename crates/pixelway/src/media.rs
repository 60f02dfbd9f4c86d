//! `[storage] media_library` (and `[storage.s3]`) → the server's [`MediaLibrary`].

use crate::config::{S3Config, StorageConfig};
use anyhow::{Context, bail};
use pixelway_control::MediaLibrary;
use pixelway_origins::spec::Secret;
use pixelway_origins::{BuildContext, OriginSettings, OriginSpec};
use std::path::PathBuf;

/// From `storage.media_library` (`file://…` or `s3://bucket/prefix`) and `[storage.s3]`.
pub fn from_config(storage: &StorageConfig, ctx: BuildContext) -> anyhow::Result<MediaLibrary> {
    let url = storage.media_library();
    if let Some(path) = url.strip_prefix("file://") {
        let root = PathBuf::from(path);
        return MediaLibrary::local(root.clone(), ctx)
            .with_context(|| format!("storage.media_library: creating {}", root.display()));
    }
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("storage.media_library = {url:?}: no bucket");
        }
        let spec = bucket_spec(&storage.s3, bucket, prefix);
        let spool = storage.data_dir.join("incoming");
        return MediaLibrary::s3(spec, ctx, spool.clone())
            .with_context(|| format!("storage.data_dir: creating {}", spool.display()));
    }
    bail!("storage.media_library = {url:?}: use file://PATH or s3://BUCKET/PREFIX")
}

/// An S3 spec for `bucket`/`prefix` of the operator's own storage, with `[storage.s3]`'s endpoint
/// and credentials (the Media Library, backups).
pub fn bucket_spec(s3: &S3Config, bucket: &str, prefix: &str) -> OriginSpec {
    OriginSpec::S3 {
        bucket: bucket.to_string(),
        prefix: prefix.trim_matches('/').to_string(),
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        access_key_id: s3.access_key_id.clone(),
        secret_access_key: Secret(s3.secret_access_key.clone()),
        allow_http: s3.allow_http,
        settings: OriginSettings::default(),
    }
}
