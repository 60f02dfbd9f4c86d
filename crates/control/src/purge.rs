//! Purging by URL: what the management API's purge (ImageKit's `POST /v1/files/purge
//! {"url": …}`) does. The URL is routed exactly like a delivery request (path or query
//! transformation, public host or custom domain). Its file's cached originals are removed for
//! every origin of the endpoint's chain, and the purge is written in the [`Ledger`]: any cached
//! original or result of that account and path stored before the purge is a miss from then on —
//! so every result derived from the file goes too, whatever its transformation.
//!
//! A URL ending in `*` purges every path that begins with what precedes the `*`, under
//! ImageKit's rule: the path must have at least two levels, or be at least 15 characters, or
//! name a file with an extension. A URL that routes to another account than the caller's is
//! refused and nothing is purged.

use crate::{Control, ControlError};
use pixelway_route::RouteError;
use std::collections::HashMap;
use std::sync::RwLock;

/// What a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub account: String,
    pub endpoint: String,
    /// The file's library path, or the prefix of a wildcard purge.
    pub path: String,
    pub wildcard: bool,
    /// Cached originals removed at once (0 when nothing was cached); results and wildcard
    /// matches are left to the ledger.
    pub entries: usize,
    /// The account's ledger was collapsed into one purge of everything up to this time.
    pub collapsed: Option<u64>,
}

/// Why a URL could not be purged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeError {
    #[error("not an absolute http(s) URL: {0:?}")]
    BadUrl(String),
    #[error("{0}")]
    Route(#[from] RouteError),
    #[error("the URL belongs to another account")]
    OtherAccount,
    #[error(
        "a wildcard purge needs a path of two levels or more, or at least 15 characters, or a \
         file name with an extension before the '*'"
    )]
    WildcardTooBroad,
}

/// The purges of every account: when each path (or prefix) was last purged. Kept compact: a
/// purge that a later, wider one covers is dropped, and an account with more than
/// [`MAX_PURGES_PER_ACCOUNT`] entries has them collapsed into one purge of everything up to the
/// newest (conservative: a few cached entries more count as purged, none fewer).
#[derive(Debug, Default)]
pub struct Ledger {
    accounts: RwLock<HashMap<String, AccountPurges>>,
}

/// Entries one account's ledger holds before they are collapsed.
pub const MAX_PURGES_PER_ACCOUNT: usize = 10_000;

#[derive(Debug, Default)]
struct AccountPurges {
    exact: HashMap<String, u64>,
    prefixes: Vec<(String, u64)>,
}

impl AccountPurges {
    fn len(&self) -> usize {
        self.exact.len() + self.prefixes.len()
    }

    /// Whether a recorded prefix purge at or after `at` already covers `path`.
    fn covered(&self, path: &str, at: u64) -> bool {
        self.prefixes
            .iter()
            .any(|(prefix, when)| *when >= at && path.starts_with(prefix.as_str()))
    }

    fn newest(&self) -> u64 {
        let exact = self.exact.values().copied();
        let prefixes = self.prefixes.iter().map(|(_, at)| *at);
        exact.chain(prefixes).max().unwrap_or(0)
    }
}

impl Ledger {
    /// Writes a purge of `path` (a prefix when `wildcard`) at unix time `at`. `Some(time)`
    /// when the account's entries were collapsed into one purge of everything up to `time`
    /// (the store should forget its older records the same way).
    pub fn record(&self, account: &str, path: &str, wildcard: bool, at: u64) -> Option<u64> {
        let mut accounts = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        let purges = accounts.entry(account.to_string()).or_default();
        if purges.covered(path, at) {
            return None;
        }
        if wildcard {
            purges
                .prefixes
                .retain(|(prefix, when)| !(prefix.starts_with(path) && *when <= at));
            purges
                .exact
                .retain(|file, when| !(file.starts_with(path) && *when <= at));
            purges.prefixes.push((path.to_string(), at));
        } else {
            let when = purges.exact.entry(path.to_string()).or_insert(at);
            *when = (*when).max(at);
        }
        if purges.len() <= MAX_PURGES_PER_ACCOUNT {
            return None;
        }
        let newest = purges.newest();
        *purges = AccountPurges {
            exact: HashMap::new(),
            prefixes: vec![(String::new(), newest)],
        };
        Some(newest)
    }

