//! Media Library changes, shared by every surface that makes them (management API, dashboard,
//! `pixelway import`): each one changes the bytes, the record and the caches together, under a
//! per-path lock so two writers of one path never leave one's bytes with the other's record.
//!
//! Order of a write: the bytes are made durable and put in place first (see
//! [`crate::control::MediaLibrary::store`]), then the record is written in one transaction, then
//! cached copies are dropped. A crash before the record leaves the new bytes under the old (or
//! no) record — never a record without its bytes, never half a file.

use super::error::ApiError;
use crate::app::App;
use pixelway_store::{FileRecord, validate};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// A file received into the spool, with what was learnt while streaming it.
pub struct Spooled {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub sha256: String,
    /// The first bytes (up to [`HEAD_BYTES`]), to tell the type and size.
    pub head: Vec<u8>,
}

/// How much of a file's start is kept to tell its type and dimensions.
pub const HEAD_BYTES: usize = 1 << 20;

/// What an upload asks for, besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct NewFile {
    pub account: String,
    /// `/a/b/`, already checked.
    pub folder: String,
    pub file_name: String,
    pub use_unique_file_name: bool,
    pub overwrite_file: bool,
    pub is_private: bool,
    pub tags: Vec<String>,
    pub custom_metadata: serde_json::Map<String, serde_json::Value>,
    pub custom_coordinates: Option<String>,
    pub description: String,
}

/// What a file is, from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub mime: String,
    pub file_type: &'static str,
    pub format: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// Tells the type (and an image's size) from a file's first bytes; refuses what is not an
/// image, a video, audio or a PDF. `complete`: `head` is the whole file.
pub fn describe(head: &[u8], complete: bool) -> Result<Described, ApiError> {
    if head.is_empty() {
        return Err(ApiError::bad("file: the file is empty"));
    }
    let sniffed = crate::delivery::sniff::content_type(head);
    if sniffed.starts_with("image/") {
        let format = match sniffed.as_str() {
            "image/jpeg" => "jpg".to_string(),
            "image/svg+xml" => "svg".to_string(),
            other => other.trim_start_matches("image/").to_string(),
        };
        let (width, height) = match pixelway_transform::pipeline::probe(head) {
            Ok((_, w, h)) => (Some(i64::from(w)), Some(i64::from(h))),
            Err(e) if complete => {
                return Err(ApiError::bad(format!(
                    "file: looks like {sniffed} but is not a readable image ({e})"
                )));
            }
            Err(_) => (None, None),
        };
        return Ok(Described {
            mime: sniffed,
            file_type: "image",
            format,
            width,
            height,
        });
    }
    if let Some(kind) = infer::get(head) {
        // Fonts are what text layers (`ff-`) draw with; they are parsed as hostile input there.
        let media = matches!(
            kind.matcher_type(),
            infer::MatcherType::Video | infer::MatcherType::Audio | infer::MatcherType::Font
        ) || kind.mime_type() == "application/pdf";
        if media {
            return Ok(Described {
                mime: kind.mime_type().to_string(),
                file_type: "non-image",
                format: kind.extension().to_string(),
                width: None,
                height: None,
            });
        }
    }
    Err(ApiError::UnsupportedMedia(format!(
        "file: not an image, video, audio, font or PDF file (its first bytes look like {})",
        infer::get(head).map_or("unknown data", |k| k.mime_type())
    )))
}

/// ImageKit's file-name rule: letters, digits (any script), `.`, `_` and `-` are kept; every
/// other character becomes `_`.
pub fn clean_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `name_XXXXXXXX.ext`: a random suffix before the extension.
fn unique_name(name: &str) -> String {
    use rand::Rng;
    let suffix: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}_{suffix}.{ext}"),
        _ => format!("{name}_{suffix}"),
    }
}

/// The lock of one library path: writers of the same path take turns.
async fn lock_path<'a>(app: &'a App, account: &str, path: &str) -> tokio::sync::MutexGuard<'a, ()> {
    let mut hasher = DefaultHasher::new();
    (account, path).hash(&mut hasher);
    let locks = app.control.path_locks();
    locks[hasher.finish() as usize % locks.len()].lock().await
}

