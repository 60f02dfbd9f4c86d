//! Origins checked at start-up: each origin an endpoint uses is probed once in the background
//! ([`pixelway_origins::Origin::probe`]) — reached, bucket or container there, credentials
//! accepted. A problem is logged as a warning and listed by `/readyz`, so a missing bucket does
//! not look like a missing file forever.

use crate::Control;
use futures::StreamExt;
use pixelway_origins::Reach;
use std::collections::HashSet;
use std::sync::Mutex;

/// Origins probed at start (the first ones, so a start with many tenants stays light).
const PROBED: usize = 1000;
/// Probes at once.
const AT_ONCE: usize = 8;

/// What the start-up probes found.
#[derive(Debug, Default)]
pub struct Readiness {
    checked: Mutex<Option<usize>>,
    problems: Mutex<Vec<String>>,
    /// Why the shared database cannot be reached, while it cannot.
    database: Mutex<Option<String>>,
}

impl Readiness {
    /// Whether the node is ready (`false` while its database cannot be reached: it serves
    /// what it has, and refuses changes), and `/readyz`'s body: `ready` or `not ready`, the
    /// database's state, then the origin problems found, one a line.
    pub fn report(&self) -> (bool, String) {
        let problems = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        let checked = *self.checked.lock().unwrap_or_else(|e| e.into_inner());
        let database = self.database.lock().unwrap_or_else(|e| e.into_inner());
        let ready = database.is_none();
        let mut text = match &*database {
            None => String::from("ready\n"),
            Some(error) => format!(
                "not ready\ndatabase: unreachable ({error}); serving from the catalog and \
                 caches, changes refused until it is back\n"
            ),
        };
        match checked {
            None => text.push_str("origins: being checked\n"),
            Some(n) if problems.is_empty() => {
                text.push_str(&format!("origins: {n} checked, all reachable\n"));
            }
            Some(n) => {
                text.push_str(&format!(
                    "origins: {n} checked, {} with problems:\n",
                    problems.len()
                ));
                for problem in problems.iter() {
                    text.push_str(&format!("  {problem}\n"));
                }
            }
        }
        (ready, text)
    }

    /// Records the database's state (`None`: reachable); says whether it changed.
    pub fn set_database_problem(&self, problem: Option<String>) -> bool {
        let mut database = self.database.lock().unwrap_or_else(|e| e.into_inner());
        let changed = database.is_some() != problem.is_some();
        *database = problem;
        changed
    }
}

/// Probes the origins the endpoints use; run once at start, in the background.
pub async fn check_origins(control: &Control) {
    let catalog = control.catalog_full();
    let mut seen = HashSet::new();
    let origins: Vec<_> = catalog
        .accounts()
        .flat_map(|account| {
            account.endpoints.values().flat_map(move |endpoint| {
                endpoint
                    .chain
                    .iter()
                    .filter(|o| !o.serves_local_files)
                    .map(move |o| (account.record.id.clone(), o.clone()))
            })
        })
        .filter(|(_, origin)| seen.insert(origin.id.clone()))
        .take(PROBED)
        .collect();
    let count = origins.len();
    let results: Vec<_> = futures::stream::iter(origins)
        .map(|(account, origin)| async move {
            let reach = origin.origin.probe().await;
            (account, origin.name.clone(), reach)
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut problems = Vec::new();
    for (account, origin, reach) in results {
        if reach != Reach::Reachable {
            tracing::warn!(%account, %origin, problem = %reach, "origin check failed at start-up");
            problems.push(format!("account {account:?}, origin {origin:?}: {reach}"));
        }
    }
    problems.sort();
    *control.readiness().problems.lock().expect("readiness lock") = problems;
    *control.readiness().checked.lock().expect("readiness lock") = Some(count);
}
