//! The catalog: an immutable, in-memory view of every account, endpoint, live origin and custom
//! domain, built from a store [`Snapshot`]. Delivery reads it without touching the database; a
//! change builds a new catalog and swaps it in.

use crate::shards::Shards;
use crate::sorted_map::SortedMap;
use pixelway_origins::OriginSpec;
use pixelway_origins::{BuildContext, Origin, OriginKind};
use pixelway_route::{Directory, DomainTarget};
use pixelway_store::{AccountRecord, EndpointRecord, OriginRecord, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;

/// An account's live origins by id, with the spec each was built from.
type LiveOrigins = SortedMap<(OriginSpec, Arc<ChainOrigin>)>;

/// An account's endpoints by identifier.
pub type Endpoints = SortedMap<Endpoint>;

/// Why a catalog could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// An account's Media Library origin cannot be built from its spec.
    #[error("media library of {account}: {source}")]
    MediaLibraryOrigin {
        account: String,
        source: pixelway_origins::SpecError,
    },
    /// A thread building accounts panicked (a bug).
    #[error("a catalog builder thread panicked")]
    BuilderPanicked,
}

/// Builds an account's Media Library origin (a folder or bucket scoped to the account).
pub trait MediaLibraryFactory: Send + Sync {
    fn media_library(&self, account: &str) -> Result<Arc<dyn Origin>, CatalogError>;
    /// Whether the library answers with local files (served in place, not cached).
    fn is_local(&self) -> bool;
}

/// One live origin of an endpoint's chain.
#[derive(Debug, Clone)]
pub struct ChainOrigin {
    /// Stable id (keys the cache of originals, so endpoints never share files by accident).
    pub id: String,
    pub name: String,
    pub kind: Option<OriginKind>,
    pub origin: Arc<dyn Origin>,
    /// Answers with local files, served in place rather than copied into the cache.
    pub serves_local_files: bool,
}

/// An endpoint ready for delivery.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub record: EndpointRoute,
    /// The Media Library first, then the configured origins in order (each shared with the
    /// account's other endpoints).
    pub chain: Vec<Arc<ChainOrigin>>,
}

/// What delivery reads of an endpoint's record (the management API and the dashboard read the
/// rest from the store): with a hundred thousand accounts, each byte per endpoint is half a
/// megabyte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRoute {
    pub id: String,
    /// Empty for the default endpoint.
    pub identifier: String,
    pub default_image: Option<String>,
    pub signed_urls_only: bool,
    pub named_transformations_only: bool,
}

impl From<&EndpointRecord> for EndpointRoute {
    fn from(record: &EndpointRecord) -> Self {
        Self {
            id: record.id.clone(),
            identifier: record.identifier.clone(),
            default_image: record.default_image.clone(),
            signed_urls_only: record.signed_urls_only,
            named_transformations_only: record.named_transformations_only,
        }
    }
}

/// An account ready for delivery.
#[derive(Debug)]
pub struct Account {
    pub record: AccountRecord,
    pub media_library: Arc<ChainOrigin>,
    /// By identifier; the default endpoint under "".
    pub endpoints: Endpoints,
    pub named_transformations: HashMap<String, String>,
    /// The account has private files: delivery asks [`crate::private_files`] about each path.
    pub has_private_files: bool,
    /// Changes whenever the account is built again (any change to it): an answer held in the
    /// memory tier is served only under the generation it was made under.
    pub generation: u64,
    /// The account's live origins by id, with the spec each was built from: a rebuild keeps
    /// the ones whose spec did not change (their clients and connections with them).
    origins: LiveOrigins,
    /// Custom domains mapped to the account (lower case), with their targets.
    domains: Vec<(String, DomainTarget)>,
}

