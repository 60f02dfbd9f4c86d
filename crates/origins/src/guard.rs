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
#[derive(Debug, Clone, Default)]
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

    /// Checks a URL's scheme and, when its host is a literal address, that address.
    pub fn check_url(&self, url: &url::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {:?} is not allowed", url.scheme()));
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
    let [a, b, _, _] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (includes cloud metadata)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("carrier-grade NAT")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("IETF protocol assignment")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("benchmarking")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let seg = ip.segments();
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) embed an IPv4 address.
    if seg[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return forbidden_v4(Ipv4Addr::from(ip.to_bits() as u32)).or(Some("IPv4-compatible"));
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b {
        return forbidden_v4(Ipv4Addr::from(ip.to_bits() as u32));
    }
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if seg[0] & 0xfe00 == 0xfc00 {
        Some("unique-local")
    } else if seg[0] & 0xffc0 == 0xfec0 {
        Some("site-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        Some("documentation")
    } else {
        None
    }
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
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("pixelway/", env!("CARGO_PKG_VERSION")))
}

/// Builds a reqwest client whose every connection goes through the guard.
pub fn guarded_client(
    policy: &AddressPolicy,
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    guarded_builder(policy, timeout).build()
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
        let client = guarded_builder(&self.policy, self.timeout)
            .https_only(!self.allow_http)
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "origin",
                source: Box::new(e),
            })?;
        Ok(object_store::client::HttpClient::new(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let refused = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "ff02::1",
        ];
        for ip in refused {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(forbidden_class(ip).is_some(), "{ip} should be refused");
        }
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
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
