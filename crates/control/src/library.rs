//! Media Library changes, whichever surface makes them (management API, dashboard, `pixelway
//! import`, the embedded samples): each one changes the bytes, the record and the caches
//! together, under a per-path lock so two writers of one path never leave one's bytes with the
//! other's record.
//!
//! Order of a write: the bytes are made durable and put in place first (see
//! [`crate::MediaLibrary::store`]), then the record is written in one transaction, then
//! cached copies are dropped. A crash before the record leaves the new bytes under the old (or
//! no) record — never a record without its bytes, never half a file.

use crate::{Control, ControlError, validate};
use pixelway_store::{FileChanges, FileRecord};

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
pub fn describe(head: &[u8], complete: bool) -> Result<Described, ControlError> {
    if head.is_empty() {
        return Err(ControlError::Invalid("file: the file is empty".into()));
    }
    let sniffed = crate::sniff::content_type(head);
    if sniffed.starts_with("image/") {
        let format = match sniffed.as_str() {
            "image/jpeg" => "jpg".to_string(),
            "image/svg+xml" => "svg".to_string(),
            other => other.trim_start_matches("image/").to_string(),
        };
        let (width, height) = match pixelway_transform::pipeline::probe(head) {
            Ok((_, w, h)) => (Some(i64::from(w)), Some(i64::from(h))),
            Err(e) if complete => {
                return Err(ControlError::Invalid(format!(
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
    Err(ControlError::Unsupported(format!(
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

impl Spooled {
    /// Bytes already in memory (the embedded samples), spooled like an upload.
    pub fn from_bytes(media: &crate::MediaLibrary, bytes: &[u8]) -> Result<Self, ControlError> {
        use sha2::Digest;
        use std::io::Write;
        let mut file = media.spool_file()?;
        file.write_all(bytes)
            .map_err(|e| ControlError::Internal(format!("spooling: {e}")))?;
        Ok(Self {
            file,
            size: bytes.len() as u64,
            sha256: hex_digest(&sha2::Sha256::digest(bytes)),
            head: bytes[..bytes.len().min(HEAD_BYTES)].to_vec(),
        })
    }
}

fn hex_digest(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Control {
    /// Stores a new file (or replaces the one at its path) and returns its record.
    pub async fn add_file(
        &self,
        new: NewFile,
        spooled: Spooled,
    ) -> Result<FileRecord, ControlError> {
        let name = clean_file_name(&new.file_name);
        validate::file_name(&name)?;
        let folder = validate::folder_path(&new.folder)?;
        let tags = validate::tags(new.tags)?;
        let custom_coordinates = match &new.custom_coordinates {
            Some(text) => validate::custom_coordinates(text)?,
            None => None,
        };
        let complete = spooled.size as usize <= spooled.head.len();
        let described = describe(&spooled.head, complete)?;
        let name = if new.use_unique_file_name {
            unique_name(&name)
        } else {
            name
        };
        let path = format!("{}{name}", &folder[1..]);
        let _turn = self.lock_path(&new.account, &path).await;
        let existing = self.store.file_by_path(&new.account, &path).await?;
        if existing.is_some() && !new.overwrite_file {
            return Err(ControlError::Conflict(format!(
                "a file already exists at /{path} and overwriteFile is false"
            )));
        }
        self.media.store(&new.account, &path, spooled.file).await?;
        let record = self
            .store
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
                tags,
                description: new.description,
                custom_metadata: new.custom_metadata,
                custom_coordinates,
                ..FileRecord::default()
            })
            .await?;
        self.forget_file(&new.account, &path).await;
        if record.is_private && !self.has_private_files(&new.account) {
            self.account_changed(&new.account).await?;
        }
        Ok(record)
    }

    /// Changes a file's description, tags, custom metadata or custom coordinates.
    pub async fn update_file(
        &self,
        account: &str,
        id: &str,
        changes: FileChanges,
    ) -> Result<FileRecord, ControlError> {
        let changes = FileChanges {
            tags: changes.tags.map(validate::tags).transpose()?,
            ..changes
        };
        let file = self.store.update_file(account, id, &changes).await?;
        // `fo-custom` answers held in memory were drawn with the old coordinates.
        self.forget_file(account, &file.path).await;
        Ok(file)
    }

    /// Adds tags to (or removes them from) files; returns the ids changed.
    pub async fn retag_files(
        &self,
        account: &str,
        ids: &[String],
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<Vec<String>, ControlError> {
        let (add, remove) = (validate::tags(add)?, validate::tags(remove)?);
        Ok(self.store.retag_files(account, ids, &add, &remove).await?)
    }

    /// Creates an empty folder (`/a/b/`); its parents too.
    pub async fn create_folder(&self, account: &str, folder: &str) -> Result<(), ControlError> {
        let folder = validate::folder_path(folder)?;
        Ok(self.store.create_folder(account, &folder).await?)
    }

    /// Drops what the node remembers of a library path: its cached original (a bucket
    /// library's originals are cached; a local one is read in place), its answers in memory,
    /// and whether it is private. Results on disk need nothing: their keys hold the original's
    /// ETag.
    async fn forget_file(&self, account: &str, path: &str) {
        self.forget_file_here(account, path).await;
        self.publish(crate::changes::Change::File {
            account: account.to_string(),
            path: path.to_string(),
        })
        .await;
    }

    /// [`Control::forget_file`] on this node only (a change another node made).
    pub(crate) async fn forget_file_here(&self, account: &str, path: &str) {
        let media_library = crate::catalog::media_library_id(account);
        self.caches
            .forget_file(account, path, std::slice::from_ref(&media_library))
            .await;
        self.private_files.forget(account, path);
    }

    /// Whether the catalog knows `account` has private files (when it gains its first, its
    /// catalog entry is rebuilt so delivery starts asking).
    fn has_private_files(&self, account: &str) -> bool {
        self.catalog()
            .account(account)
            .is_some_and(|a| a.has_private_files)
    }

    /// Deletes files by id (those of other accounts are not found); returns the ids deleted.
    pub async fn delete_files(
        &self,
        account: &str,
        ids: &[String],
    ) -> Result<Vec<String>, ControlError> {
        let deleted = self.store.delete_files(account, ids).await?;
        self.remove_bytes(account, &deleted).await
    }

    /// Removes the bytes and what is remembered of deleted records. (An account whose last
    /// private file goes keeps its catalog flag until its next rebuild: delivery then asks,
    /// and the store answers "not private".)
    async fn remove_bytes(
        &self,
        account: &str,
        deleted: &[FileRecord],
    ) -> Result<Vec<String>, ControlError> {
        for file in deleted {
            let _turn = self.lock_path(account, &file.path).await;
            self.media.remove(account, &file.path).await?;
            self.forget_file(account, &file.path).await;
        }
        Ok(deleted.iter().map(|f| f.id.clone()).collect())
    }

    /// Deletes a folder with everything in it.
    pub async fn delete_folder(&self, account: &str, folder: &str) -> Result<(), ControlError> {
        let folder = validate::folder_path(folder)?;
        let deleted = self.store.delete_folder(account, &folder).await?;
        self.remove_bytes(account, &deleted).await?;
        Ok(())
    }

    /// Copies the file at `source` into `folder` (same name); a file there is replaced.
    pub async fn copy_file(
        &self,
        account: &str,
        source: &str,
        folder: &str,
    ) -> Result<FileRecord, ControlError> {
        let record = self
            .store
            .file_by_path(account, source)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("no file at /{source}")))?;
        let spooled = self.media.read_into_spool(account, source).await?;
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
        self.add_file(new, spooled).await
    }

    /// Moves the file at `source` into `folder`, keeping its name.
    pub async fn move_file(
        &self,
        account: &str,
        source: &str,
        folder: &str,
    ) -> Result<FileRecord, ControlError> {
        let original = self
            .store
            .file_by_path(account, source)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("no file at /{source}")))?;
        let moved = self.copy_file(account, source, folder).await?;
        if moved.id != original.id {
            self.delete_files(account, std::slice::from_ref(&original.id))
                .await?;
        }
        Ok(moved)
    }

    /// Renames the file at `source` within its folder; refused when the new name is taken.
    pub async fn rename_file(
        &self,
        account: &str,
        source: &str,
        new_name: &str,
    ) -> Result<FileRecord, ControlError> {
        let new_name = clean_file_name(new_name);
        validate::file_name(&new_name)
            .map_err(|e| ControlError::from(e).in_field("newFileName"))?;
        let record = self
            .store
            .file_by_path(account, source)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("no file at /{source}")))?;
        let folder = record.folder();
        let target = format!("{}{new_name}", &folder[1..]);
        if self.store.file_by_path(account, &target).await?.is_some() {
            return Err(ControlError::Conflict(format!(
                "a file already exists at /{target}"
            )));
        }
        let spooled = self.media.read_into_spool(account, source).await?;
        let _turn = self.lock_path(account, &target).await;
        self.media.store(account, &target, spooled).await?;
        let renamed = self.store.move_file(account, &record.id, &target).await?;
        self.media.remove(account, source).await?;
        self.forget_file(account, source).await;
        self.forget_file(account, &target).await;
        Ok(renamed)
    }

    /// Copies everything in folder `source` (`/a/b/`) into folder `target` (`/x/b/`): every
    /// file (replacing one already at its new path) and every empty folder. Returns the files
    /// copied.
    pub async fn copy_tree(
        &self,
        account: &str,
        source: &str,
        target: &str,
    ) -> Result<usize, ControlError> {
        if source == "/" {
            return Err(ControlError::Invalid(
                "sourceFolderPath: the root folder cannot be copied or moved".into(),
            ));
        }
        if target.starts_with(source) {
            return Err(ControlError::Invalid(format!(
                "destinationPath: {target} is inside {source}, the folder being copied"
            )));
        }
        if !self.store.folder_exists(account, source).await? {
            return Err(ControlError::NotFound(format!("no folder {source}")));
        }
        let files = self.store.files_under(account, source).await?;
        for file in &files {
            let below = &file.folder()[source.len()..];
            self.copy_file(account, &file.path, &format!("{target}{below}"))
                .await?;
        }
        self.store.create_folder(account, target).await?;
        for folder in self.store.folders_under(account, source).await? {
            let below = &folder[source.len()..];
            self.store
                .create_folder(account, &format!("{target}{below}"))
                .await?;
        }
        Ok(files.len())
    }

    /// Moves folder `source` to `target` (copied, then the source deleted).
    pub async fn move_tree(
        &self,
        account: &str,
        source: &str,
        target: &str,
    ) -> Result<usize, ControlError> {
        let moved = self.copy_tree(account, source, target).await?;
        self.delete_folder(account, source).await?;
        Ok(moved)
    }
}

async fn read_head(path: &std::path::Path) -> Result<Vec<u8>, ControlError> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ControlError::Internal(e.to_string()))?;
    let mut head = Vec::new();
    file.take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .await
        .map_err(|e| ControlError::Internal(e.to_string()))?;
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
        assert!(matches!(text, ControlError::Unsupported(_)), "{text:?}");
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
