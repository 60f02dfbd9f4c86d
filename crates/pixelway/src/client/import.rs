//! `pixelway import DIR`: uploads a folder tree into an account's Media Library through the
//! management API, several files at a time, with a progress bar (files, bytes, rate, ETA).
//! Resumable: a file already in the library at the same path with the same SHA-256 is skipped,
//! so a second run after an interruption sends only what is missing. Ends with a summary, and a
//! non-zero exit listing the files that failed.

use super::{Server, json_of};
use anyhow::{Context, bail};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to import, where, as whom.
#[derive(Debug, Clone)]
pub struct Import {
    pub dir: PathBuf,
    /// The account the key belongs to (for the URLs printed).
    pub account: String,
    pub private_key: String,
    /// The library folder the tree goes under (`/` or `/x/y/`).
    pub folder: String,
    pub jobs: usize,
}

/// One local file and where it goes.
#[derive(Debug, Clone)]
struct Planned {
    local: PathBuf,
    /// `/a/b/`
    folder: String,
    /// The name the library will give it.
    name: String,
    size: u64,
}

/// How a run went.
#[derive(Debug, Default)]
pub struct Summary {
    pub imported: usize,
    pub imported_bytes: u64,
    pub skipped: usize,
    pub failed: Vec<(PathBuf, String)>,
    pub seconds: f64,
}

/// Every regular file under `dir`, with its library folder under `base`.
fn plan(dir: &Path, base: &str) -> anyhow::Result<Vec<Planned>> {
    let mut planned = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), base.to_string())];
    while let Some((path, folder)) = pending.pop() {
        let entries =
            std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?;
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if kind.is_dir() {
                pending.push((entry.path(), format!("{folder}{name}/")));
            } else if kind.is_file() {
                planned.push(Planned {
                    local: entry.path(),
                    folder: folder.clone(),
                    name: pixelway_control::library::clean_file_name(&name),
                    size: entry.metadata()?.len(),
                });
            }
        }
    }
    planned.sort_by(|a, b| (&a.folder, &a.name).cmp(&(&b.folder, &b.name)));
    Ok(planned)
}

/// What the library holds in `folder`: name → SHA-256.
/// Refuses a key of another account than `--account` names: the files would land in the
/// key's account while the report named the other.
async fn check_account(server: &Server, import: &Import) -> anyhow::Result<()> {
    let response = server
        .http
        .get(server.url("/v1/accounts/current"))
        .basic_auth(&import.private_key, Some(""))
        .send()
        .await
        .with_context(|| format!("cannot reach {}", server.base_url))?;
    let owner = json_of(response).await?;
    let owner = owner["id"].as_str().unwrap_or_default();
    if owner != import.account {
        bail!(
            "the private key belongs to account {owner:?}, not {:?} (--account): nothing imported",
            import.account
        );
    }
    Ok(())
}

async fn existing(
    server: &Server,
    key: &str,
    folder: &str,
) -> anyhow::Result<HashMap<String, String>> {
    let mut found = HashMap::new();
    let mut skip = 0;
    loop {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("path", folder)
            .append_pair("limit", "1000")
            .append_pair("skip", &skip.to_string())
            .finish();
        let response = server
            .http
            .get(server.url(&format!("/v1/files?{query}")))
            .basic_auth(key, Some(""))
            .send()
            .await
            .with_context(|| format!("cannot reach {}", server.base_url))?;
        let page = json_of(response).await?;
        let files = page.as_array().cloned().unwrap_or_default();
        for file in &files {
            if let (Some(name), Some(sha)) = (file["name"].as_str(), file["sha256"].as_str()) {
                found.insert(name.to_string(), sha.to_string());
            }
        }
        if files.len() < 1000 {
            return Ok(found);
        }
        skip += files.len();
    }
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// A multipart upload body for one file.
fn form(file: &Planned, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("pixelway-import-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::with_capacity(bytes.len() + 512);
    for (name, value) in [
        ("fileName", file.name.as_str()),
        ("folder", file.folder.as_str()),
        ("useUniqueFileName", "false"),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(server: &Server, key: &str, file: &Planned) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(&file.local).await?;
    let (content_type, body) = form(file, &bytes);
    let response = server
        .http
        .post(server.url("/api/v1/files/upload"))
        .basic_auth(key, Some(""))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", server.base_url))?;
    json_of(response).await.map(|_| ())
}

fn progress_bar(files: usize, bytes: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(bytes);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .expect("a valid template"),
    );
    bar.set_message(format!("0/{files} files"));
    bar
}

/// Runs the import.
pub async fn run(server: &Server, import: &Import) -> anyhow::Result<Summary> {
    let started = Instant::now();
    check_account(server, import).await?;
    let planned = plan(&import.dir, &import.folder)?;
    if planned.is_empty() {
        bail!("{} holds no files", import.dir.display());
    }
    // What is there already, folder by folder.
    let mut there: BTreeMap<String, HashMap<String, String>> = BTreeMap::new();
    for file in &planned {
        if !there.contains_key(&file.folder) {
            let listing = existing(server, &import.private_key, &file.folder).await?;
            there.insert(file.folder.clone(), listing);
        }
    }
    let mut summary = Summary::default();
    let mut to_send = Vec::new();
    for file in planned {
        let local = file.local.clone();
        let sha = tokio::task::spawn_blocking(move || sha256_of(&local)).await??;
        if there[&file.folder].get(&file.name) == Some(&sha) {
            summary.skipped += 1;
        } else {
            to_send.push(file);
        }
    }
    let total_bytes = to_send.iter().map(|f| f.size).sum();
    let total_files = to_send.len();
    let bar = progress_bar(total_files, total_bytes);
    let mut results = futures::stream::iter(to_send.into_iter().map(|file| async move {
        let outcome = upload(server, &import.private_key, &file).await;
        (file, outcome)
    }))
    .buffer_unordered(import.jobs.max(1));
    let mut done = 0;
    while let Some((file, outcome)) = results.next().await {
        done += 1;
        bar.inc(file.size);
        bar.set_message(format!("{done}/{total_files} files"));
        match outcome {
            Ok(()) => {
                summary.imported += 1;
                summary.imported_bytes += file.size;
            }
            Err(e) => summary.failed.push((file.local, format!("{e:#}"))),
        }
    }
    bar.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

impl Summary {
    /// The closing lines.
    pub fn report(&self, import: &Import) -> String {
        let seconds = self.seconds.max(0.001);
        let mut text = format!(
            "imported {} files ({:.1} MB) into {}'s {} in {:.1}s: {:.1} files/s, {:.2} MB/s; \
             skipped {} already there; failed {}",
            self.imported,
            self.imported_bytes as f64 / 1e6,
            import.account,
            import.folder,
            seconds,
            self.imported as f64 / seconds,
            self.imported_bytes as f64 / 1e6 / seconds,
            self.skipped,
            self.failed.len()
        );
        for (path, why) in &self.failed {
            text.push_str(&format!("\n  failed: {}: {why}", path.display()));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_maps_to_folders_with_cleaned_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("shoes/red")).unwrap();
        std::fs::write(dir.path().join("shoes/red/a b.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("top.png"), b"yy").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"z").unwrap();
        let planned = plan(dir.path(), "/imported/").unwrap();
        let got: Vec<(String, String, u64)> = planned
            .iter()
            .map(|p| (p.folder.clone(), p.name.clone(), p.size))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/imported/".into(), "top.png".into(), 2),
                ("/imported/shoes/red/".into(), "a_b.jpg".into(), 1),
            ]
        );
    }
}
