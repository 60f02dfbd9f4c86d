//! The changes table: every committed change, numbered in commit order, with the node that
//! made it. On PostgreSQL each one is also announced with `NOTIFY` (in its own transaction, so
//! it is sent when — and only if — the change is committed); a node that was not listening
//! reads what it missed from here, by number. On SQLite (one node) nothing reads it back.

use crate::{Store, StoreError};
use sqlx::Row;

/// One change as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: i64,
    /// The node that made it (and applied it already).
    pub node: String,
    pub account_id: String,
    pub kind: String,
    /// What within the account changed (a library path, a folder), when it matters.
    pub subject: String,
}

impl Store {
    /// Records a change and announces it to every listening node; returns its number.
    pub async fn record_change(
        &self,
        node: &str,
        account: &str,
        kind: &str,
        subject: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write_transaction().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO changes (node, account_id, kind, subject, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(node)
        .bind(account)
        .bind(kind)
        .bind(subject)
        .bind(crate::now_unix())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        if let Some(notify) = self.backend().notify(id) {
            sqlx::query(crate::audited(notify))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The changes after number `after`, oldest first, at most `limit`.
    pub async fn changes_since(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, node, account_id, kind, subject FROM changes WHERE id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ChangeRecord {
                    id: row.try_get("id")?,
                    node: row.try_get("node")?,
                    account_id: row.try_get("account_id")?,
                    kind: row.try_get("kind")?,
                    subject: row.try_get("subject")?,
                })
            })
            .collect()
    }

    /// The number of the newest change (0: none yet).
    pub async fn last_change_id(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM changes")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("id")?)
    }

    /// Forgets changes older than `before` (unix seconds): a node that was away longer
    /// rebuilds its whole catalog instead of replaying.
    pub async fn prune_changes(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM changes WHERE created_at < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// A listener for the announcements of changes; `None` on SQLite (one node: nothing to
    /// hear).
    pub async fn listen_for_changes(&self) -> Result<Option<ChangeListener>, StoreError> {
        match self.backend().changes_channel() {
            Some(channel) => {
                // Its own connection, given up on after a few seconds (as the store's pool).
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(std::time::Duration::from_secs(5))
                    .connect(self.url())
                    .await?;
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                // A lost connection is reported at once (the caller replays and reconnects),
                // not retried inside the listener for half a minute.
                listener.eager_reconnect(false);
                listener.listen(channel).await?;
                Ok(Some(ChangeListener { listener }))
            }
            None => Ok(None),
        }
    }
}

/// Hears the announcements of changes (PostgreSQL's `LISTEN`).
pub struct ChangeListener {
    listener: sqlx::postgres::PgListener,
}

/// What a listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A change was committed (its number).
    Change(i64),
    /// The connection was lost and made again: announcements may have been missed.
    Reconnected,
}

impl ChangeListener {
    /// Waits for the next announcement; an error when the database cannot be reached (call
    /// again to retry).
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.listener.try_recv().await? {
            Some(notification) => Ok(Heard::Change(
                notification.payload().parse().unwrap_or_default(),
            )),
            None => Ok(Heard::Reconnected),
        }
    }
}
