//! `pixelway backup` and `pixelway restore`: everything a node needs to come back as it was, in
//! one folder. The store as one consistent snapshot (taken while the node serves), the Media
//! Library's files, the config file as written (server, storage, limits, entities), and the
//! store's secrets key. The config file and the secrets key are sealed with a key the operator
//! gives (`PIXELWAY_BACKUP_KEY`, 32 random bytes in base64), so the folder can sit in ordinary
//! storage: without that key it holds no secret in the clear (the store's own secrets are sealed
//! with the secrets key). A restore goes into an empty data folder; entities keep their ids,
//! keys and API or config ownership, so every URL, signed URL and private file works the same.

use crate::config::Config;
use anyhow::{Context, bail};
use pixelway_store::SecretBox;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The backup folder's layout version.
const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const STORE: &str = "store.sqlite";
const MEDIA: &str = "media";
const CONFIG_SEALED: &str = "config.toml.sealed";
const SECRETS_SEALED: &str = "secrets.key.sealed";

/// What a backup folder holds, written last (a folder without it is an unfinished backup).
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub pixelway: String,
    pub created_at: i64,
    /// The config file's name when one was backed up.
    pub config: Option<String>,
    pub media_files: u64,
    pub media_bytes: u64,
}

/// Backs up the node `config_file` describes into `to` (a new or empty folder).
pub async fn backup(config_file: Option<&Path>, to: &Path, key: &str) -> anyhow::Result<Manifest> {
    if to.to_string_lossy().starts_with("s3://") {
        bail!(
            "--to {}: backups go to a folder for now; copy the folder to the bucket afterwards \
             (for example with `aws s3 sync`)",
            to.display()
        );
    }
    let sealer = operator_box(key)?;
    let config = Config::load(config_file)?;
    let storage = &config.storage;
    let media = local_media(&storage.media_library())?;
    empty_folder(to, "--to")?;
    // The store first: a snapshot as of now (uploads after it are not in this backup; their
    // files may be, and are then unreferenced, which the store ignores).
    let store = crate::serve::open_store(storage).await?;
    store
        .snapshot_into(&to.join(STORE))
        .await
        .context("snapshotting the store")?;
    let secrets = match storage.secrets_key.is_empty() {
        true => std::fs::read_to_string(storage.data_dir.join("secrets.key"))
            .context("reading the store's secrets key")?,
        false => storage.secrets_key.clone(),
    };
    write_private(&to.join(SECRETS_SEALED), &sealer.seal(secrets.trim()))?;
    let config_name = match config_file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            write_private(&to.join(CONFIG_SEALED), &sealer.seal(&text))?;
            file.file_name().map(|n| n.to_string_lossy().into_owned())
        }
        None => None,
    };
    let target = to.join(MEDIA);
    let (media_files, media_bytes) =
        tokio::task::spawn_blocking(move || copy_tree(&media, &target, "backing up")).await??;
    let manifest = Manifest {
        format: FORMAT,
        pixelway: env!("CARGO_PKG_VERSION").to_string(),
        created_at: pixelway_control::now_unix(),
        config: config_name,
        media_files,
        media_bytes,
    };
    std::fs::write(to.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores the backup in `from` into `data_dir` (new or empty); the config file, when the
/// backup has one, is written to `config_out`.
pub async fn restore(
    from: &Path,
    data_dir: &Path,
    config_out: &Path,
    key: &str,
) -> anyhow::Result<Manifest> {
    let opener = operator_box(key)?;
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST))
            .with_context(|| format!("{} is not a finished pixelway backup", from.display()))?,
    )
    .context("the backup's manifest")?;
    if manifest.format != FORMAT {
        bail!(
            "the backup's format is {}, this pixelway reads {FORMAT}",
            manifest.format
        );
    }
    // The key is checked before anything is written.
    let secrets = opener
        .open(&std::fs::read_to_string(from.join(SECRETS_SEALED))?)
        .map_err(|_| anyhow::anyhow!("the backup key does not open this backup"))?;
    let config_text = match manifest.config {
        Some(_) => Some(
            opener
                .open(&std::fs::read_to_string(from.join(CONFIG_SEALED))?)
                .map_err(|_| anyhow::anyhow!("the backup key does not open this backup"))?,
        ),
        None => None,
    };
    empty_folder(data_dir, "--data-dir")?;
    write_private(&data_dir.join("secrets.key"), &secrets)?;
    std::fs::copy(from.join(STORE), data_dir.join("pixelway.db")).context("restoring the store")?;
    if let Some(text) = config_text {
        if config_out.exists() {
            bail!(
                "--config-out {} exists: restore writes a new file",
                config_out.display()
            );
        }
        write_private(config_out, &text)?;
    }
    let (source, target) = (from.join(MEDIA), data_dir.join(MEDIA));
    tokio::task::spawn_blocking(move || copy_tree(&source, &target, "restoring")).await??;
    Ok(manifest)
}

/// The operator's key, named in its errors.
fn operator_box(key: &str) -> anyhow::Result<SecretBox> {
    SecretBox::from_base64(key).map_err(|_| {
        anyhow::anyhow!(
            "the backup key (--key or PIXELWAY_BACKUP_KEY) must be 32 random bytes in base64, \
             such as `openssl rand -base64 32` prints"
        )
    })
}

/// The folder of a local Media Library (`file://…`); an S3 one is refused, naming it.
fn local_media(url: &str) -> anyhow::Result<PathBuf> {
    match url.strip_prefix("file://") {
        Some(path) => Ok(PathBuf::from(path)),
        None => bail!(
            "storage.media_library = {url:?}: a Media Library in a bucket is backed up with the \
             bucket's own replication or versioning, not pixelway backup"
        ),
    }
}

/// Creates `path` (mode 0700) or accepts it empty; anything else is refused, naming `flag`.
fn empty_folder(path: &Path, flag: &str) -> anyhow::Result<()> {
    if path.exists() && std::fs::read_dir(path)?.next().is_some() {
        bail!("{flag} {} is not empty", path.display());
    }
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Writes `text` readable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Copies the files under `from` into `to` (created), with a progress bar of bytes; returns
/// (files, bytes). A missing `from` is an empty library. Links are not followed.
fn copy_tree(from: &Path, to: &Path, what: &str) -> anyhow::Result<(u64, u64)> {
    let files = files_under(from)?;
    let total: u64 = files.iter().map(|(_, len)| len).sum();
    let bar = indicatif::ProgressBar::new(total).with_message(format!("{what} the Media Library"));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    std::fs::create_dir_all(to)?;
    for (file, len) in &files {
        let relative = file.strip_prefix(from)?;
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(file, &target).with_context(|| format!("copying {}", file.display()))?;
        bar.inc(*len);
    }
    bar.finish_and_clear();
    Ok((files.len() as u64, total))
}

/// Every regular file under `root` with its length, depth first.
fn files_under(root: &Path) -> anyhow::Result<Vec<(PathBuf, u64)>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", folder.display())),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push((entry.path(), entry.metadata()?.len()));
            }
        }
    }
    Ok(found)
}
