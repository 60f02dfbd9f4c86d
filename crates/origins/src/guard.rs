//! The outbound address guard: which addresses web origins may connect to.
//!
//! Unless the operator allows private addresses (`limits.allow_private_origin_addresses`), a
//! fetch may not reach loopback, private, link-local, CGNAT, unique-local, multicast,
//! unspecified or cloud metadata addresses, in any of their IPv4-in-IPv6 spellings. Names are
//! checked on the addresses DNS gives at connect time ([`GuardedResolver`]), literal addresses
//! before the request ([`AddressPolicy::check_url`]), and every redirect hop again. Object-store
//! origins (S3, GCS, Azure) get the same client through [`GuardedConnector`].
//!
//! An operator can open single networks (`limits.allowed_origin_networks`, CIDR) rather than
//! everything private.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Which non-public addresses may be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AddressPolicy {
    /// Every address may be reached (`limits.allow_private_origin_addresses`).
    pub allow_private: bool,
    /// Networks reachable although non-public (`limits.allowed_origin_networks`).
    pub allowed_networks: Vec<IpNet>,
}

impl AddressPolicy {
    /// Why `ip` may not be reached, or `None` when it may.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        if self.allow_private || self.is_allowed_network(ip) {
            return None;
        }
        forbidden_class(ip)
    }

    fn is_allowed_network(&self, ip: IpAddr) -> bool {
        let as_v4 = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allowed_networks
            .iter()
            .any(|net| net.contains(&ip) || as_v4.is_some_and(|v4| net.contains(&v4)))
    }

    /// Checks a URL's scheme, that it carries no credentials, and, when its host is a literal
    /// address (in any spelling the URL parser accepts: `2130706433`, `0x7f.1`, `127.1`, `0`,
    /// `[::ffff:7f00:1]`), that address.
    pub fn check_url(&self, url: &url::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {:?} is not allowed", url.scheme()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("URLs with credentials (user@host) are not fetched".to_string());
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("URL has no host".to_string()),
        };
        match self.refusal(ip) {
            Some(class) => Err(format!("address {ip} is {class}")),
            None => Ok(()),
        }
    }
}

/// The class of a non-public address, or `None` for a public one.
pub fn forbidden_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    special_block(IpAddr::V4(ip)).map(|block| block.name)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // Addresses that carry an IPv4 address are judged by it: a gateway or the host's own stack
    // may deliver them to that IPv4 address.
    if let Some(v4) = embedded_ipv4(ip) {
        return forbidden_v4(v4).or_else(|| {
            // The wrappers themselves (IPv4-compatible, Teredo-like) are refused when the
            // registry says they are not globally reachable, even around a public address.
            special_block(IpAddr::V6(ip))
                .filter(|block| block.embeds == Embeds::Nothing)
                .map(|block| block.name)
        });
    }
    special_block(IpAddr::V6(ip)).map(|block| block.name)
}

/// The IPv4 address an IPv6 address stands for, in the forms that embed one: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), NAT64 (`64:ff9b::/96`) and
/// 6to4 (`2002:AABB:CCDD::/48`).
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = ip.to_bits();
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if seg[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(Ipv4Addr::from(bits as u32));
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::from(bits as u32));
    }
    if seg[0] == 0x2002 {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// Whether a block's addresses embed an IPv4 address that decides instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embeds {
    Nothing,
    Ipv4,
}

/// One row of the table of address blocks the guard refuses.
#[derive(Debug, Clone, Copy)]
pub struct SpecialBlock {
    /// The block in CIDR notation.
    pub cidr: &'static str,
    /// What it is, as the refusal message says it.
    pub name: &'static str,
    /// Where it is defined, and why it is refused when the registry calls it global.
    pub source: &'static str,
    /// Whether the addresses carry an IPv4 address that is judged instead.
    pub embeds: Embeds,
}

const fn block(cidr: &'static str, name: &'static str, source: &'static str) -> SpecialBlock {
    SpecialBlock {
        cidr,
        name,
        source,
        embeds: Embeds::Nothing,
    }
}

