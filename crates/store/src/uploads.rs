//! What the management API must remember between requests: client-side upload tokens (each
//! usable once, until it expires), purge requests and folder jobs (their status, asked for
//! later).

use crate::{Store, StoreError, new_id, now_unix};
use sqlx::Row;

/// A purge request and its status (`Completed`: pixelway purges before it answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRequest {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub status: String,
}

impl Store {
    /// Marks a client-side upload token as used. `false` when it was used before: a token
    /// authorises one upload. Tokens past their expiry are forgotten on the way (their
    /// signatures no longer verify).
    pub async fn use_upload_token(
        &self,
        account: &str,
        token: &str,
        expire: i64,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM upload_tokens WHERE expire < $1")
            .bind(now_unix())
            .execute(self.pool())
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO upload_tokens (account_id, token, expire) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, token) DO NOTHING",
        )
        .bind(account)
        .bind(token)
        .bind(expire)
        .execute(self.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Records a purge (done) of `path` (a prefix when `wildcard`) and returns its request id.
    pub async fn record_purge(
        &self,
        account: &str,
        url: &str,
        path: &str,
        wildcard: bool,
        at: i64,
    ) -> Result<String, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO purge_requests (id, account_id, url, path, wildcard, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'Completed', $6)",
        )
        .bind(&id)
        .bind(account)
        .bind(url)
        .bind(path)
        .bind(wildcard as i64)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Forgets `account`'s purge records up to `until` and keeps one purge of everything
    /// (the root prefix) at `until` in their place: the purge ledger's collapse, so the records
    /// read at start stay bounded. Their request ids are forgotten with them.
    pub async fn collapse_purges(&self, account: &str, until: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM purge_requests WHERE account_id = $1 AND created_at <= $2")
            .bind(account)
            .bind(until)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO purge_requests (id, account_id, url, path, wildcard, status, created_at) \
             VALUES ($1, $2, '', '', 1, 'Completed', $3)",
        )
        .bind(new_id())
        .bind(account)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every path's (or prefix's) latest purge: (account, path, wildcard, unix time), oldest
    /// first. A path purged many times is read once.
    pub async fn purges(&self) -> Result<Vec<(String, String, bool, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, path, wildcard, MAX(created_at) AS created_at FROM purge_requests \
             GROUP BY account_id, path, wildcard ORDER BY created_at",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("account_id")?,
                    row.try_get("path")?,
                    row.try_get::<i64, _>("wildcard")? != 0,
                    row.try_get("created_at")?,
                ))
            })
            .collect()
    }

    /// Records a folder job (done) of `kind` (`COPY_FOLDER`, `MOVE_FOLDER`, `RENAME_FOLDER`).
    pub async fn record_job(&self, account: &str, kind: &str) -> Result<String, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO bulk_jobs (id, account_id, kind, status, created_at) \
             VALUES ($1, $2, $3, 'Completed', $4)",
        )
        .bind(&id)
        .bind(account)
        .bind(kind)
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// A folder job of `account`: (kind, status).
    pub async fn job(&self, account: &str, id: &str) -> Result<(String, String), StoreError> {
        let row =
            sqlx::query("SELECT kind, status FROM bulk_jobs WHERE account_id = $1 AND id = $2")
                .bind(account)
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "bulk job",
                    name: id.to_string(),
                })?;
        Ok((row.try_get("kind")?, row.try_get("status")?))
    }

    /// A purge request of `account` (another account's id is not found).
    pub async fn purge_request(&self, account: &str, id: &str) -> Result<PurgeRequest, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, url, status FROM purge_requests WHERE account_id = $1 AND id = $2",
        )
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "purge request",
            name: id.to_string(),
        })?;
        Ok(PurgeRequest {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            url: row.try_get("url")?,
            status: row.try_get("status")?,
        })
    }
}