    /// Entries held for `account` (for tests and metrics).
    pub fn len(&self, account: &str) -> usize {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        accounts.get(account).map_or(0, AccountPurges::len)
    }

    /// Whether a cache entry of `account`'s `path` stored at `stored_at` (unix seconds) was
    /// purged since. An entry stored in the second of the purge counts as purged.
    pub fn is_purged(&self, account: &str, path: &str, stored_at: u64) -> bool {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        let Some(purges) = accounts.get(account) else {
            return false;
        };
        purges.exact.get(path).is_some_and(|at| stored_at <= *at)
            || purges
                .prefixes
                .iter()
                .any(|(prefix, at)| stored_at <= *at && path.starts_with(prefix.as_str()))
    }
}

/// ImageKit's rule for a wildcard's prefix (the path after the account and endpoint).
fn wildcard_allowed(prefix: &str) -> bool {
    let levels = prefix.split('/').filter(|s| !s.is_empty()).count();
    let names_a_file = prefix.rsplit('/').next().is_some_and(|name| {
        name.rsplit_once('.')
            .is_some_and(|(s, e)| !s.is_empty() && !e.is_empty())
    });
    levels >= 2 || prefix.len() >= 15 || names_a_file
}

/// The file name a folder prefix is routed with.
const FOLDER_STAND_IN: &str = "_";

/// An absolute `http(s)` URL split into its authority, path and query, as they were written
/// (no dot segment resolved: the router refuses them).
fn split_url(url: &str) -> Option<(&str, &str, Option<&str>)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(path_start);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    Some((authority, if path.is_empty() { "/" } else { path }, query))
}

/// A purge made: what it removed and the id its status is asked by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRequest {
    pub purged: Purged,
    pub request_id: String,
}

impl From<PurgeError> for ControlError {
    fn from(error: PurgeError) -> Self {
        match error {
            PurgeError::OtherAccount => ControlError::Forbidden(format!("url: {error}")),
            PurgeError::Route(RouteError::UnknownHost(_) | RouteError::UnknownAccount(_)) => {
                ControlError::NotFound(format!("url: {error}"))
            }
            other => ControlError::Invalid(format!("url: {other}")),
        }
    }
}

impl Control {
    /// Purges the cached originals and results behind `url`, on behalf of `account`, and
    /// records the purge (in the ledger and the store).
    pub async fn purge(&self, account: &str, url: &str) -> Result<PurgeRequest, ControlError> {
        let at = crate::now_unix();
        let purged = self.purge_url(account, url.trim()).await?;
        if let Some(until) = purged.collapsed {
            self.store.collapse_purges(account, until as i64).await?;
        }
        let request_id = self
            .store
            .record_purge(account, url, &purged.path, purged.wildcard, at)
            .await?;
        self.publish(crate::changes::Change::Purge {
            account: account.to_string(),
            path: purged.path.clone(),
            wildcard: purged.wildcard,
        })
        .await;
        Ok(PurgeRequest { purged, request_id })
    }