/// Every IANA special-purpose block that is not globally reachable (the IPv4 and IPv6
/// Special-Purpose Address Registries, RFC 6890 and its updates), plus multicast and a few
/// blocks refused on purpose although the registry lists them as global (no image origin lives
/// there, and they route to relays or wrap other addresses). Rows that embed an IPv4 address
/// are judged by that address when it is refused; otherwise by this row.
pub const SPECIAL_BLOCKS: &[SpecialBlock] = &[
    block(
        "0.0.0.0/8",
        "unspecified (\"this network\")",
        "RFC 791, RFC 6890",
    ),
    block("10.0.0.0/8", "private", "RFC 1918"),
    block(
        "100.64.0.0/10",
        "carrier-grade NAT (shared address space)",
        "RFC 6598",
    ),
    block("127.0.0.0/8", "loopback", "RFC 1122"),
    block(
        "169.254.0.0/16",
        "link-local (includes cloud metadata)",
        "RFC 3927",
    ),
    block("172.16.0.0/12", "private", "RFC 1918"),
    block(
        "192.0.0.0/24",
        "IETF protocol assignment",
        "RFC 6890; its two global anycast /32s (.9 PCP, .10 TURN) are refused too",
    ),
    block("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
    block(
        "192.88.99.0/24",
        "6to4 relay anycast (deprecated)",
        "RFC 7526",
    ),
    block("192.168.0.0/16", "private", "RFC 1918"),
    block("198.18.0.0/15", "benchmarking", "RFC 2544"),
    block("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
    block("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
    block("224.0.0.0/4", "multicast", "RFC 5771"),
    block("240.0.0.0/4", "reserved", "RFC 1112"),
    block("255.255.255.255/32", "limited broadcast", "RFC 919"),
    block("::/128", "unspecified", "RFC 4291"),
    block("::1/128", "loopback", "RFC 4291"),
    SpecialBlock {
        embeds: Embeds::Ipv4,
        ..block("::ffff:0:0/96", "IPv4-mapped", "RFC 4291")
    },
    // Judged by the embedded address first, then refused anyway (deprecated, never global).
    block("::/96", "IPv4-compatible (deprecated)", "RFC 4291"),
    block(
        "::/8",
        "reserved by the IETF",
        "RFC 4291 (IPv4-translated ::ffff:0:0:0/96 among them)",
    ),
    SpecialBlock {
        embeds: Embeds::Ipv4,
        ..block("64:ff9b::/96", "NAT64", "RFC 6052")
    },
    block(
        "64:ff9b:1::/48",
        "local-use IPv4/IPv6 translation",
        "RFC 8215",
    ),
    block("100::/64", "discard-only", "RFC 6666"),
    block("100:0:0:1::/64", "dummy prefix", "RFC 9780"),
    block(
        "2001::/23",
        "IETF protocol assignment",
        "RFC 2928; Teredo (2001::/32) embeds IPv4 addresses; its global anycast and AS112 rows are refused too",
    ),
    block("2001:db8::/32", "documentation", "RFC 3849"),
    SpecialBlock {
        embeds: Embeds::Ipv4,
        ..block("2002::/16", "6to4", "RFC 3056")
    },
    block("3fff::/20", "documentation", "RFC 9637"),
    block("5f00::/16", "segment routing SIDs", "RFC 9602"),
    block("fc00::/7", "unique-local", "RFC 4193"),
    block("fe80::/10", "link-local", "RFC 4291"),
    block("fec0::/10", "site-local (deprecated)", "RFC 3879"),
    block("ff00::/8", "multicast", "RFC 4291"),
];

/// The parsed table, most specific block first.
fn special_blocks() -> &'static [(IpNet, SpecialBlock)] {
    static PARSED: std::sync::LazyLock<Vec<(IpNet, SpecialBlock)>> =
        std::sync::LazyLock::new(|| {
            let mut rows: Vec<(IpNet, SpecialBlock)> = SPECIAL_BLOCKS
                .iter()
                .map(|b| (b.cidr.parse().expect("the table's CIDRs parse"), *b))
                .collect();
            rows.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
            rows
        });
    &PARSED
}

/// The most specific special block `ip` belongs to.
pub fn special_block(ip: IpAddr) -> Option<&'static SpecialBlock> {
    special_blocks()
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, block)| block)
}

/// A DNS resolver for reqwest that drops addresses the policy refuses, so the address checked is
/// the address connected to (no rebinding window between check and connect).
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| policy.refusal(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = Box::new(BlockedAddress(
                    format!("{host} resolves only to non-public addresses"),
                ));
                return Err(err);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The error a guarded connection fails with; recognised by the web origins.
#[derive(Debug)]
pub struct BlockedAddress(pub String);

impl std::fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BlockedAddress {}

/// A redirect policy that follows at most `max` hops and checks each hop's URL.
pub fn redirect_policy(policy: Arc<AddressPolicy>, max: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // `previous` holds the first URL too: after `max` followed hops it has `max` + 1.
        if attempt.previous().len() > max {
            return attempt.error(BlockedAddress(format!("more than {max} redirects")));
        }
        match policy.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(why) => attempt.error(BlockedAddress(format!("redirect refused: {why}"))),
        }
    })
}