/// Source of [`Account::generation`]s: unique for the life of the process.
static NEXT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Everything delivery needs to route and serve.
///
/// Its maps are [`Shards`]: the catalog after a change shares all but the touched shards with
/// the one before, so a change costs the same with ten accounts or a hundred thousand.
#[derive(Debug, Default)]
pub struct Catalog {
    accounts: Shards<String, Arc<Account>>,
    domains: Shards<String, DomainTarget>,
    public_hosts: Vec<String>,
    /// Account id by the SHA-256 of its private key (management API sign-in: a map lookup,
    /// then a constant-time comparison of the key itself).
    by_private_key: Shards<[u8; 32], String>,
    /// Account id by public key (client-side uploads name the account by it).
    by_public_key: Shards<String, String>,
}

fn key_digest(key: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(key.as_bytes()).into()
}

/// The origin id of an account's Media Library (keys its cached originals).
pub fn media_library_id(account: &str) -> String {
    format!("media:{account}")
}

/// The Media Library's name in headers and traces.
pub const MEDIA_LIBRARY: &str = "media-library";

impl Catalog {
    /// Builds live origins for every account in `snapshot`. An origin that cannot be built is
    /// left out of its chains with an error in the log, so one bad origin does not stop the rest.
    pub fn build(
        snapshot: &Snapshot,
        ctx: &BuildContext,
        media: &dyn MediaLibraryFactory,
        public_hosts: &[String],
    ) -> Result<Self, CatalogError> {
        let accounts = build_accounts(snapshot, ctx, media)?;
        Ok(Self::from_accounts(vec![accounts], public_hosts))
    }

    /// A catalog of accounts already built ([`build_accounts`], in parts), its maps sized for
    /// them at once.
    pub fn from_accounts(parts: Vec<Vec<Account>>, public_hosts: &[String]) -> Self {
        let count = parts.iter().map(Vec::len).sum();
        let mut catalog = Self {
            accounts: Shards::with_capacity(count),
            by_private_key: Shards::with_capacity(count),
            by_public_key: Shards::with_capacity(count),
            public_hosts: public_hosts
                .iter()
                .map(|h| pixelway_route::normalise_host(h).into_owned())
                .collect(),
            ..Self::default()
        };
        for account in parts.into_iter().flatten() {
            catalog.insert(account);
        }
        catalog
    }

    /// A copy of this catalog with one account replaced by what `snapshot` (of that account
    /// alone, [`pixelway_store::Store::snapshot_of`]) holds — or removed, when it holds none.
    /// The other accounts are shared, not rebuilt, and so are the shards they lie in; the
    /// account's origins whose spec did not change keep their live clients.
    pub fn with_account(
        &self,
        account: &str,
        snapshot: &Snapshot,
        ctx: &BuildContext,
        media: &dyn MediaLibraryFactory,
    ) -> Result<Self, CatalogError> {
        let mut catalog = Self {
            accounts: self.accounts.clone(),
            domains: self.domains.clone(),
            public_hosts: self.public_hosts.clone(),
            by_private_key: self.by_private_key.clone(),
            by_public_key: self.by_public_key.clone(),
        };
        let previous = catalog.remove(account);
        for (record, parts) in group_by_account(snapshot) {
            catalog.insert(build_account(
                record,
                &parts,
                ctx,
                media,
                previous.as_deref(),
            )?);
        }
        Ok(catalog)
    }

    fn insert(&mut self, account: Account) {
        let record = &account.record;
        self.by_private_key
            .insert(key_digest(&record.private_key), record.id.clone());
        self.by_public_key
            .insert(record.public_key.clone(), record.id.clone());
        for (host, target) in &account.domains {
            self.domains.insert(host.clone(), target.clone());
        }
        self.accounts.insert(record.id.clone(), Arc::new(account));
    }