/// Stores a new file (or replaces the one at its path) and returns its record.
pub async fn add_file(app: &App, new: NewFile, spooled: Spooled) -> Result<FileRecord, ApiError> {
    let name = clean_file_name(&new.file_name);
    validate::file_name(&name)?;
    let complete = spooled.size as usize <= spooled.head.len();
    let described = describe(&spooled.head, complete)?;
    let name = if new.use_unique_file_name {
        unique_name(&name)
    } else {
        name
    };
    let path = format!("{}{name}", &new.folder[1..]);
    let store = app.control.store();
    let _turn = lock_path(app, &new.account, &path).await;
    let existing = store.file_by_path(&new.account, &path).await?;
    if existing.is_some() && !new.overwrite_file {
        return Err(ApiError::Conflict(format!(
            "a file already exists at /{path} and overwriteFile is false"
        )));
    }
    app.control
        .media()
        .store(&new.account, &path, spooled.file)
        .await?;
    let record = store
        .upsert_file(&FileRecord {
            account_id: new.account.clone(),
            path: path.clone(),
            name,
            size: spooled.size as i64,
            mime: described.mime,
            sha256: spooled.sha256,
            is_private: new.is_private,
            file_type: described.file_type.to_string(),
            format: described.format,
            width: described.width,
            height: described.height,
            tags: new.tags,
            description: new.description,
            custom_metadata: new.custom_metadata,
            custom_coordinates: new.custom_coordinates,
            ..FileRecord::default()
        })
        .await?;
    forget_cached(app, &new.account, &path).await;
    if record.is_private && !account_has_private_files(app, &new.account) {
        app.reload_account(&new.account).await?;
    }
    Ok(record)
}

/// Drops what is remembered of a library path: its cached original (a bucket library's
/// originals are cached; a local one is read in place), its answers in the memory tier, and
/// whether it is private. Results on disk need nothing: their keys hold the original's ETag.
async fn forget_cached(app: &App, account: &str, path: &str) {
    let key = crate::cache_keys::original(&crate::catalog::media_library_id(account), path);
    app.originals.remove(&key).await;
    app.memory
        .invalidate(crate::cache_keys::file_scope(account, path));
    app.private_files.forget(account, path);
}

/// Whether the catalog knows `account` has private files (when it gains its first, its
/// catalog entry is rebuilt so delivery starts asking).
fn account_has_private_files(app: &App, account: &str) -> bool {
    app.catalog
        .load()
        .accounts
        .get(account)
        .is_some_and(|a| a.has_private_files)
}

/// Deletes files by id (those of other accounts are not found); returns the ids deleted.
pub async fn delete_files(
    app: &App,
    account: &str,
    ids: &[String],
) -> Result<Vec<String>, ApiError> {
    let deleted = app.control.store().delete_files(account, ids).await?;
    remove_bytes(app, account, &deleted).await
}

/// Removes the bytes and what is remembered of deleted records. (An account whose last private
/// file goes keeps its catalog flag until its next rebuild: delivery then asks, and the store
/// answers "not private".)
async fn remove_bytes(
    app: &App,
    account: &str,
    deleted: &[FileRecord],
) -> Result<Vec<String>, ApiError> {
    for file in deleted {
        let _turn = lock_path(app, account, &file.path).await;
        app.control.media().remove(account, &file.path).await?;
        forget_cached(app, account, &file.path).await;
    }
    Ok(deleted.iter().map(|f| f.id.clone()).collect())
}

/// Deletes a folder with everything in it.
pub async fn delete_folder(app: &App, account: &str, folder: &str) -> Result<(), ApiError> {
    let deleted = app.control.store().delete_folder(account, folder).await?;
    remove_bytes(app, account, &deleted).await?;
    Ok(())
}

/// Copies the file at `source` into `folder` (same name); a file there is replaced.
pub async fn copy_file(
    app: &App,
    account: &str,
    source: &str,
    folder: &str,
) -> Result<FileRecord, ApiError> {
    let store = app.control.store();
    let record = store
        .file_by_path(account, source)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no file at /{source}")))?;
    let spooled = app.control.media().read_into_spool(account, source).await?;
    let head = read_head(spooled.path()).await?;
    let new = NewFile {
        account: account.to_string(),
        folder: folder.to_string(),
        file_name: record.name.clone(),
        use_unique_file_name: false,
        overwrite_file: true,
        is_private: record.is_private,
        tags: record.tags.clone(),
        custom_metadata: record.custom_metadata.clone(),
        custom_coordinates: record.custom_coordinates.clone(),
        description: record.description.clone(),
    };
    let spooled = Spooled {
        file: spooled,
        size: record.size as u64,
        sha256: record.sha256.clone(),
        head,
    };
    add_file(app, new, spooled).await
}

