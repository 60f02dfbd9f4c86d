//! Media Library file records: what was uploaded or imported, where, and whether it is private.

use crate::{FileRecord, Store, StoreError, now_unix};
use sqlx::Row;

impl Store {
    /// Records a Media Library file (a new id, or the same path overwritten).
    pub async fn upsert_file(&self, file: &FileRecord) -> Result<(), StoreError> {
        let now = now_unix();
        sqlx::query(
            "INSERT INTO files (id, account_id, path, name, size, mime, sha256, is_private, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (account_id, path) DO UPDATE SET \
             name = excluded.name, size = excluded.size, mime = excluded.mime, sha256 = excluded.sha256, \
             is_private = excluded.is_private, updated_at = excluded.updated_at",
        )
        .bind(&file.id)
        .bind(&file.account_id)
        .bind(&file.path)
        .bind(&file.name)
        .bind(file.size)
        .bind(&file.mime)
        .bind(&file.sha256)
        .bind(file.is_private as i64)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The record of the file at `path` in an account's library.
    pub async fn file_by_path(
        &self,
        account: &str,
        path: &str,
    ) -> Result<Option<FileRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, path, name, size, mime, sha256, is_private FROM files \
             WHERE account_id = $1 AND path = $2",
        )
        .bind(account)
        .bind(path)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(FileRecord {
                id: row.try_get("id")?,
                account_id: row.try_get("account_id")?,
                path: row.try_get("path")?,
                name: row.try_get("name")?,
                size: row.try_get("size")?,
                mime: row.try_get("mime")?,
                sha256: row.try_get("sha256")?,
                is_private: row.try_get::<i64, _>("is_private")? != 0,
            })
        })
        .transpose()
    }

    /// (account id, path) of every private file, for the delivery catalog.
    pub(crate) async fn load_private_files(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT account_id, path FROM files WHERE is_private = 1")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("account_id")?, row.try_get("path")?)))
            .collect()
    }
}
