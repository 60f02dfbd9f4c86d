//! Media Library file records: what was uploaded or imported, where, with its tags, metadata and
//! whether it is private; listing and searching them with their folders.

use crate::search::{self, Bind, Target};
use crate::{FileRecord, Store, StoreError, audited, new_id, now_unix};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

const FILE_COLUMNS: &str = "id, account_id, path, name, size, mime, sha256, is_private, \
    file_type, format, width, height, has_alpha, description, custom_metadata, \
    custom_coordinates, version, created_at, updated_at";

/// A Media Library folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRecord {
    pub account_id: String,
    /// `/a/b/`.
    pub path: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a listing returns: files, folders or both (ImageKit's `type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListKind {
    #[default]
    Files,
    Folders,
    All,
}

/// The order of a listing (ImageKit's `sort`: `ASC_CREATED`, `DESC_NAME`, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileSort {
    /// `name`, `created_at`, `updated_at`, `height`, `width` or `size`.
    pub column: &'static str,
    pub descending: bool,
}

impl FileSort {
    /// Parses ImageKit's sort names; `None` for an unknown one.
    pub fn parse(text: &str) -> Option<Self> {
        let (direction, field) = text.split_once('_')?;
        let descending = match direction {
            "ASC" => false,
            "DESC" => true,
            _ => return None,
        };
        let column = match field {
            "NAME" => "name",
            "CREATED" => "created_at",
            "UPDATED" => "updated_at",
            "HEIGHT" => "height",
            "WIDTH" => "width",
            "SIZE" => "size",
            _ => return None,
        };
        Some(Self { column, descending })
    }
}

/// A listing request.
#[derive(Debug, Clone, Default)]
pub struct FileList {
    /// Only what is directly in this folder (`/a/`).
    pub folder: Option<String>,
    pub search: Option<String>,
    /// `image` or `non-image`.
    pub file_type: Option<String>,
    pub kind: ListKind,
    pub sort: FileSort,
    pub skip: usize,
    pub limit: usize,
}

/// One row of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    File(Box<FileRecord>),
    Folder(FolderRecord),
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct FileChanges {
    pub tags: Option<Vec<String>>,
    pub custom_metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub description: Option<String>,
    pub custom_coordinates: Option<Option<String>>,
}