    /// Takes an account out (its keys and domains too) and returns it.
    fn remove(&mut self, id: &str) -> Option<Arc<Account>> {
        let old = self.accounts.remove(id)?;
        self.by_private_key
            .remove(&key_digest(&old.record.private_key));
        self.by_public_key.remove(&old.record.public_key);
        for (host, _) in &old.domains {
            // Only while it is still this account's (a domain that moved stays with its new
            // account, whichever of the two is rebuilt first).
            let ours =
                self.domains
                    .get(host.as_str())
                    .is_some_and(|target| match target {
                        DomainTarget::Alias { account }
                        | DomainTarget::Endpoint { account, .. } => account == id,
                    });
            if ours {
                self.domains.remove(host.as_str());
            }
        }
        Some(old)
    }

    /// The account `id`.
    pub fn account(&self, id: &str) -> Option<&Arc<Account>> {
        self.accounts.get(id)
    }

    /// Every account, in no particular order.
    pub fn accounts(&self) -> impl Iterator<Item = &Arc<Account>> {
        self.accounts.values()
    }

    /// How many accounts there are.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// The account whose private key is `key`, compared in constant time.
    pub fn account_by_private_key(&self, key: &str) -> Option<&Account> {
        use subtle::ConstantTimeEq;
        let account = self.account(self.by_private_key.get(&key_digest(key))?)?;
        bool::from(account.record.private_key.as_bytes().ct_eq(key.as_bytes())).then_some(account)
    }

    /// The account whose public key is `key`.
    pub fn account_by_public_key(&self, key: &str) -> Option<&Account> {
        self.account(self.by_public_key.get(key)?).map(|a| &**a)
    }

    /// Whether `host` (lower case, no port) is a custom domain: every path there is delivery.
    pub fn is_custom_domain(&self, host: &str) -> bool {
        self.domains.contains_key(host)
    }

    /// The endpoint `identifier` of `account`.
    pub fn endpoint(&self, account: &str, identifier: &str) -> Option<(&Account, &Endpoint)> {
        let account = self.account(account)?;
        Some((account, account.endpoints.get(identifier)?))
    }
}

/// One account's records from a snapshot.
#[derive(Default)]
struct AccountParts<'a> {
    origins: Vec<&'a OriginRecord>,
    endpoints: Vec<&'a EndpointRecord>,
    named: Vec<&'a pixelway_store::NamedTransformation>,
    domains: Vec<&'a pixelway_store::DomainRecord>,
    has_private_files: bool,
}

/// The snapshot's records grouped per account in one pass (a scan per account would grow with
/// the square of the number of accounts).
fn group_by_account(snapshot: &Snapshot) -> Vec<(&AccountRecord, AccountParts<'_>)> {
    let mut parts: HashMap<&str, AccountParts<'_>> = HashMap::new();
    for origin in &snapshot.origins {
        parts
            .entry(&origin.account_id)
            .or_default()
            .origins
            .push(origin);
    }
    for endpoint in &snapshot.endpoints {
        parts
            .entry(&endpoint.account_id)
            .or_default()
            .endpoints
            .push(endpoint);
    }
    for named in snapshot.named_transformations.iter().filter(|n| n.enabled) {
        parts
            .entry(&named.account_id)
            .or_default()
            .named
            .push(named);
    }
    for domain in &snapshot.domains {
        parts
            .entry(&domain.account_id)
            .or_default()
            .domains
            .push(domain);
    }
    for account in &snapshot.accounts_with_private_files {
        parts.entry(account).or_default().has_private_files = true;
    }
    snapshot
        .accounts
        .iter()
        .map(|record| (record, parts.remove(record.id.as_str()).unwrap_or_default()))
        .collect()
}

/// Every account of `snapshot`, built on all cores (with a hundred thousand accounts, building
/// them is most of a start).
pub(crate) fn build_accounts(
    snapshot: &Snapshot,
    ctx: &BuildContext,
    media: &dyn MediaLibraryFactory,
) -> Result<Vec<Account>, CatalogError> {
    let grouped = group_by_account(snapshot);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = grouped.len().div_ceil(threads).max(512);
    std::thread::scope(|scope| {
        let workers: Vec<_> = grouped
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(record, parts)| build_account(record, parts, ctx, media, None))
                        .collect::<Result<Vec<Account>, CatalogError>>()
                })
            })
            .collect();
        let mut accounts = Vec::with_capacity(grouped.len());
        for worker in workers {
            accounts.extend(worker.join().map_err(|_| CatalogError::BuilderPanicked)??);
        }
        Ok(accounts)
    })
}

