//! Changes reach every node. On a shared store (PostgreSQL), every change a node commits is
//! recorded in the store's changes table and announced (`NOTIFY`); every node follows the
//! announcements and applies each change it did not make itself exactly as the node that made
//! it did: the account rebuilt in its catalog, a file's or folder's cached copies forgotten, a
//! purge written in its ledger.
//!
//! No announcement is relied on alone: after a start, a lost connection, a missed number or
//! [`HEARTBEAT`] without a notice, a node reads the table from the last change it applied, and
//! every [`RECONCILE_EVERY`] it rebuilds its whole catalog from the store as a safety net. A node that cannot reach the
//! database keeps serving from its catalog and caches, reports it in `/readyz`, answers changes
//! with "unavailable", and catches up by itself when the database is back.
//!
//! On SQLite (one node) nothing is recorded or followed.

use crate::{Control, ControlError};
use pixelway_store::{ChangeRecord, Heard};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a following node rebuilds its whole catalog from the store, whatever it heard.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(300);
/// How often a following node that heard nothing reads the changes table anyway: a notice
/// lost on the way, or a database gone without the listener noticing, is found this soon.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// Changes older than this are pruned from the table (a node away longer rebuilds all).
const KEEP_CHANGES: Duration = Duration::from_secs(24 * 3600);
/// Changes read back per query while catching up.
const REPLAY_BATCH: i64 = 1000;
/// Wait between attempts to reach a database that is down.
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// How long a missing change number is waited for before it is given up.
const GAP_GRACE: Duration = Duration::from_secs(10);

/// The numbers of the recorded changes a node has applied: every one up to `through`, and some
/// above it, seen after a gap. Numbers are taken when a change is recorded, but writers commit
/// in their own order, so a number can show up after a higher one: a gap is waited for
/// ([`GAP_GRACE`]) while what follows it is applied at once. A gap that outlasts the wait (its
/// transaction rolled back, or it was pruned while the node was away) is given up, and the
/// node rebuilds its whole catalog to be sure.
#[derive(Debug, Default)]
pub(crate) struct AppliedChanges {
    through: i64,
    above: BTreeSet<i64>,
    /// When the oldest gap still open was first seen.
    gap_since: Option<Instant>,
}

impl AppliedChanges {
    /// Every change up to `last` counts as applied.
    pub(crate) fn through(last: i64) -> Self {
        Self {
            through: last,
            ..Self::default()
        }
    }

    fn has(&self, id: i64) -> bool {
        id <= self.through || self.above.contains(&id)
    }

    fn add(&mut self, id: i64, now: Instant) {
        if id > self.through {
            self.above.insert(id);
        }
        while self.above.remove(&(self.through + 1)) {
            self.through += 1;
        }
        self.gap_since = match self.above.is_empty() {
            true => None,
            false => self.gap_since.or(Some(now)),
        };
    }

    /// Whether the oldest open gap has been waited for long enough.
    fn gap_expired(&self, now: Instant) -> bool {
        self.gap_since
            .is_some_and(|since| now.duration_since(since) >= GAP_GRACE)
    }

    /// Gives the open gaps up: every change up to the newest seen counts as applied.
    fn give_up_gaps(&mut self) {
        self.through = self.above.last().copied().unwrap_or(self.through);
        self.above.clear();
        self.gap_since = None;
    }
}

/// One change, as every node applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Anything of the account's entities (account, keys, origins, endpoints, named
    /// transformations, domains, its first private file): rebuild it.
    Account { account: String },
    /// A library file's bytes or record changed (written, moved, deleted, new coordinates).
    File { account: String, path: String },
    /// A purge of a path, or of every path under a prefix (`wildcard`).
    Purge {
        account: String,
        path: String,
        wildcard: bool,
    },
}

impl Change {
    fn account(&self) -> &str {
        match self {
            Self::Account { account }
            | Self::File { account, .. }
            | Self::Purge { account, .. } => account,
        }
    }