    /// Purges the node's cached copies behind `url` and writes the purge in the ledger.
    pub async fn purge_url(&self, account: &str, url: &str) -> Result<Purged, PurgeError> {
        let bad = || PurgeError::BadUrl(url.to_string());
        let (target, wildcard) = match url.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (url, false),
        };
        // A prefix that ends at a folder (`…/shoes/*`) is routed with a stand-in file name,
        // which is taken off the routed path again.
        let stand_in = wildcard && target.ends_with('/');
        let target = if stand_in {
            format!("{target}{FOLDER_STAND_IN}")
        } else {
            target.to_string()
        };
        let (host, path, query) = split_url(&target).ok_or_else(bad)?;
        let catalog = self.catalog_full();
        let route = match pixelway_route::route(catalog.as_ref(), host, path, query) {
            Err(pixelway_route::RouteError::UnknownHost(_))
                if self.as_public_host(host).is_some() =>
            {
                let public = self.as_public_host(host).unwrap_or(host);
                pixelway_route::route(catalog.as_ref(), public, path, query)?
            }
            routed => routed?,
        };
        if route.account != account {
            return Err(PurgeError::OtherAccount);
        }
        let (_, endpoint) = catalog
            .endpoint(&route.account, &route.identifier)
            .ok_or(PurgeError::OtherAccount)?;
        let path = match stand_in {
            true => route
                .file
                .as_str()
                .strip_suffix(FOLDER_STAND_IN)
                .ok_or_else(bad)?,
            false => route.file.as_str(),
        };
        if wildcard && !wildcard_allowed(path) {
            return Err(PurgeError::WildcardTooBroad);
        }
        let collapsed =
            self.purges
                .record(&route.account, path, wildcard, crate::now_unix() as u64);
        let entries = if wildcard {
            // This account's answers in that folder (and below) only; other tenants keep
            // theirs.
            self.caches
                .forget_folder(&route.account, folder_of_prefix(path))
                .await;
            0
        } else {
            let origins: Vec<String> = endpoint
                .chain
                .iter()
                .filter(|o| !o.serves_local_files)
                .map(|o| o.id.clone())
                .collect();
            self.caches
                .forget_file(&route.account, path, &origins)
                .await
        };
        Ok(Purged {
            account: route.account,
            endpoint: route.identifier,
            path: path.to_string(),
            wildcard,
            entries,
            collapsed,
        })
    }
}

impl Control {
    /// A purge another node made, applied here: written in the ledger, and this node's cached
    /// copies forgotten (the file's cached originals from each origin of the account, or the
    /// folder's answers in memory).
    pub(crate) async fn purge_here(&self, account: &str, path: &str, wildcard: bool) {
        if let Some(until) = self
            .purges
            .record(account, path, wildcard, crate::now_unix() as u64)
        {
            tracing::debug!(%account, until, "purge ledger collapsed");
        }
        if wildcard {
            self.caches
                .forget_folder(account, folder_of_prefix(path))
                .await;
            return;
        }
        let origins: Vec<String> = {
            let catalog = self.catalog();
            let mut ids: Vec<String> = catalog
                .account(account)
                .map(|a| {
                    a.endpoints
                        .values()
                        .flat_map(|e| e.chain.iter())
                        .filter(|o| !o.serves_local_files)
                        .map(|o| o.id.clone())
                        .collect()
                })
                .unwrap_or_default();
            ids.sort();
            ids.dedup();
            ids
        };
        self.caches.forget_file(account, path, &origins).await;
    }
}