/// Moves the file at `source` into `folder`, keeping its name.
pub async fn move_file(
    app: &App,
    account: &str,
    source: &str,
    folder: &str,
) -> Result<FileRecord, ApiError> {
    let original = app
        .control
        .store()
        .file_by_path(account, source)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no file at /{source}")))?;
    let moved = copy_file(app, account, source, folder).await?;
    if moved.id != original.id {
        delete_files(app, account, std::slice::from_ref(&original.id)).await?;
    }
    Ok(moved)
}

/// Renames the file at `source` within its folder; refused when the new name is taken.
pub async fn rename_file(
    app: &App,
    account: &str,
    source: &str,
    new_name: &str,
) -> Result<FileRecord, ApiError> {
    let new_name = clean_file_name(new_name);
    validate::file_name(&new_name)?;
    let store = app.control.store();
    let record = store
        .file_by_path(account, source)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no file at /{source}")))?;
    let folder = record.folder();
    let target = format!("{}{new_name}", &folder[1..]);
    if store.file_by_path(account, &target).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "a file already exists at /{target}"
        )));
    }
    let spooled = app.control.media().read_into_spool(account, source).await?;
    let _turn = lock_path(app, account, &target).await;
    app.control.media().store(account, &target, spooled).await?;
    let renamed = store.move_file(account, &record.id, &target).await?;
    app.control.media().remove(account, source).await?;
    forget_cached(app, account, source).await;
    forget_cached(app, account, &target).await;
    Ok(renamed)
}

/// Copies everything in folder `source` (`/a/b/`) into folder `target` (`/x/b/`): every file
/// (replacing one already at its new path) and every empty folder. Returns the files copied.
pub async fn copy_tree(
    app: &App,
    account: &str,
    source: &str,
    target: &str,
) -> Result<usize, ApiError> {
    if source == "/" {
        return Err(ApiError::bad(
            "sourceFolderPath: the root folder cannot be copied or moved",
        ));
    }
    if target.starts_with(source) {
        return Err(ApiError::bad(format!(
            "destinationPath: {target} is inside {source}, the folder being copied"
        )));
    }
    let store = app.control.store();
    if !store.folder_exists(account, source).await? {
        return Err(ApiError::NotFound(format!("no folder {source}")));
    }
    let files = store.files_under(account, source).await?;
    for file in &files {
        let below = &file.folder()[source.len()..];
        copy_file(app, account, &file.path, &format!("{target}{below}")).await?;
    }
    store.create_folder(account, target).await?;
    for folder in store.folders_under(account, source).await? {
        let below = &folder[source.len()..];
        store
            .create_folder(account, &format!("{target}{below}"))
            .await?;
    }
    Ok(files.len())
}

/// Moves folder `source` to `target` (copied, then the source deleted).
pub async fn move_tree(
    app: &App,
    account: &str,
    source: &str,
    target: &str,
) -> Result<usize, ApiError> {
    let moved = copy_tree(app, account, source, target).await?;
    delete_folder(app, account, source).await?;
    Ok(moved)
}

async fn read_head(path: &std::path::Path) -> Result<Vec<u8>, ApiError> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut head = Vec::new();
    file.take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_made_unique() {
        assert_eq!(clean_file_name("red shoe (1).jpg"), "red_shoe__1_.jpg");
        assert_eq!(clean_file_name("ü-1.png"), "ü-1.png");
        let unique = unique_name("a.jpg");
        assert!(
            unique.starts_with("a_") && unique.ends_with(".jpg"),
            "{unique}"
        );
        assert_eq!(unique.len(), "a_12345678.jpg".len());
        assert_ne!(unique_name("a.jpg"), unique_name("a.jpg"));
    }

    #[test]
    fn only_media_is_accepted() {
        assert!(describe(b"", true).is_err());
        let text = describe(b"hello, world", true).unwrap_err();
        assert!(matches!(text, ApiError::UnsupportedMedia(_)), "{text:?}");
        let svg = describe(
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"/>"#,
            true,
        )
        .unwrap();
        assert_eq!(
            (svg.format.as_str(), svg.width, svg.height),
            ("svg", Some(4), Some(3))
        );
        let truncated_jpeg = describe(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], true).unwrap_err();
        assert!(
            truncated_jpeg.to_string().contains("not a readable image"),
            "{truncated_jpeg}"
        );
    }
}