/// One account ready for delivery: its live origins built (or kept from `previous`, the
/// account as it was, when their spec is unchanged), its endpoints' chains put together.
fn build_account(
    record: &AccountRecord,
    parts: &AccountParts<'_>,
    ctx: &BuildContext,
    media: &dyn MediaLibraryFactory,
    previous: Option<&Account>,
) -> Result<Account, CatalogError> {
    let mut origins = LiveOrigins::default();
    for origin in &parts.origins {
        let unchanged = previous
            .and_then(|p| p.origins.get(&origin.id))
            .filter(|(spec, _)| *spec == origin.spec);
        if let Some((spec, live)) = unchanged {
            let kept = match live.name == origin.name {
                true => Arc::clone(live),
                false => Arc::new(ChainOrigin {
                    name: origin.name.clone(),
                    ..ChainOrigin::clone(live)
                }),
            };
            origins.insert(origin.id.clone(), (spec.clone(), kept));
            continue;
        }
        // Checked now, built on first use (`LazyOrigin`): a start with many tenants builds no
        // client for origins no request reaches. Local folders are cheap and built at once.
        let built = match origin.spec.kind() {
            OriginKind::LocalFolder => origin.spec.build(ctx),
            _ => origin
                .spec
                .check()
                .map(|()| -> Arc<dyn pixelway_origins::Origin> {
                    Arc::new(pixelway_origins::lazy::LazyOrigin::new(
                        origin.spec.clone(),
                        ctx.clone(),
                    ))
                }),
        };
        match built {
            Ok(live) => {
                let chain_origin = ChainOrigin {
                    id: origin.id.clone(),
                    name: origin.name.clone(),
                    kind: Some(origin.spec.kind()),
                    serves_local_files: origin.spec.kind() == OriginKind::LocalFolder,
                    origin: live,
                };
                origins.insert(
                    origin.id.clone(),
                    (origin.spec.clone(), Arc::new(chain_origin)),
                );
            }
            Err(e) => {
                tracing::error!(account = %record.id, origin = %origin.name, error = %e, "origin left out")
            }
        }
    }
    origins.shrink_to_fit();
    let media_library = match previous {
        Some(previous) => previous.media_library.clone(),
        None => Arc::new(ChainOrigin {
            id: media_library_id(&record.id),
            name: MEDIA_LIBRARY.to_string(),
            kind: None,
            origin: media.media_library(&record.id)?,
            serves_local_files: media.is_local(),
        }),
    };
    let endpoints = parts
        .endpoints
        .iter()
        .map(|e| {
            let mut chain = Vec::with_capacity(1 + e.origin_ids.len());
            chain.push(Arc::clone(&media_library));
            chain.extend(
                e.origin_ids
                    .iter()
                    .filter_map(|id| origins.get(id.as_str()).map(|(_, live)| Arc::clone(live))),
            );
            (
                e.identifier.clone(),
                Endpoint {
                    record: EndpointRoute::from(*e),
                    chain,
                },
            )
        })
        .collect();
    Ok(Account {
        record: record.clone(),
        media_library,
        endpoints,
        named_transformations: parts
            .named
            .iter()
            .map(|n| (n.name.clone(), n.transformation.clone()))
            .collect(),
        has_private_files: parts.has_private_files,
        generation: NEXT_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        origins,
        domains: parts.domains.iter().map(|d| domain_target(d)).collect(),
    })
}