fn file_from_row(row: &AnyRow) -> Result<FileRecord, StoreError> {
    let metadata: String = row.try_get("custom_metadata")?;
    Ok(FileRecord {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        path: row.try_get("path")?,
        name: row.try_get("name")?,
        size: row.try_get("size")?,
        mime: row.try_get("mime")?,
        sha256: row.try_get("sha256")?,
        is_private: row.try_get::<i64, _>("is_private")? != 0,
        file_type: row.try_get("file_type")?,
        format: row.try_get("format")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        has_alpha: row.try_get::<i64, _>("has_alpha")? != 0,
        tags: Vec::new(),
        description: row.try_get("description")?,
        custom_metadata: serde_json::from_str(&metadata)
            .map_err(|e| StoreError::Corrupt(format!("custom metadata: {e}")))?,
        custom_coordinates: row.try_get("custom_coordinates")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn folder_from_row(row: &AnyRow) -> Result<FolderRecord, StoreError> {
    Ok(FolderRecord {
        account_id: row.try_get("account_id")?,
        path: row.try_get("path")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text.as_str()),
            Bind::Int(number) => query.bind(*number),
        };
    }
    query
}

/// The name and parent of a folder path `/a/b/`: (`b`, `/a/`).
fn split_folder(path: &str) -> (&str, &str) {
    let inner = path.trim_end_matches('/');
    match inner.rfind('/') {
        Some(i) => (&inner[i + 1..], &path[..=i]),
        None => (inner, "/"),
    }
}

/// Creates `folder` and every folder above it that is missing.
async fn ensure_folders(
    tx: &mut Transaction<'_, Any>,
    account: &str,
    folder: &str,
    now: i64,
) -> Result<(), StoreError> {
    let mut path = folder.to_string();
    while path != "/" {
        let (name, parent) = split_folder(&path);
        let (name, parent) = (name.to_string(), parent.to_string());
        let inserted = sqlx::query(
            "INSERT INTO folders (account_id, path, name, parent, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (account_id, path) DO NOTHING",
        )
        .bind(account)
        .bind(&path)
        .bind(&name)
        .bind(&parent)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 0 {
            break; // it exists, so its parents do too
        }
        path = parent;
    }
    Ok(())
}

async fn set_tags(
    tx: &mut Transaction<'_, Any>,
    file_id: &str,
    tags: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM file_tags WHERE file_id = $1")
        .bind(file_id)
        .execute(&mut **tx)
        .await?;
    for tag in tags {
        sqlx::query("INSERT INTO file_tags (file_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(file_id)
            .bind(tag)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Records a Media Library file in one transaction: a new record, or — same path — the
    /// existing one replaced (its id and creation time kept, its version counted up), with its
    /// tags and the folders above it. Returns the record as stored.
    pub async fn upsert_file(&self, file: &FileRecord) -> Result<FileRecord, StoreError> {
        let now = now_unix();
        let mut tx = self.write_transaction().await?;
        let existing = sqlx::query(
            "SELECT id, created_at, version FROM files WHERE account_id = $1 AND path = $2",
        )
        .bind(&file.account_id)
        .bind(&file.path)
        .fetch_optional(&mut *tx)
        .await?;
        let (id, created_at, version) = match existing {
            Some(row) => (
                row.try_get::<String, _>("id")?,
                row.try_get::<i64, _>("created_at")?,
                row.try_get::<i64, _>("version")? + 1,
            ),
            None if file.id.is_empty() => (new_id(), now, 1),
            None => (file.id.clone(), now, 1),
        };
        let stored = FileRecord {
            id,
            created_at,
            version,
            updated_at: now,
            ..file.clone()
        };
        self.write_file_row(&mut tx, &stored).await?;
        set_tags(&mut tx, &stored.id, &stored.tags).await?;
        ensure_folders(&mut tx, &stored.account_id, &stored.folder(), now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn write_file_row(
        &self,
        tx: &mut Transaction<'_, Any>,
        file: &FileRecord,
    ) -> Result<(), StoreError> {
        let metadata = serde_json::Value::Object(file.custom_metadata.clone()).to_string();
        sqlx::query(
            "INSERT INTO files (id, account_id, path, name, size, mime, sha256, is_private, \
             folder, file_type, format, width, height, has_alpha, description, custom_metadata, \
             custom_coordinates, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
             ON CONFLICT (id) DO UPDATE SET path = excluded.path, \
             name = excluded.name, size = excluded.size, mime = excluded.mime, sha256 = excluded.sha256, \
             is_private = excluded.is_private, folder = excluded.folder, file_type = excluded.file_type, \
             format = excluded.format, width = excluded.width, height = excluded.height, \
             has_alpha = excluded.has_alpha, description = excluded.description, \
             custom_metadata = excluded.custom_metadata, custom_coordinates = excluded.custom_coordinates, \
             version = excluded.version, updated_at = excluded.updated_at",
        )
        .bind(&file.id)
        .bind(&file.account_id)
        .bind(&file.path)
        .bind(&file.name)
        .bind(file.size)
        .bind(&file.mime)
        .bind(&file.sha256)
        .bind(file.is_private as i64)
        .bind(file.folder())
        .bind(&file.file_type)
        .bind(&file.format)
        .bind(file.width)
        .bind(file.height)
        .bind(file.has_alpha as i64)
        .bind(&file.description)
        .bind(metadata)
        .bind(&file.custom_coordinates)
        .bind(file.version)
        .bind(file.created_at)
        .bind(file.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The record of the file at `path` in an account's library.
    pub async fn file_by_path(
        &self,
        account: &str,
        path: &str,
    ) -> Result<Option<FileRecord>, StoreError> {
        let row = sqlx::query(audited(format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE account_id = $1 AND path = $2"
        )))
        .bind(account)
        .bind(path)
        .fetch_optional(self.pool())
        .await?;
        self.with_tags(row.iter().map(file_from_row).collect::<Result<_, _>>()?)
            .await
            .map(|mut files| files.pop())
    }

    /// The record of file `id` of `account` (another account's id is not found).
    pub async fn file_by_id(&self, account: &str, id: &str) -> Result<FileRecord, StoreError> {
        let row = sqlx::query(audited(format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE account_id = $1 AND id = $2"
        )))
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "file",
            name: id.to_string(),
        })?;
        let file = file_from_row(&row)?;
        Ok(self.with_tags(vec![file]).await?.remove(0))
    }

    /// Fills in the tags of `files` with one query.
    async fn with_tags(&self, mut files: Vec<FileRecord>) -> Result<Vec<FileRecord>, StoreError> {
        if files.is_empty() {
            return Ok(files);
        }
        let placeholders: Vec<String> = (1..=files.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT file_id, tag FROM file_tags WHERE file_id IN ({}) ORDER BY tag",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(audited(sql.clone()));
        for file in &files {
            query = query.bind(&file.id);
        }
        let mut tags: HashMap<String, Vec<String>> = HashMap::new();
        for row in query.fetch_all(self.pool()).await? {
            tags.entry(row.try_get("file_id")?)
                .or_default()
                .push(row.try_get("tag")?);
        }
        for file in &mut files {
            file.tags = tags.remove(&file.id).unwrap_or_default();
        }
        Ok(files)
    }

    /// Files and folders of an account, filtered, sorted and paged.
    pub async fn list_files(
        &self,
        account: &str,
        request: &FileList,
    ) -> Result<Vec<Listed>, StoreError> {
        let window = request.skip.saturating_add(request.limit);
        let mut listed = Vec::new();
        if request.kind != ListKind::Folders {
            for file in self.list_file_rows(account, request, window).await? {
                listed.push(Listed::File(Box::new(file)));
            }
        }
        if request.kind != ListKind::Files && request.file_type.is_none() {
            for folder in self.list_folder_rows(account, request, window).await? {
                listed.push(Listed::Folder(folder));
            }
        }
        listed.sort_by(|a, b| {
            let order = sort_key(a, request.sort.column).cmp(&sort_key(b, request.sort.column));
            if request.sort.descending {
                order.reverse()
            } else {
                order
            }
        });
        Ok(listed
            .into_iter()
            .skip(request.skip)
            .take(request.limit)
            .collect())
    }

    async fn list_file_rows(
        &self,
        account: &str,
        request: &FileList,
        window: usize,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let mut sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE account_id = $1");
        let mut binds = vec![Bind::Text(account.to_string())];
        if let Some(folder) = &request.folder {
            binds.push(Bind::Text(folder.clone()));
            sql.push_str(&format!(" AND folder = ${}", binds.len()));
        }
        if let Some(file_type) = &request.file_type {
            binds.push(Bind::Text(file_type.clone()));
            sql.push_str(&format!(" AND file_type = ${}", binds.len()));
        }
        if let Some(query) = &request.search {
            let condition = search::compile(query, Target::Files, binds.len() + 1, now_unix())?;
            sql.push_str(&format!(" AND {}", condition.sql));
            binds.extend(condition.binds);
        }
        let direction = if request.sort.descending {
            "DESC"
        } else {
            "ASC"
        };
        sql.push_str(&format!(
            " ORDER BY {} {direction}, id LIMIT {window}",
            request.sort.column
        ));
        let rows = bind_all(sqlx::query(audited(sql.clone())), &binds)
            .fetch_all(self.pool())
            .await?;
        let files = rows.iter().map(file_from_row).collect::<Result<_, _>>()?;
        self.with_tags(files).await
    }

    async fn list_folder_rows(
        &self,
        account: &str,
        request: &FileList,
        window: usize,
    ) -> Result<Vec<FolderRecord>, StoreError> {
        let mut sql = "SELECT account_id, path, name, created_at, updated_at FROM folders \
                       WHERE account_id = $1"
            .to_string();
        let mut binds = vec![Bind::Text(account.to_string())];
        if let Some(folder) = &request.folder {
            binds.push(Bind::Text(folder.clone()));
            sql.push_str(&format!(" AND parent = ${}", binds.len()));
        }
        if let Some(query) = &request.search {
            let condition = search::compile(query, Target::Folders, binds.len() + 1, now_unix())?;
            sql.push_str(&format!(" AND {}", condition.sql));
            binds.extend(condition.binds);
        }
        let column = match request.sort.column {
            "name" | "created_at" | "updated_at" => request.sort.column,
            _ => "name",
        };
        let direction = if request.sort.descending {
            "DESC"
        } else {
            "ASC"
        };
        sql.push_str(&format!(
            " ORDER BY {column} {direction}, path LIMIT {window}"
        ));
        let rows = bind_all(sqlx::query(audited(sql.clone())), &binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(folder_from_row).collect()
    }

    /// Changes a file's tags, custom metadata, description or custom coordinates.
    pub async fn update_file(
        &self,
        account: &str,
        id: &str,
        changes: &FileChanges,
    ) -> Result<FileRecord, StoreError> {
        let mut file = self.file_by_id(account, id).await?;
        if let Some(tags) = &changes.tags {
            file.tags = tags.clone();
        }
        if let Some(metadata) = &changes.custom_metadata {
            file.custom_metadata = metadata.clone();
        }
        if let Some(description) = &changes.description {
            file.description = description.clone();
        }
        if let Some(coordinates) = &changes.custom_coordinates {
            file.custom_coordinates = coordinates.clone();
        }
        file.updated_at = now_unix();
        let mut tx = self.write_transaction().await?;
        self.write_file_row(&mut tx, &file).await?;
        set_tags(&mut tx, &file.id, &file.tags).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Adds `add` to and removes `remove` from the tags of every file in `ids` (all of the
    /// account's, or nothing changes). Returns the ids changed.
    pub async fn retag_files(
        &self,
        account: &str,
        ids: &[String],
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.write_transaction().await?;
        for id in ids {
            let owned = sqlx::query("SELECT 1 FROM files WHERE account_id = $1 AND id = $2")
                .bind(account)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if owned.is_none() {
                return Err(StoreError::NotFound {
                    what: "file",
                    name: id.clone(),
                });
            }
            for tag in add {
                sqlx::query(
                    "INSERT INTO file_tags (file_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(tag)
                .execute(&mut *tx)
                .await?;
            }
            for tag in remove {
                sqlx::query("DELETE FROM file_tags WHERE file_id = $1 AND tag = $2")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE files SET updated_at = $1 WHERE id = $2")
                .bind(now_unix())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids.to_vec())
    }

    /// Deletes the records of the files in `ids` that belong to `account`; returns the deleted
    /// records (so their bytes and cached results can be removed).
    pub async fn delete_files(
        &self,
        account: &str,
        ids: &[String],
    ) -> Result<Vec<FileRecord>, StoreError> {
        let mut deleted = Vec::new();
        let mut tx = self.write_transaction().await?;
        for id in ids {
            let row = sqlx::query(audited(format!(
                "DELETE FROM files WHERE account_id = $1 AND id = $2 RETURNING {FILE_COLUMNS}"
            )))
            .bind(account)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                deleted.push(file_from_row(&row)?);
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Gives file `id` a new path (move, rename); refused when a file is already there.
    pub async fn move_file(
        &self,
        account: &str,
        id: &str,
        new_path: &str,
    ) -> Result<FileRecord, StoreError> {
        let mut file = self.file_by_id(account, id).await?;
        if self.file_by_path(account, new_path).await?.is_some() {
            return Err(StoreError::Exists {
                what: "file",
                name: format!("/{new_path}"),
            });
        }
        file.path = new_path.to_string();
        file.name = new_path.rsplit('/').next().unwrap_or(new_path).to_string();
        file.updated_at = now_unix();
        let mut tx = self.write_transaction().await?;
        self.write_file_row(&mut tx, &file).await?;
        ensure_folders(&mut tx, account, &file.folder(), file.updated_at).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Creates a folder (and the folders above it); an existing folder is left as it is.
    pub async fn create_folder(&self, account: &str, folder: &str) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        ensure_folders(&mut tx, account, folder, now_unix()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `folder` exists (the root always does).
    pub async fn folder_exists(&self, account: &str, folder: &str) -> Result<bool, StoreError> {
        if folder == "/" {
            return Ok(true);
        }
        let row = sqlx::query("SELECT 1 FROM folders WHERE account_id = $1 AND path = $2")
            .bind(account)
            .bind(folder)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    /// Whether the file at `path` of `account`'s library is private (`false` when there is none).
    pub async fn is_private_file(&self, account: &str, path: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT is_private FROM files WHERE account_id = $1 AND path = $2")
            .bind(account)
            .bind(path)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("is_private")? != 0,
            None => false,
        })
    }

    /// Every file in `folder` or below it.
    pub async fn files_under(
        &self,
        account: &str,
        folder: &str,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let rows = sqlx::query(audited(format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE account_id = $1 AND substr(folder, 1, length($2)) = $2 \
             ORDER BY path"
        )))
        .bind(account)
        .bind(folder)
        .fetch_all(self.pool())
        .await?;
        let files = rows.iter().map(file_from_row).collect::<Result<_, _>>()?;
        self.with_tags(files).await
    }

    /// Every folder below `folder` (not `folder` itself), as paths.
    pub async fn folders_under(
        &self,
        account: &str,
        folder: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT path FROM folders WHERE account_id = $1 AND substr(path, 1, length($2)) = $2 \
             AND path <> $2 ORDER BY path",
        )
        .bind(account)
        .bind(folder)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| row.try_get("path").map_err(Into::into))
            .collect()
    }

    /// Deletes a folder with everything in it; returns the records of the files deleted.
    pub async fn delete_folder(
        &self,
        account: &str,
        folder: &str,
    ) -> Result<Vec<FileRecord>, StoreError> {
        if !self.folder_exists(account, folder).await? || folder == "/" {
            return Err(StoreError::NotFound {
                what: "folder",
                name: folder.to_string(),
            });
        }
        let mut tx = self.write_transaction().await?;
        let rows = sqlx::query(audited(format!(
            "DELETE FROM files WHERE account_id = $1 AND substr(folder, 1, length($2)) = $2 \
             RETURNING {FILE_COLUMNS}"
        )))
        .bind(account)
        .bind(folder)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM folders WHERE account_id = $1 AND substr(path, 1, length($2)) = $2",
        )
        .bind(account)
        .bind(folder)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(file_from_row).collect()
    }
}

/// A listing's sort value: text for names, numbers otherwise (folders have no size).
fn sort_key(listed: &Listed, column: &str) -> (i64, String) {
    match listed {
        Listed::File(f) => match column {
            "name" => (0, f.name.clone()),
            "created_at" => (f.created_at, f.id.clone()),
            "updated_at" => (f.updated_at, f.id.clone()),
            "height" => (f.height.unwrap_or(0), f.id.clone()),
            "width" => (f.width.unwrap_or(0), f.id.clone()),
            _ => (f.size, f.id.clone()),
        },
        Listed::Folder(d) => match column {
            "name" => (0, d.name.clone()),
            "created_at" => (d.created_at, d.path.clone()),
            "updated_at" => (d.updated_at, d.path.clone()),
            _ => (0, d.path.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::split_folder;

    #[test]
    fn folders_split_into_name_and_parent() {
        assert_eq!(split_folder("/a/b/"), ("b", "/a/"));
        assert_eq!(split_folder("/a/"), ("a", "/"));
    }
}