/// The folder a wildcard purge's prefix lies in: `shoes/red` → `shoes/`, `shoes/` → `shoes/`,
/// `red` → `""` (the root).
pub fn folder_of_prefix(prefix: &str) -> &str {
    match prefix.rfind('/') {
        Some(i) => &prefix[..=i],
        None => "",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::NodeCaches;
    use pixelway_store::EndpointFields;
    use std::sync::{Arc, Mutex};

    /// The node's caches as a list of what the control plane asked to forget.
    #[derive(Default)]
    pub struct Forgotten(pub Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl NodeCaches for Forgotten {
        async fn forget_file(&self, account: &str, path: &str, origins: &[String]) -> usize {
            let mut seen = self.0.lock().unwrap();
            seen.push(format!("file {account} {path} {}", origins.join(",")));
            origins.len()
        }

        async fn forget_folder(&self, account: &str, folder: &str) {
            self.0
                .lock()
                .unwrap()
                .push(format!("folder {account} {folder}"));
        }
    }

    impl Forgotten {
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    /// Accounts `acme` (default endpoint and `shop`) and `rival`, each with one web origin.
    async fn control(dir: &std::path::Path) -> (Control, Arc<Forgotten>, String) {
        let caches = Arc::new(Forgotten::default());
        let control = crate::test_support::control_with(dir, caches.clone()).await;
        let spec = serde_json::from_value(
            serde_json::json!({"type": "web_folder", "base_url": "http://127.0.0.1:9"}),
        )
        .unwrap();
        let mut acme_origin = String::new();
        for account in ["acme", "rival"] {
            control.create_account(account).await.unwrap();
            let origin = control.create_origin(account, "site", &spec).await.unwrap();
            if account == "acme" {
                acme_origin = origin.id.clone();
                let shop = EndpointFields {
                    identifier: "shop".into(),
                    origin_ids: vec![origin.id],
                    ..Default::default()
                };
                control.create_endpoint(account, &shop).await.unwrap();
            }
        }
        caches.take();
        (control, caches, acme_origin)
    }

    #[test]
    fn the_ledger_marks_older_entries_of_purged_paths() {
        let ledger = Ledger::default();
        ledger.record("acme", "a/b.jpg", false, 100);
        ledger.record("acme", "shoes/", true, 200);
        assert!(ledger.is_purged("acme", "a/b.jpg", 99));
        assert!(ledger.is_purged("acme", "a/b.jpg", 100));
        assert!(!ledger.is_purged("acme", "a/b.jpg", 101));
        assert!(!ledger.is_purged("rival", "a/b.jpg", 50));
        assert!(ledger.is_purged("acme", "shoes/red.jpg", 150));
        assert!(!ledger.is_purged("acme", "shoes/red.jpg", 250));
        assert!(!ledger.is_purged("acme", "shoe.jpg", 150));
    }

    #[test]
    fn the_ledger_stays_compact_and_never_forgets_a_purge() {
        let ledger = Ledger::default();
        for i in 0..100 {
            ledger.record("acme", &format!("shoes/{i}.jpg"), false, 100 + i);
        }
        assert_eq!(ledger.len("acme"), 100);
        // A wider, later purge covers them: one entry left, and they still count as purged.
        assert_eq!(ledger.record("acme", "shoes/", true, 300), None);
        assert_eq!(ledger.len("acme"), 1);
        assert!(ledger.is_purged("acme", "shoes/7.jpg", 150));
        // Purging again what is covered adds nothing.
        ledger.record("acme", "shoes/7.jpg", false, 250);
        assert_eq!(ledger.len("acme"), 1);
        // Past the cap: one purge of everything up to the newest, and nothing un-purged.
        let mut collapsed = None;
        for i in 0..(MAX_PURGES_PER_ACCOUNT as u64 + 10) {
            collapsed =
                collapsed.or(ledger.record("acme", &format!("bags/{i}.jpg"), false, 400 + i));
        }
        assert!(collapsed.is_some());
        assert!(ledger.len("acme") <= MAX_PURGES_PER_ACCOUNT);
        assert!(ledger.is_purged("acme", "bags/5.jpg", 405));
        assert!(ledger.is_purged("acme", "shoes/1.jpg", 200));
        assert!(
            !ledger.is_purged("rival", "bags/5.jpg", 405),
            "other accounts untouched"
        );
    }

    #[test]
    fn wildcards_follow_imagekits_rule() {
        for allowed in ["a/b/", "shoes/red", "a-long-prefix-15", "x.jpg"] {
            assert!(wildcard_allowed(allowed), "{allowed}");
        }
        for refused in ["", "a", "shoes/", "short"] {
            assert!(!wildcard_allowed(refused), "{refused}");
        }
    }

    #[tokio::test]
    async fn a_purge_forgets_the_url_s_file_on_this_node_and_nothing_of_other_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let (control, caches, acme_origin) = control(dir.path()).await;
        let url = "https://img.test/acme/shop/tr:w-300/shoes/red%20shoe.jpg?tr=h-10";
        let made = control.purge("acme", url).await.unwrap();
        assert_eq!(
            made.purged,
            Purged {
                account: "acme".into(),
                endpoint: "shop".into(),
                path: "shoes/red shoe.jpg".into(),
                wildcard: false,
                entries: 1,
                collapsed: None,
            }
        );
        assert_eq!(
            caches.take(),
            vec![format!("file acme shoes/red shoe.jpg {acme_origin}")],
            "the endpoint's own origin, not the (local) Media Library"
        );
        let status = control
            .store()
            .purge_request("acme", &made.request_id)
            .await
            .unwrap();
        assert_eq!(status.status, "Completed");

        let rival_url = "https://img.test/rival/shoes/red%20shoe.jpg";
        assert!(matches!(
            control.purge("acme", rival_url).await,
            Err(ControlError::Forbidden(_))
        ));
        assert!(caches.take().is_empty(), "nothing of rival's forgotten");
        assert!(!control.purges().is_purged("rival", "shoes/red shoe.jpg", 0));
        assert!(matches!(
            control
                .purge_url("acme", "https://img.test/acme/../x.jpg")
                .await,
            Err(PurgeError::Route(_))
        ));
        for bad in [
            "/acme/x.jpg",
            "ftp://img.test/acme/x.jpg",
            "https://u@img.test/acme/x.jpg",
        ] {
            assert!(
                matches!(
                    control.purge_url("acme", bad).await,
                    Err(PurgeError::BadUrl(_))
                ),
                "{bad}"
            );
        }
        // Results and other origins' copies are marked through the ledger.
        assert!(control.purges().is_purged("acme", "shoes/red shoe.jpg", 0));
        assert_eq!(
            control
                .purge_url("acme", "https://img.test/acme/shop/a*")
                .await,
            Err(PurgeError::WildcardTooBroad)
        );
        let wide = control
            .purge_url("acme", "https://img.test/acme/shop/shoes/red*")
            .await
            .unwrap();
        assert!(wide.wildcard);
        assert_eq!(wide.path, "shoes/red");
        assert!(control.purges().is_purged("acme", "shoes/red-2.jpg", 0));
        assert_eq!(caches.take(), vec!["folder acme shoes/".to_string()]);
        // A whole folder (two levels).
        let folder = control
            .purge_url("acme", "https://img.test/acme/shop/shoes/summer/*")
            .await
            .unwrap();
        assert_eq!(folder.path, "shoes/summer/");
        assert!(
            control
                .purges()
                .is_purged("acme", "shoes/summer/blue.jpg", 0)
        );
        assert!(!control.purges().is_purged("acme", "shoes/summerset.jpg", 0));
    }

    #[test]
    fn a_wildcard_prefix_lies_in_its_own_folder() {
        assert_eq!(folder_of_prefix("a/b/re"), "a/b/");
        assert_eq!(folder_of_prefix("a/b/"), "a/b/");
        assert_eq!(folder_of_prefix("product-images-2026"), "");
    }

    #[test]
    fn urls_are_split_as_written() {
        assert_eq!(
            split_url("https://img.test:8080/a/../b.jpg?tr=w-1#frag"),
            Some(("img.test:8080", "/a/../b.jpg", Some("tr=w-1")))
        );
        assert_eq!(split_url("http://img.test"), Some(("img.test", "/", None)));
        assert_eq!(
            split_url("http://img.test?x"),
            Some(("img.test", "/", Some("x")))
        );
        for bad in [
            "img.test/a.jpg",
            "https:///a.jpg",
            "https://a b/c",
            "https://x/a\n",
        ] {
            assert_eq!(split_url(bad), None, "{bad}");
        }
    }
}