/// A custom domain's host (lower case) and where it points.
fn domain_target(domain: &pixelway_store::DomainRecord) -> (String, DomainTarget) {
    let target = match &domain.endpoint_identifier {
        Some(identifier) => DomainTarget::Endpoint {
            account: domain.account_id.clone(),
            identifier: identifier.clone(),
        },
        None => DomainTarget::Alias {
            account: domain.account_id.clone(),
        },
    };
    (domain.host.to_ascii_lowercase(), target)
}

impl Directory for Catalog {
    fn custom_domain(&self, host: &str) -> Option<DomainTarget> {
        self.domains.get(host).cloned()
    }

    fn is_public_host(&self, host: &str) -> bool {
        self.public_hosts.is_empty() || self.public_hosts.iter().any(|h| h == host)
    }

    fn has_account(&self, account: &str) -> bool {
        self.accounts.contains_key(account)
    }

    fn has_endpoint(&self, account: &str, identifier: &str) -> bool {
        !identifier.is_empty()
            && self
                .account(account)
                .is_some_and(|a| a.endpoints.contains_key(identifier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixelway_store::DomainRecord;

    fn account(id: &str) -> AccountRecord {
        AccountRecord {
            id: id.into(),
            private_key: format!("private_{id}"),
            public_key: format!("public_{id}"),
            settings: Default::default(),
        }
    }

    fn endpoint(account: &str, identifier: &str) -> EndpointRecord {
        EndpointRecord {
            id: format!("{account}-{identifier}"),
            account_id: account.into(),
            identifier: identifier.into(),
            description: String::new(),
            default_image: None,
            signed_urls_only: false,
            named_transformations_only: false,
            origin_ids: Vec::new(),
            managed_by: None,
        }
    }

    #[test]
    fn endpoints_are_found_by_identifier_whatever_their_order() {
        let identifiers = ["shop", "", "zeta", "a-b", "alpha", "shop-2"];
        let endpoints: Endpoints = identifiers
            .iter()
            .map(|identifier| {
                let record = endpoint("acme", identifier);
                let route = Endpoint {
                    record: EndpointRoute::from(&record),
                    chain: Vec::new(),
                };
                (identifier.to_string(), route)
            })
            .collect();
        assert_eq!(endpoints.len(), identifiers.len());
        for identifier in identifiers {
            let found = endpoints.get(identifier).expect(identifier);
            assert_eq!(found.record.id, format!("acme-{identifier}"));
            assert!(endpoints.contains_key(identifier));
        }
        for missing in ["shop-", "b", "zz", " "] {
            assert!(endpoints.get(missing).is_none(), "{missing:?}");
        }
        let mut keys: Vec<&String> = endpoints.keys().collect();
        keys.sort();
        assert_eq!(keys.len(), identifiers.len());
    }

    fn domain(host: &str, account: &str) -> DomainRecord {
        DomainRecord {
            host: host.into(),
            account_id: account.into(),
            endpoint_identifier: None,
        }
    }

    /// One account's change rebuilds that account only: the others are the same objects, its
    /// keys and domains follow it, and an account gone from the store leaves no trace.
    #[tokio::test]
    async fn one_account_is_rebuilt_and_the_rest_shared() {
        let dir = tempfile::tempdir().unwrap();
        let control = crate::test_support::control(dir.path()).await;
        let ctx = BuildContext {
            default_timeout: std::time::Duration::from_secs(1),
            address_policy: Default::default(),
        };
        let all = Snapshot {
            accounts: vec![account("a"), account("b")],
            endpoints: vec![endpoint("a", ""), endpoint("b", "")],
            domains: vec![domain("a.test", "a"), domain("b.test", "b")],
            ..Snapshot::default()
        };
        let before = Catalog::build(&all, &ctx, control.media(), &[]).unwrap();
        let mut changed_a = account("a");
        changed_a.private_key = "private_a_rotated".into();
        let only_a = Snapshot {
            accounts: vec![changed_a],
            endpoints: vec![endpoint("a", ""), endpoint("a", "shop")],
            domains: vec![domain("shop.a.test", "a")],
            ..Snapshot::default()
        };
        let after = before
            .with_account("a", &only_a, &ctx, control.media())
            .unwrap();
        assert!(
            Arc::ptr_eq(before.account("b").unwrap(), after.account("b").unwrap()),
            "b was rebuilt"
        );
        assert!(after.has_endpoint("a", "shop"));
        assert!(after.account_by_private_key("private_a").is_none());
        assert_eq!(
            after
                .account_by_private_key("private_a_rotated")
                .unwrap()
                .record
                .id,
            "a"
        );
        assert!(
            after.custom_domain("a.test").is_none(),
            "a's old domain stayed"
        );
        assert!(after.custom_domain("shop.a.test").is_some());
        assert!(after.custom_domain("b.test").is_some());

        let gone = after
            .with_account("a", &Snapshot::default(), &ctx, control.media())
            .unwrap();
        assert!(!gone.has_account("a"));
        assert!(gone.account_by_public_key("public_a").is_none());
        assert!(gone.custom_domain("shop.a.test").is_none());
        assert!(gone.has_account("b"));
    }

    fn web_origin(account: &str, id: &str, base_url: &str) -> OriginRecord {
        OriginRecord {
            id: id.into(),
            account_id: account.into(),
            name: id.into(),
            spec: serde_json::from_value(
                serde_json::json!({"type": "web_folder", "base_url": base_url}),
            )
            .unwrap(),
            managed_by: None,
        }
    }

    /// A rebuild keeps the live origin (its client, its connections) of every origin whose
    /// spec did not change, and builds anew the one that did; the catalog after shares every
    /// shard but the changed account's with the one before.
    #[tokio::test]
    async fn unchanged_origins_keep_their_clients_and_other_shards_are_shared() {
        let dir = tempfile::tempdir().unwrap();
        let control = crate::test_support::control(dir.path()).await;
        let ctx = BuildContext {
            default_timeout: std::time::Duration::from_secs(1),
            address_policy: Default::default(),
        };
        let mut shop = endpoint("a", "shop");
        shop.origin_ids = vec!["one".into(), "two".into()];
        let origins = vec![
            web_origin("a", "one", "http://127.0.0.1:9/one"),
            web_origin("a", "two", "http://127.0.0.1:9/two"),
        ];
        let mut accounts: Vec<AccountRecord> =
            (0..2000).map(|i| account(&format!("x{i}"))).collect();
        accounts.push(account("a"));
        let all = Snapshot {
            accounts,
            origins: origins.clone(),
            endpoints: vec![endpoint("a", ""), shop.clone()],
            ..Snapshot::default()
        };
        let before = Catalog::build(&all, &ctx, control.media(), &[]).unwrap();
        let mut changed = origins.clone();
        changed[1] = web_origin("a", "two", "http://127.0.0.1:9/elsewhere");
        changed[0].name = "renamed".into();
        let only_a = Snapshot {
            accounts: vec![account("a")],
            origins: changed,
            endpoints: vec![endpoint("a", ""), shop],
            ..Snapshot::default()
        };
        let after = before
            .with_account("a", &only_a, &ctx, control.media())
            .unwrap();
        let chain = |catalog: &Catalog| catalog.endpoint("a", "shop").unwrap().1.chain.clone();
        let (old, new) = (chain(&before), chain(&after));
        assert_eq!(new.len(), 3, "media library, one, two");
        assert!(
            Arc::ptr_eq(&old[0].origin, &new[0].origin),
            "media library kept"
        );
        assert!(
            Arc::ptr_eq(&old[1].origin, &new[1].origin),
            "unchanged spec kept"
        );
        assert_eq!(new[1].name, "renamed", "a new name is taken");
        assert!(
            !Arc::ptr_eq(&old[2].origin, &new[2].origin),
            "changed spec rebuilt"
        );
        assert!(
            after.accounts.shared_with(&before.accounts) >= 255,
            "only a's shard was copied"
        );
        assert_eq!(after.account_count(), 2001);
    }
}
