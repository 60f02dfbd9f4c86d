//! Dashboard sessions: who signed in, until when, and the CSRF token their forms carry.
//! Rows are keyed by the SHA-256 of the session cookie, so the table alone opens no session.

use crate::{Store, StoreError, now_unix};
use sqlx::Row;

/// A signed-in dashboard session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// `None` for the operator.
    pub account_id: Option<String>,
    pub csrf_token: String,
    /// Fingerprint of the credential used to sign in; a rotated key no longer matches.
    pub key_fingerprint: String,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session under the hash of its cookie; expired sessions are dropped on the way.
    pub async fn create_session(
        &self,
        id_hash: &str,
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at < $1")
            .bind(now_unix())
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO dashboard_sessions (id_hash, account_id, csrf_token, key_fingerprint, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(&session.account_id)
        .bind(&session.csrf_token)
        .bind(&session.key_fingerprint)
        .bind(session.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The unexpired session stored under `id_hash`.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT account_id, csrf_token, key_fingerprint, expires_at FROM dashboard_sessions \
             WHERE id_hash = $1 AND expires_at >= $2",
        )
        .bind(id_hash)
        .bind(now_unix())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(SessionRecord {
                account_id: row.try_get("account_id")?,
                csrf_token: row.try_get("csrf_token")?,
                key_fingerprint: row.try_get("key_fingerprint")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Ends a session (sign-out).
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM dashboard_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// A network's failed sign-ins lately, as the limit on them reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInFailures {
    /// Failures for the account from the network since the pair's window began.
    pub pair: u32,
    /// When the first of those was (unix seconds).
    pub pair_first: Option<i64>,
    /// Failures from the network, for any account, since the backoff's horizon.
    pub network: u32,
    /// When the latest of those was.
    pub network_last: Option<i64>,
}

impl Store {
    /// Records a failed sign-in for `account` from `network` at `at` (unix seconds).
    pub async fn record_sign_in_failure(
        &self,
        network: &str,
        account: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sign_in_failures (network, account_id, at) VALUES ($1, $2, $3)")
            .bind(network)
            .bind(account)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The failures of `network` (and of it for `account`) since `pair_since` and
    /// `network_since`.
    pub async fn sign_in_failures(
        &self,
        network: &str,
        account: &str,
        pair_since: i64,
        network_since: i64,
    ) -> Result<SignInFailures, StoreError> {
        let row = sqlx::query(
            "SELECT \
             COUNT(CASE WHEN account_id = $2 AND at >= $3 THEN 1 END) AS pair, \
             MIN(CASE WHEN account_id = $2 AND at >= $3 THEN at END) AS pair_first, \
             COUNT(*) AS network, MAX(at) AS network_last \
             FROM sign_in_failures WHERE network = $1 AND at >= $4",
        )
        .bind(network)
        .bind(account)
        .bind(pair_since)
        .bind(network_since)
        .fetch_one(self.pool())
        .await?;
        Ok(SignInFailures {
            pair: row.try_get::<i64, _>("pair")? as u32,
            pair_first: row.try_get("pair_first")?,
            network: row.try_get::<i64, _>("network")? as u32,
            network_last: row.try_get("network_last")?,
        })
    }

    /// A correct key: the pair's failures are forgotten (the network's stay, for its backoff).
    pub async fn clear_sign_in_failures(
        &self,
        network: &str,
        account: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE network = $1 AND account_id = $2")
            .bind(network)
            .bind(account)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Forgets failures older than `before` (no rule reads them any more).
    pub async fn prune_sign_in_failures(&self, before: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_is_found_until_it_ends_or_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::tests::open_store(dir.path()).await;
        let live = SessionRecord {
            account_id: None,
            csrf_token: "csrf".into(),
            key_fingerprint: "fp".into(),
            expires_at: now_unix() + 60,
        };
        store.create_session("live", &live).await.unwrap();
        let expired = SessionRecord {
            expires_at: now_unix() - 1,
            ..live.clone()
        };
        store.create_session("old", &expired).await.unwrap();
        assert_eq!(store.session("live").await.unwrap(), Some(live));
        assert_eq!(store.session("old").await.unwrap(), None);
        store.delete_session("live").await.unwrap();
        assert_eq!(store.session("live").await.unwrap(), None);
    }
}