    /// Its kind and subject as recorded.
    fn recorded(&self) -> (&'static str, &str) {
        match self {
            Self::Account { .. } => ("account", ""),
            Self::File { path, .. } => ("file", path),
            Self::Purge {
                path,
                wildcard: true,
                ..
            } => ("purge-prefix", path),
            Self::Purge { path, .. } => ("purge", path),
        }
    }

    /// The change a record holds; `None` for a kind this node does not know (a newer node's).
    fn from_record(record: &ChangeRecord) -> Option<Self> {
        let account = record.account_id.clone();
        let path = record.subject.clone();
        Some(match record.kind.as_str() {
            "account" => Self::Account { account },
            "file" => Self::File { account, path },
            "purge" => Self::Purge {
                account,
                path,
                wildcard: false,
            },
            "purge-prefix" => Self::Purge {
                account,
                path,
                wildcard: true,
            },
            _ => return None,
        })
    }
}

impl Control {
    /// Tells the other nodes about a change this node committed and applied. The change is
    /// made already: a failure to record it is logged (the others catch up at their next
    /// reconcile), not returned.
    pub(crate) async fn publish(&self, change: Change) {
        if !self.store.is_shared() {
            return;
        }
        let (kind, subject) = change.recorded();
        if let Err(e) = self
            .store
            .record_change(&self.node_id, change.account(), kind, subject)
            .await
        {
            tracing::error!(error = %e, ?change, "a change could not be announced to the other nodes");
        }
    }

    /// Follows the changes other nodes make, for as long as the node runs (spawn it once, after
    /// [`Control::start`]). Returns at once on SQLite.
    pub async fn follow_changes(self: Arc<Self>) {
        if !self.store.is_shared() {
            return;
        }
        let mut last_reconcile = tokio::time::Instant::now();
        loop {
            let mut listener = match self.store.listen_for_changes().await {
                Ok(Some(listener)) => listener,
                Ok(None) => return,
                Err(e) => {
                    self.database_down(&e.to_string());
                    tokio::time::sleep(RETRY_EVERY).await;
                    continue;
                }
            };
            // Listening now: whatever was committed before is in the table.
            if let Err(e) = self.catch_up().await {
                self.database_down(&e.to_string());
                tokio::time::sleep(RETRY_EVERY).await;
                continue;
            }
            self.database_up();
            loop {
                let until_reconcile = RECONCILE_EVERY.saturating_sub(last_reconcile.elapsed());
                let wait = until_reconcile.min(HEARTBEAT);
                let heard = tokio::time::timeout(wait, listener.next()).await;
                let result = match heard {
                    Err(_) if last_reconcile.elapsed() >= RECONCILE_EVERY => {
                        last_reconcile = tokio::time::Instant::now();
                        self.reconcile().await
                    }
                    Err(_) => self.catch_up().await,
                    Ok(Ok(Heard::Change(id))) if self.applied_changes().has(id) => Ok(()),
                    Ok(Ok(_)) => self.catch_up().await,
                    Ok(Err(e)) => Err(e.into()),
                };
                if let Err(e) = result {
                    self.database_down(&e.to_string());
                    tokio::time::sleep(RETRY_EVERY).await;
                    break;
                }
            }
        }
    }

    /// Applies every change recorded after the ones applied, in order; gives up a missing
    /// number once it has been waited for long enough (see [`AppliedChanges`]).
    async fn catch_up(&self) -> Result<(), ControlError> {
        let mut after = self.applied_changes().through;
        loop {
            let changes = self.store.changes_since(after, REPLAY_BATCH).await?;
            for record in &changes {
                if self.applied_changes().has(record.id) {
                    continue;
                }
                if record.node != self.node_id {
                    self.apply(record).await?;
                }
                self.applied_changes().add(record.id, Instant::now());
            }
            match changes.last() {
                Some(last) if changes.len() as i64 == REPLAY_BATCH => after = last.id,
                _ => break,
            }
        }
        if self.applied_changes().gap_expired(Instant::now()) {
            tracing::warn!(
                "a change number never came (rolled back, or pruned while this node was away): rebuilding the whole catalog"
            );
            self.rebuild_all().await?;
            self.applied_changes().give_up_gaps();
        }
        Ok(())
    }