/// A reqwest client builder whose every connection and redirect goes through the guard.
fn guarded_builder(policy: &AddressPolicy, timeout: Duration) -> reqwest::ClientBuilder {
    let policy = Arc::new(policy.clone());
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver {
            policy: Arc::clone(&policy),
        }))
        .redirect(redirect_policy(policy, 5))
        // A redirect's next hop must not learn the previous URL (its query may hold a token).
        .referer(false)
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("pixelway/", env!("CARGO_PKG_VERSION")))
}

/// The one way pixelway sends a request to a URL it did not choose itself (web origins, upload
/// by URL): a request can only be had through [`GuardedClient::get`], which checks the URL first,
/// and the client underneath checks DNS answers and every redirect.
#[derive(Debug, Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl GuardedClient {
    /// The shared guarded client for `policy` with `timeout` per request, body included.
    pub fn new(policy: &AddressPolicy, timeout: Duration) -> reqwest::Result<Self> {
        Ok(Self {
            client: guarded_client(policy, timeout)?,
            policy: policy.clone(),
        })
    }

    /// A GET of `url`, or why the guard refuses it.
    pub fn get(&self, url: url::Url) -> Result<reqwest::RequestBuilder, BlockedAddress> {
        self.policy.check_url(&url).map_err(BlockedAddress)?;
        Ok(self.client.get(url))
    }
}

/// A reqwest client whose every connection goes through the guard, shared by every origin with
/// the same policy and timeout: a client holds a connection pool, a resolver and TLS state, and
/// one per origin cost about 130 KB each (with many accounts, most of the start-up memory).
fn guarded_client(policy: &AddressPolicy, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    shared_client(policy, timeout, false)
}

/// The shared guarded client for `policy` and `timeout`, HTTPS-only or not.
fn shared_client(
    policy: &AddressPolicy,
    timeout: Duration,
    https_only: bool,
) -> reqwest::Result<reqwest::Client> {
    type Key = (AddressPolicy, Duration, bool);
    type Clients = std::collections::HashMap<Key, reqwest::Client>;
    static SHARED: std::sync::OnceLock<std::sync::Mutex<Clients>> = std::sync::OnceLock::new();
    let mut shared = SHARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let key = (policy.clone(), timeout, https_only);
    if let Some(client) = shared.get(&key) {
        return Ok(client.clone());
    }
    let client = guarded_builder(policy, timeout)
        .https_only(https_only)
        .build()?;
    shared.insert(key, client.clone());
    Ok(client)
}

/// Gives object_store (S3, GCS, Azure origins) the guarded client, so a bucket endpoint, its
/// DNS answers and its redirects are held to the same policy as web origins.
#[derive(Debug, Clone)]
pub struct GuardedConnector {
    pub policy: AddressPolicy,
    pub timeout: Duration,
    pub allow_http: bool,
}

