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
use pixelway_control::media_library::SHARED_RESULTS_FOLDER;
use pixelway_store::SecretBox;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The backup folder's layout version.
const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const STORE: &str = "store.sqlite";
const STORE_POSTGRES: &str = "store.pgdump";
const MEDIA: &str = "media";
const CONFIG_SEALED: &str = "config.toml.sealed";
const SECRETS_SEALED: &str = "secrets.key.sealed";

/// What a backup folder holds, written last (a folder without it is an unfinished backup).
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub pixelway: String,
    pub created_at: i64,
    /// `sqlite` (`store.sqlite`, the database file) or `postgres` (`store.pgdump`, pg_dump's
    /// custom format).
    #[serde(default = "sqlite")]
    pub store: String,
    /// The config file's name when one was backed up.
    pub config: Option<String>,
    pub media_files: u64,
    pub media_bytes: u64,
    /// The Media Library's files, relative to `media/` (a restore from a bucket fetches these).
    pub media: Vec<String>,
}

fn sqlite() -> String {
    "sqlite".to_string()
}

/// The backup's store file.
fn store_file(manifest: &Manifest) -> &'static str {
    match manifest.store.as_str() {
        "postgres" => STORE_POSTGRES,
        _ => STORE,
    }
}

/// The files of a backup besides its manifest, relative to its folder.
fn contents(manifest: &Manifest) -> Vec<String> {
    let mut names: Vec<String> = [store_file(manifest), SECRETS_SEALED]
        .map(str::to_string)
        .to_vec();
    if manifest.config.is_some() {
        names.push(CONFIG_SEALED.to_string());
    }
    names.extend(manifest.media.iter().map(|m| format!("{MEDIA}/{m}")));
    names
}

/// Where a backup is written or read: a folder, or `s3://bucket/prefix` with `[storage.s3]`'s
/// endpoint and credentials (the operator's own bucket).
enum Place {
    Folder(PathBuf),
    Bucket(pixelway_origins::object::ObjectOrigin),
}

impl Place {
    /// Where a backup goes or comes from (a bucket needs a prefix there).
    fn of(text: &Path, s3: &crate::config::S3Config) -> anyhow::Result<Self> {
        let text = text.to_string_lossy();
        if text.starts_with("s3://") {
            return Self::bucket(&text, s3, true);
        }
        Ok(Self::Folder(PathBuf::from(text.as_ref())))
    }

    /// A node's Media Library: `file://…` or `s3://bucket[/prefix]`.
    fn media(url: &str, s3: &crate::config::S3Config) -> anyhow::Result<Self> {
        match url.strip_prefix("file://") {
            Some(path) => Ok(Self::Folder(PathBuf::from(path))),
            None => Self::bucket(url, s3, false),
        }
    }

    fn bucket(
        text: &str,
        s3: &crate::config::S3Config,
        needs_prefix: bool,
    ) -> anyhow::Result<Self> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow::anyhow!("{text}: use file://PATH or s3://BUCKET/PREFIX"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || (needs_prefix && prefix.trim_matches('/').is_empty()) {
            bail!(
                "{text}: name a bucket and a prefix for the backup (s3://bucket/backups/2026-12-03)"
            );
        }
        let spec = crate::media::bucket_spec(s3, bucket, prefix);
        let settings = pixelway_origins::EffectiveSettings {
            timeout: std::time::Duration::from_secs(120),
            retries: 2,
        };
        // The operator's own bucket, as for the Media Library: not held to the origins' guard.
        let policy = pixelway_origins::guard::AddressPolicy {
            allow_private: true,
            ..Default::default()
        };
        let bucket = pixelway_origins::object::ObjectOrigin::from_spec(&spec, settings, &policy)
            .map_err(|e| anyhow::anyhow!("[storage.s3] for {text}: {e}"))?;
        Ok(Self::Bucket(bucket))
    }
}

/// A folder next to the data folder for a backup on its way to or from a bucket.
fn staging(near: &Path) -> anyhow::Result<tempfile::TempDir> {
    let parent = near.parent().unwrap_or(near);
    std::fs::create_dir_all(parent)?;
    tempfile::Builder::new()
        .prefix(".pixelway-backup-")
        .tempdir_in(parent)
        .context("creating a staging folder")
}

/// Backs up the node `config_file` describes into `to`: a new or empty folder, or
/// `s3://bucket/prefix` (written through a staging folder, the manifest last).
pub async fn backup(config_file: Option<&Path>, to: &Path, key: &str) -> anyhow::Result<Manifest> {
    let config = Config::load(config_file)?;
    match Place::of(to, &config.storage.s3)? {
        Place::Folder(folder) => backup_into(&config, config_file, &folder, key).await,
        Place::Bucket(bucket) => {
            let staged = staging(&config.storage.data_dir)?;
            let manifest = backup_into(&config, config_file, staged.path(), key).await?;
            upload(&bucket, staged.path(), &manifest).await?;
            Ok(manifest)
        }
    }
}