    /// Applies one change another node made, as that node did.
    async fn apply(&self, record: &ChangeRecord) -> Result<(), ControlError> {
        let Some(change) = Change::from_record(record) else {
            tracing::warn!(kind = %record.kind, "a change of an unknown kind was skipped");
            return Ok(());
        };
        match change {
            Change::Account { account } => self.rebuild_account(&account).await?,
            Change::File { account, path } => self.forget_file_here(&account, &path).await,
            Change::Purge {
                account,
                path,
                wildcard,
            } => self.purge_here(&account, &path, wildcard).await,
        }
        Ok(())
    }

    /// The safety net: the whole catalog rebuilt from the store, old changes pruned.
    async fn reconcile(&self) -> Result<(), ControlError> {
        self.rebuild_all().await?;
        let horizon = crate::now_unix() - KEEP_CHANGES.as_secs() as i64;
        self.store.prune_changes(horizon).await?;
        // No rule of the sign-in limit reads failures older than a quarter of an hour.
        self.store
            .prune_sign_in_failures(crate::now_unix() - 3600)
            .await?;
        self.catch_up().await
    }

    pub(crate) fn applied_changes(&self) -> std::sync::MutexGuard<'_, AppliedChanges> {
        self.applied.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn database_down(&self, error: &str) {
        if self.readiness.set_database_problem(Some(error.to_string())) {
            tracing::error!(%error, "the database cannot be reached: serving from the catalog and caches, changes refused");
        }
    }

    fn database_up(&self) {
        if self.readiness.set_database_problem(None) {
            tracing::info!("the database is reachable again; changes made meanwhile applied");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writers commit in their own order: 12 shows up before 11. Both are applied, and the
    /// gap closes when 11 comes, without giving anything up.
    #[test]
    fn numbers_that_commit_out_of_order_are_all_applied() {
        let now = Instant::now();
        let mut applied = AppliedChanges::through(10);
        applied.add(12, now);
        assert!(applied.has(12) && !applied.has(11));
        assert_eq!(applied.through, 10, "11 is waited for");
        assert!(!applied.gap_expired(now + GAP_GRACE / 2));
        applied.add(11, now + GAP_GRACE / 2);
        assert_eq!(applied.through, 12);
        assert!(applied.above.is_empty());
        assert!(!applied.gap_expired(now + GAP_GRACE * 2), "no gap left");
    }

    /// A number that never comes is given up after the wait: everything seen counts as applied.
    #[test]
    fn a_number_that_never_comes_is_given_up_after_the_wait() {
        let now = Instant::now();
        let mut applied = AppliedChanges::through(3);
        applied.add(5, now);
        applied.add(7, now + Duration::from_secs(1));
        assert!(!applied.gap_expired(now + GAP_GRACE - Duration::from_millis(1)));
        assert!(
            applied.gap_expired(now + GAP_GRACE),
            "timed from the oldest gap"
        );
        applied.give_up_gaps();
        assert_eq!(applied.through, 7);
        assert!(applied.has(4) && applied.has(6) && !applied.has(8));
        assert!(!applied.gap_expired(now + GAP_GRACE * 3));
    }

    #[test]
    fn every_change_survives_its_record() {
        for change in [
            Change::Account {
                account: "a".into(),
            },
            Change::File {
                account: "a".into(),
                path: "x/y.jpg".into(),
            },
            Change::Purge {
                account: "a".into(),
                path: "x/".into(),
                wildcard: true,
            },
            Change::Purge {
                account: "a".into(),
                path: "x/y.jpg".into(),
                wildcard: false,
            },
        ] {
            let (kind, subject) = change.recorded();
            let record = ChangeRecord {
                id: 1,
                node: "n".into(),
                account_id: change.account().into(),
                kind: kind.into(),
                subject: subject.into(),
            };
            assert_eq!(Change::from_record(&record), Some(change));
        }
        let unknown = ChangeRecord {
            id: 1,
            node: "n".into(),
            account_id: "a".into(),
            kind: "from-the-future".into(),
            subject: String::new(),
        };
        assert_eq!(Change::from_record(&unknown), None);
    }
}
