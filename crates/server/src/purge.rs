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

use crate::app::App;
use axum::http::Uri;
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

/// Purges the cached originals and results behind `url`, on behalf of `account`.
pub async fn purge_url(app: &App, account: &str, url: &str) -> Result<Purged, PurgeError> {
    let bad = || PurgeError::BadUrl(url.to_string());
    let (target, wildcard) = match url.strip_suffix('*') {
        Some(prefix) => (prefix, true),
        None => (url, false),
    };
    // A prefix that ends at a folder (`…/shoes/*`) is routed with a stand-in file name, which
    // is taken off the routed path again.
    let stand_in = wildcard && target.ends_with('/');
    let target = if stand_in {
        format!("{target}{FOLDER_STAND_IN}")
    } else {
        target.to_string()
    };
    let uri: Uri = target.parse().map_err(|_| bad())?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad());
    }
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(bad)?;
    let catalog = app.catalog.load();
    let route = pixelway_route::route(catalog.as_ref(), &host, uri.path(), uri.query())?;
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
    let mut entries = 0;
    if !wildcard {
        for origin in endpoint.chain.iter().filter(|o| !o.serves_local_files) {
            let key = crate::cache_keys::original(&origin.id, path);
            if app.originals.remove(&key).await {
                entries += 1;
            }
        }
    }
    let collapsed = app
        .purges
        .record(&route.account, path, wildcard, crate::now_unix() as u64);
    if wildcard {
        // This account's answers in that folder (and below) only; other tenants keep theirs.
        let folder = crate::cache_keys::folder_of_prefix(path);
        app.memory
            .invalidate(crate::cache_keys::folder_scope(&route.account, folder));
    } else {
        app.memory
            .invalidate(crate::cache_keys::file_scope(&route.account, path));
    }
    Ok(Purged {
        account: route.account,
        endpoint: route.identifier,
        path: path.to_string(),
        wildcard,
        entries,
        collapsed,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::delivery::Workers;
    use pixelway_cache::{DiskCache, EntryMeta};
    use pixelway_origins::BuildContext;
    use pixelway_origins::guard::AddressPolicy;
    use pixelway_store::{AccountRecord, EndpointRecord, OriginRecord, Snapshot};
    use std::time::Duration;

    fn context() -> BuildContext {
        BuildContext {
            default_timeout: Duration::from_secs(1),
            address_policy: AddressPolicy::default(),
        }
    }

    fn snapshot() -> Snapshot {
        let account = |id: &str| AccountRecord {
            id: id.into(),
            private_key: "k".into(),
            public_key: "p".into(),
            settings: Default::default(),
        };
        let origin = |id: &str, account: &str| OriginRecord {
            id: id.into(),
            account_id: account.into(),
            name: "site".into(),
            spec: serde_json::from_value(
                serde_json::json!({"type": "web_folder", "base_url": "http://example.com"}),
            )
            .unwrap(),
            managed_by: None,
        };
        let endpoint = |id: &str, account: &str, identifier: &str, origin: &str| EndpointRecord {
            id: id.into(),
            account_id: account.into(),
            identifier: identifier.into(),
            description: String::new(),
            default_image: None,
            signed_urls_only: false,
            named_transformations_only: false,
            origin_ids: vec![origin.into()],
            managed_by: None,
        };
        Snapshot {
            accounts: vec![account("acme"), account("rival")],
            origins: vec![origin("o-acme", "acme"), origin("o-rival", "rival")],
            endpoints: vec![
                endpoint("e-acme", "acme", "", "o-acme"),
                endpoint("e-acme-shop", "acme", "shop", "o-acme"),
                endpoint("e-rival", "rival", "", "o-rival"),
            ],
            ..Snapshot::default()
        }
    }

    async fn app(dir: &std::path::Path) -> App {
        let control = crate::control::tests::control(dir).await;
        let catalog = Catalog::build(
            &snapshot(),
            &context(),
            control.media(),
            &["img.test".to_string()],
        )
        .unwrap();
        App::new(
            control,
            catalog,
            DiskCache::open(dir.join("originals"), 1 << 20)
                .await
                .unwrap(),
            DiskCache::open(dir.join("results"), 1 << 20).await.unwrap(),
            Workers::new(1, 1, std::time::Duration::from_secs(1), Default::default()),
            settings(),
        )
    }

    /// Settings for unit tests of the server.
    pub fn settings() -> crate::Settings {
        crate::Settings {
            memory_cache_bytes: 1 << 20,
            memory_cache_max_object: 64 << 10,
            max_origin_bytes: 1 << 20,
            original_ttl: Duration::from_secs(60),
            admin_token: String::new(),
            cache_max_age: Duration::from_secs(60),
            default_image_max_age: Duration::from_secs(60),
            not_found_max_age: Duration::from_secs(60),
            best_format: true,
            auto_avif: false,
            max_header_bytes: 16 << 10,
            max_request_body: 1 << 20,
            max_upload_bytes: 1 << 20,
            upload_read_timeout: Duration::from_secs(5),
            min_body_rate: 1024,
            max_unauthenticated_uploads: 4,
            public_url: None,
            trusted_proxies: Vec::new(),
        }
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

    async fn cache(app: &App, key: &str) {
        let body =
            futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"bytes"))]);
        app.originals
            .put(key, EntryMeta::new("site", None), body, 1 << 20, |_| {
                "image/jpeg".into()
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn purges_the_cached_original_of_a_url_and_nothing_of_other_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let acme_key = crate::cache_keys::original("o-acme", "shoes/red shoe.jpg");
        let rival_key = crate::cache_keys::original("o-rival", "shoes/red shoe.jpg");
        cache(&app, &acme_key).await;
        cache(&app, &rival_key).await;

        let url = "https://img.test/acme/shop/tr:w-300/shoes/red%20shoe.jpg?tr=h-10";
        let purged = purge_url(&app, "acme", url).await.unwrap();
        assert_eq!(
            purged,
            Purged {
                account: "acme".into(),
                endpoint: "shop".into(),
                path: "shoes/red shoe.jpg".into(),
                wildcard: false,
                entries: 1,
                collapsed: None,
            }
        );
        assert!(app.originals.get(&acme_key, None).await.is_none());
        assert!(app.originals.get(&rival_key, None).await.is_some());
        // Twice: nothing left to remove.
        assert_eq!(purge_url(&app, "acme", url).await.unwrap().entries, 0);

        let rival_url = "https://img.test/rival/shoes/red%20shoe.jpg";
        assert_eq!(
            purge_url(&app, "acme", rival_url).await,
            Err(PurgeError::OtherAccount)
        );
        assert!(app.originals.get(&rival_key, None).await.is_some());
        assert!(matches!(
            purge_url(&app, "acme", "https://img.test/acme/../x.jpg").await,
            Err(PurgeError::Route(_))
        ));
        assert!(matches!(
            purge_url(&app, "acme", "/acme/x.jpg").await,
            Err(PurgeError::BadUrl(_))
        ));
        // Results and other origins' copies are marked through the ledger.
        assert!(app.purges.is_purged("acme", "shoes/red shoe.jpg", 0));
        assert_eq!(
            purge_url(&app, "acme", "https://img.test/acme/shop/a*").await,
            Err(PurgeError::WildcardTooBroad)
        );
        let wide = purge_url(&app, "acme", "https://img.test/acme/shop/shoes/red*")
            .await
            .unwrap();
        assert!(wide.wildcard);
        assert_eq!(wide.path, "shoes/red");
        assert!(app.purges.is_purged("acme", "shoes/red-2.jpg", 0));
        // A whole folder (two levels).
        let folder = purge_url(&app, "acme", "https://img.test/acme/shop/shoes/summer/*")
            .await
            .unwrap();
        assert_eq!(folder.path, "shoes/summer/");
        assert!(app.purges.is_purged("acme", "shoes/summer/blue.jpg", 0));
        assert!(!app.purges.is_purged("acme", "shoes/summerset.jpg", 0));
    }
}