/// Copies a staged backup into the bucket, each file streamed from disk, the manifest last.
async fn upload(
    bucket: &pixelway_origins::object::ObjectOrigin,
    staged: &Path,
    manifest: &Manifest,
) -> anyhow::Result<()> {
    let mut names = contents(manifest);
    names.push(MANIFEST.to_string());
    for name in names {
        bucket
            .put_file(&name, &staged.join(&name))
            .await
            .map_err(|e| anyhow::anyhow!("uploading {name}: {e}"))?;
    }
    Ok(())
}

/// Fetches a backup from the bucket into `staged`: the manifest first, then what it lists.
async fn download(
    bucket: &pixelway_origins::object::ObjectOrigin,
    staged: &Path,
) -> anyhow::Result<()> {
    let fetch = |name: String| async move {
        let target = staged.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        bucket
            .get_into(&name, &target)
            .await
            .map_err(|e| anyhow::anyhow!("fetching {name}: {e}"))
    };
    fetch(MANIFEST.to_string())
        .await
        .context("the bucket holds no finished pixelway backup there")?;
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(staged.join(MANIFEST))?)?;
    for name in contents(&manifest) {
        fetch(name).await?;
    }
    Ok(())
}

/// [`backup`] into a folder.
async fn backup_into(
    config: &Config,
    config_file: Option<&Path>,
    to: &Path,
    key: &str,
) -> anyhow::Result<Manifest> {
    let sealer = operator_box(key)?;
    let storage = &config.storage;
    let media = Place::media(&storage.media_library(), &storage.s3)?;
    empty_folder(to, "--to")?;
    // The store first: a snapshot as of now (uploads after it are not in this backup; their
    // files may be, and are then unreferenced, which the store ignores).
    let store = crate::serve::open_store(storage).await?;
    let kind = match store.is_shared() {
        true => {
            let (url, file) = (storage.database_url(), to.join(STORE_POSTGRES));
            tokio::task::spawn_blocking(move || postgres::dump(&url, &file)).await??;
            "postgres"
        }
        false => {
            store
                .snapshot_into(&to.join(STORE))
                .await
                .context("snapshotting the store")?;
            "sqlite"
        }
    };
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
    let copied = match media {
        Place::Folder(folder) => {
            tokio::task::spawn_blocking(move || copy_tree(&folder, &target, "backing up")).await??
        }
        Place::Bucket(bucket) => fetch_library(&bucket, &target).await?,
    };
    let media_files = copied.len() as u64;
    let media_bytes = copied.iter().map(|(_, len)| len).sum();
    let manifest = Manifest {
        format: FORMAT,
        pixelway: env!("CARGO_PKG_VERSION").to_string(),
        created_at: pixelway_control::now_unix(),
        store: kind.to_string(),
        config: config_name,
        media_files,
        media_bytes,
        media: copied.into_iter().map(|(name, _)| name).collect(),
    };
    std::fs::write(to.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores the backup in `from` (a folder, or `s3://bucket/prefix` read with `[storage.s3]`
/// of `credentials`, the environment included) into `data_dir` (new or empty); the config file,
/// when the backup has one, is written to `config_out`.
pub async fn restore(
    from: &Path,
    credentials: Option<&Path>,
    data_dir: &Path,
    config_out: &Path,
    key: &str,
) -> anyhow::Result<Manifest> {
    let storage = Config::load(credentials)?.storage;
    let target = Target {
        data_dir,
        database: storage
            .database_url
            .clone()
            .filter(|url| url.starts_with("postgres")),
        // The new node's library: in the data folder, unless its config names a bucket.
        media: match &storage.media_library {
            Some(url) if url.starts_with("s3://") => Place::media(url, &storage.s3)?,
            _ => Place::Folder(data_dir.join(MEDIA)),
        },
        config_out,
    };
    match Place::of(from, &storage.s3)? {
        Place::Folder(folder) => restore_from(&folder, target, key).await,
        Place::Bucket(bucket) => {
            operator_box(key)?;
            let staged = staging(data_dir)?;
            download(&bucket, staged.path()).await?;
            restore_from(staged.path(), target, key).await
        }
    }
}

/// Where a restore writes: the new node's data folder, its PostgreSQL database (when the
/// backup holds one), its Media Library, and the config file.
struct Target<'a> {
    data_dir: &'a Path,
    database: Option<String>,
    media: Place,
    config_out: &'a Path,
}

/// Copies a bucket's Media Library into `to`, with a progress bar; returns each file's path
/// and length.
async fn fetch_library(
    bucket: &pixelway_origins::object::ObjectOrigin,
    to: &Path,
) -> anyhow::Result<Vec<(String, u64)>> {
    let objects = bucket
        .list_all()
        .await
        .map_err(|e| anyhow::anyhow!("listing the Media Library's bucket: {e}"))?;
    // Shared results are a cache: a restored node makes them again.
    let shared_results = format!("{SHARED_RESULTS_FOLDER}/");
    let objects: Vec<(String, u64)> = objects
        .into_iter()
        .filter(|(name, _)| !name.starts_with(&shared_results))
        .collect();
    let bar = progress(objects.iter().map(|(_, len)| len).sum(), "backing up");
    for (name, len) in &objects {
        let target = to.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        bucket
            .get_into(name, &target)
            .await
            .map_err(|e| anyhow::anyhow!("fetching {name}: {e}"))?;
        bar.inc(*len);
    }
    bar.finish_and_clear();
    Ok(objects)
}

/// A progress bar of `total` bytes of the Media Library.
fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total).with_message(format!("{what} the Media Library"));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// [`restore`] from a folder.
async fn restore_from(from: &Path, target: Target<'_>, key: &str) -> anyhow::Result<Manifest> {
    let Target {
        data_dir,
        database,
        media,
        config_out,
    } = target;
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
    let database = match (manifest.store.as_str(), database) {
        ("postgres", None) => bail!(
            "this backup holds a PostgreSQL store: name the new node's empty database in \
             storage.database_url (--credentials FILE or PIXELWAY_STORAGE__DATABASE_URL)"
        ),
        ("postgres", Some(url)) => Some(url),
        _ => None,
    };
    empty_folder(data_dir, "--data-dir")?;
    // The store first: a database that is not empty refuses it before anything else is written.
    match database {
        Some(url) => {
            let file = from.join(STORE_POSTGRES);
            tokio::task::spawn_blocking(move || postgres::restore(&url, &file)).await??;
        }
        None => {
            std::fs::copy(from.join(STORE), data_dir.join("pixelway.db"))
                .context("restoring the store")?;
        }
    }
    write_private(&data_dir.join("secrets.key"), &secrets)?;
    if let Some(text) = config_text {
        if config_out.exists() {
            bail!(
                "--config-out {} exists: restore writes a new file",
                config_out.display()
            );
        }
        write_private(config_out, &text)?;
    }
    let source = from.join(MEDIA);
    match media {
        Place::Folder(folder) => {
            tokio::task::spawn_blocking(move || copy_tree(&source, &folder, "restoring")).await??;
        }
        Place::Bucket(bucket) => {
            let bar = progress(manifest.media_bytes, "restoring");
            for name in &manifest.media {
                let file = source.join(name);
                let len = std::fs::metadata(&file)?.len();
                bucket
                    .put_file(name, &file)
                    .await
                    .map_err(|e| anyhow::anyhow!("uploading {name}: {e}"))?;
                bar.inc(len);
            }
            bar.finish_and_clear();
        }
    }
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
/// each file's path relative to `from` and its length. A missing `from` is an empty library.
/// Links are not followed.
fn copy_tree(from: &Path, to: &Path, what: &str) -> anyhow::Result<Vec<(String, u64)>> {
    let files = files_under(from)?;
    let bar = progress(files.iter().map(|(_, len)| len).sum(), what);
    std::fs::create_dir_all(to)?;
    let mut copied = Vec::with_capacity(files.len());
    for (file, len) in files {
        let relative = file.strip_prefix(from)?;
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&file, &target).with_context(|| format!("copying {}", file.display()))?;
        bar.inc(len);
        copied.push((relative.to_string_lossy().into_owned(), len));
    }
    bar.finish_and_clear();
    Ok(copied)
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

/// A PostgreSQL store, with PostgreSQL's own tools (`pg_dump`, `pg_restore` on the PATH, of the
/// server's major version or newer). The connection's parts go to them as libpq's environment
/// variables, so no password shows in the process list.
mod postgres {
    use anyhow::{Context, bail};
    use std::path::Path;
    use std::process::Command;

    /// Dumps the database at `url` into `file` (custom format), one consistent snapshot.
    pub fn dump(url: &str, file: &Path) -> anyhow::Result<()> {
        let mut command = Command::new("pg_dump");
        command
            .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
            .arg(file);
        run(command, url, "pg_dump")
    }

    /// Restores `file` into the empty database at `url`, in one transaction: a database that
    /// is not empty makes it fail, changing nothing.
    pub fn restore(url: &str, file: &Path) -> anyhow::Result<()> {
        let mut command = Command::new("pg_restore");
        command
            .args([
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
            ])
            .arg(file);
        run(command, url, "pg_restore")
    }

    fn run(mut command: Command, url: &str, tool: &str) -> anyhow::Result<()> {
        let url = url::Url::parse(url).context("storage.database_url")?;
        let decoded = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let database = decoded(url.path().trim_start_matches('/'));
        if tool == "pg_restore" {
            // pg_restore writes to a file unless given a database (its name only: the rest
            // comes from the environment below).
            command.arg("--dbname").arg(&database);
        }
        command
            .env("PGHOST", url.host_str().unwrap_or("localhost"))
            .env("PGPORT", url.port().unwrap_or(5432).to_string())
            .env("PGUSER", decoded(url.username()))
            .env("PGDATABASE", &database);
        if let Some(password) = url.password() {
            command.env("PGPASSWORD", decoded(password));
        }
        for (name, value) in url.query_pairs() {
            if name == "sslmode" {
                command.env("PGSSLMODE", value.as_ref());
            }
        }
        let output = command
            .output()
            .with_context(|| format!("running {tool} (PostgreSQL's client tools on the PATH)"))?;
        if !output.status.success() {
            bail!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}
