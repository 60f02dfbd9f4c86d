//! The catalog: an immutable, in-memory view of every account, endpoint, live origin and custom
//! domain, built from a store [`Snapshot`]. Delivery reads it without touching the database; a
//! change builds a new catalog and swaps it in.

use pixelway_origins::{BuildContext, Origin, OriginKind};
use pixelway_route::{Directory, DomainTarget};
use pixelway_store::{AccountRecord, EndpointRecord, Snapshot};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Builds an account's Media Library origin (a folder or bucket scoped to the account).
pub trait MediaLibraryFactory: Send + Sync {
    fn media_library(&self, account: &str) -> Result<Arc<dyn Origin>, String>;
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
    pub record: EndpointRecord,
    /// The Media Library first, then the configured origins in order.
    pub chain: Vec<ChainOrigin>,
}

/// An account ready for delivery.
#[derive(Debug)]
pub struct Account {
    pub record: AccountRecord,
    pub media_library: ChainOrigin,
    /// By identifier; the default endpoint under "".
    pub endpoints: HashMap<String, Endpoint>,
    pub named_transformations: HashMap<String, String>,
    /// Library paths of private files: served only with a valid signature.
    pub private_files: HashSet<String>,
}

/// Everything delivery needs to route and serve.
#[derive(Debug, Default)]
pub struct Catalog {
    pub accounts: HashMap<String, Account>,
    domains: HashMap<String, DomainTarget>,
    public_hosts: Vec<String>,
    /// Account id by the SHA-256 of its private key (management API sign-in: a map lookup,
    /// then a constant-time comparison of the key itself).
    by_private_key: HashMap<[u8; 32], String>,
    /// Account id by public key (client-side uploads name the account by it).
    by_public_key: HashMap<String, String>,
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
    ) -> Result<Self, String> {
        let mut origins: HashMap<&str, ChainOrigin> = HashMap::new();
        for record in &snapshot.origins {
            match record.spec.build(ctx) {
                Ok(origin) => {
                    origins.insert(
                        &record.id,
                        ChainOrigin {
                            id: record.id.clone(),
                            name: record.name.clone(),
                            kind: Some(record.spec.kind()),
                            serves_local_files: record.spec.kind() == OriginKind::LocalFolder,
                            origin,
                        },
                    );
                }
                Err(e) => {
                    tracing::error!(account = %record.account_id, origin = %record.name, error = %e, "origin left out")
                }
            }
        }
        // Grouped by account once: with many accounts, a scan of every endpoint, named
        // transformation or private file per account would grow with the square of the count.
        let mut private_files: HashMap<&str, HashSet<String>> = HashMap::new();
        for (account, path) in &snapshot.private_files {
            private_files
                .entry(account.as_str())
                .or_default()
                .insert(path.clone());
        }
        let mut endpoints_of: HashMap<&str, Vec<&EndpointRecord>> = HashMap::new();
        for endpoint in &snapshot.endpoints {
            endpoints_of
                .entry(endpoint.account_id.as_str())
                .or_default()
                .push(endpoint);
        }
        let mut named_of: HashMap<&str, HashMap<String, String>> = HashMap::new();
        for named in snapshot.named_transformations.iter().filter(|n| n.enabled) {
            named_of
                .entry(named.account_id.as_str())
                .or_default()
                .insert(named.name.clone(), named.transformation.clone());
        }
        let mut accounts = HashMap::new();
        for record in &snapshot.accounts {
            let media_library = ChainOrigin {
                id: media_library_id(&record.id),
                name: MEDIA_LIBRARY.to_string(),
                kind: None,
                origin: media.media_library(&record.id)?,
                serves_local_files: media.is_local(),
            };
            let endpoints = endpoints_of
                .remove(record.id.as_str())
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    let mut chain = vec![media_library.clone()];
                    chain.extend(
                        e.origin_ids
                            .iter()
                            .filter_map(|id| origins.get(id.as_str()).cloned()),
                    );
                    (
                        e.identifier.clone(),
                        Endpoint {
                            record: e.clone(),
                            chain,
                        },
                    )
                })
                .collect();
            let named_transformations = named_of.remove(record.id.as_str()).unwrap_or_default();
            let private_files = private_files.remove(record.id.as_str()).unwrap_or_default();
            accounts.insert(
                record.id.clone(),
                Account {
                    record: record.clone(),
                    media_library,
                    endpoints,
                    named_transformations,
                    private_files,
                },
            );
        }
        let domains = snapshot
            .domains
            .iter()
            .map(|d| {
                let target = match &d.endpoint_identifier {
                    Some(identifier) => DomainTarget::Endpoint {
                        account: d.account_id.clone(),
                        identifier: identifier.clone(),
                    },
                    None => DomainTarget::Alias {
                        account: d.account_id.clone(),
                    },
                };
                (d.host.to_ascii_lowercase(), target)
            })
            .collect();
        let by_private_key = snapshot
            .accounts
            .iter()
            .map(|a| (key_digest(&a.private_key), a.id.clone()))
            .collect();
        let by_public_key = snapshot
            .accounts
            .iter()
            .map(|a| (a.public_key.clone(), a.id.clone()))
            .collect();
        Ok(Self {
            accounts,
            by_private_key,
            by_public_key,
            domains,
            public_hosts: public_hosts
                .iter()
                .map(|h| pixelway_route::normalise_host(h))
                .collect(),
        })
    }

    /// The account whose private key is `key`, compared in constant time.
    pub fn account_by_private_key(&self, key: &str) -> Option<&Account> {
        use subtle::ConstantTimeEq;
        let account = self
            .accounts
            .get(self.by_private_key.get(&key_digest(key))?)?;
        bool::from(account.record.private_key.as_bytes().ct_eq(key.as_bytes())).then_some(account)
    }

    /// The account whose public key is `key`.
    pub fn account_by_public_key(&self, key: &str) -> Option<&Account> {
        self.accounts.get(self.by_public_key.get(key)?)
    }

    /// Whether `host` (lower case, no port) is a custom domain: every path there is delivery.
    pub fn is_custom_domain(&self, host: &str) -> bool {
        self.domains.contains_key(host)
    }

    /// The endpoint `identifier` of `account`.
    pub fn endpoint(&self, account: &str, identifier: &str) -> Option<(&Account, &Endpoint)> {
        let account = self.accounts.get(account)?;
        Some((account, account.endpoints.get(identifier)?))
    }
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
                .accounts
                .get(account)
                .is_some_and(|a| a.endpoints.contains_key(identifier))
    }
}