impl object_store::client::HttpConnector for GuardedConnector {
    fn connect(
        &self,
        _options: &object_store::ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        let client = shared_client(&self.policy, self.timeout, !self.allow_http).map_err(|e| {
            object_store::Error::Generic {
                store: "origin",
                source: Box::new(e),
            }
        })?;
        Ok(object_store::client::HttpClient::new(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of the table: its first and last address are refused, and the addresses just
    /// outside it are either in another row or allowed. Classification only: nothing connects.
    #[test]
    fn every_special_block_is_refused_and_its_neighbours_are_not_caught_by_it() {
        for (net, row) in special_blocks() {
            let (first, last) = (net.network(), net.broadcast());
            for ip in [first, last] {
                let class = forbidden_class(ip);
                assert!(class.is_some(), "{ip} ({}) must be refused", row.cidr);
            }
            for outside in [step(first, -1), step(last, 1)].into_iter().flatten() {
                if special_block(outside).is_none() {
                    assert_eq!(
                        forbidden_class(outside),
                        None,
                        "{outside} is outside {}",
                        row.cidr
                    );
                }
            }
        }
    }

    fn step(ip: IpAddr, by: i8) -> Option<IpAddr> {
        match ip {
            IpAddr::V4(v4) => v4
                .to_bits()
                .checked_add_signed(by as i32)
                .map(|b| Ipv4Addr::from(b).into()),
            IpAddr::V6(v6) => v6
                .to_bits()
                .checked_add_signed(by as i128)
                .map(|b| Ipv6Addr::from(b).into()),
        }
    }

    #[test]
    fn classifies_addresses() {
        let refused = [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local (includes cloud metadata)"),
            ("100.64.0.1", "carrier-grade NAT (shared address space)"),
            ("0.0.0.0", "unspecified (\"this network\")"),
            ("192.0.0.9", "IETF protocol assignment"),
            ("192.0.2.10", "documentation (TEST-NET-1)"),
            ("198.51.100.7", "documentation (TEST-NET-2)"),
            ("203.0.113.200", "documentation (TEST-NET-3)"),
            ("198.19.0.1", "benchmarking"),
            ("192.88.99.1", "6to4 relay anycast (deprecated)"),
            ("224.0.0.1", "multicast"),
            ("250.1.1.1", "reserved"),
            ("255.255.255.255", "limited broadcast"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("fc00::1", "unique-local"),
            ("fd00:ec2::254", "unique-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                "IETF protocol assignment",
            ), // Teredo
            ("64:ff9b:1::1", "local-use IPv4/IPv6 translation"),
            ("100::1", "discard-only"),
            ("5f00::1", "segment routing SIDs"),
            ("::ffff:0:808:808", "reserved by the IETF"), // IPv4-translated
            // IPv4 inside IPv6: judged by the IPv4 address.
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "loopback"),
            ("::8.8.8.8", "IPv4-compatible (deprecated)"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b::a9fe:a9fe", "link-local (includes cloud metadata)"),
            ("2002:7f00:1::1", "loopback"),
            ("2002:a00:1::", "private"),
            ("2002:c000:0201::1", "documentation (TEST-NET-1)"),
            ("2002:a9fe:a9fe::", "link-local (includes cloud metadata)"),
        ];
        for (ip, class) in refused {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_class(parsed), Some(class), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "192.0.1.255",
            "192.31.196.1",
            "2606:2800:220:1:248:1893:25c8:1946",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2620:4f:8000::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_class(ip), None, "{ip} should be allowed");
        }
        let open = AddressPolicy {
            allow_private: true,
            ..AddressPolicy::default()
        };
        assert_eq!(open.refusal("127.0.0.1".parse().unwrap()), None);
        let one_network = AddressPolicy {
            allowed_networks: vec!["10.20.0.0/16".parse().unwrap()],
            ..AddressPolicy::default()
        };
        for ip in ["10.20.3.4", "::ffff:10.20.3.4"] {
            assert_eq!(one_network.refusal(ip.parse().unwrap()), None, "{ip}");
        }
        for ip in ["10.21.0.1", "127.0.0.1", "169.254.169.254"] {
            assert!(one_network.refusal(ip.parse().unwrap()).is_some(), "{ip}");
        }
    }

    /// URL hosts in every spelling, checked without connecting: the literal-address check
    /// refuses each non-public class before any request is made.
    #[test]
    fn literal_url_hosts_of_every_class_are_refused_without_connecting() {
        let strict = AddressPolicy::default();
        for host in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "0x7f.1",
            "2130706433",
            "017700000001",
            "[fe80::1]",
            "[fc00::1]",
            "[fd00:ec2::254]",
            "[::ffff:169.254.169.254]",
            "[::127.0.0.1]",
            "[64:ff9b::a9fe:a9fe]",
            "[ff02::1]",
            "[2002:7f00:1::]",
            "[2002:c633:6401::]",
            "[2001:db8::1]",
        ] {
            let url: url::Url = format!("http://{host}/a.jpg").parse().unwrap();
            assert!(strict.check_url(&url).is_err(), "{host} must be refused");
        }
    }

    #[test]
    fn checks_literal_urls_and_schemes() {
        let strict = AddressPolicy::default();
        assert!(
            strict
                .check_url(&"http://127.0.0.1/x".parse().unwrap())
                .is_err()
        );
        assert!(
            strict
                .check_url(&"http://[::ffff:7f00:1]/x".parse().unwrap())
                .is_err()
        );
        assert!(
            strict
                .check_url(&"file:///etc/passwd".parse().unwrap())
                .is_err()
        );
        assert!(
            strict
                .check_url(&"https://example.com/x".parse().unwrap())
                .is_ok()
        );
    }
}
