//! Which host a request is for, and which client sent it, when pixelway stands behind a proxy.
//!
//! The host is the request target's own authority when it has one (absolute form, HTTP/2's
//! `:authority`), else the one `Host` header (two are refused, RFC 9112 §3.2). A proxy's
//! `Forwarded: host=` (RFC 7239) or `X-Forwarded-Host` is believed only when the connection
//! comes from an address in `server.trusted_proxies` — by default from no one, so a client
//! cannot pick another account's custom domain by sending one. The same goes for the client's
//! address (`Forwarded: for=`, `X-Forwarded-For`), used to limit failed sign-ins.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use ipnet::IpNet;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// The connection's peer address, when the server knows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peer(pub Option<IpAddr>);

impl Peer {
    /// The peer the accept loop recorded in the request's extensions.
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        Peer(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer::of(&parts.extensions))
    }
}

/// Why no host can be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoHostHeaders;

fn trusted(peer: Peer, proxies: &[IpNet]) -> bool {
    peer.0
        .is_some_and(|ip| proxies.iter().any(|net| net.contains(&canonical(ip))))
}

/// `::ffff:a.b.c.d` as `a.b.c.d`, so IPv4 networks match mapped peers.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The first `name=` value of a `Forwarded` header (its first element: the proxy nearest the
/// client), unquoted.
fn forwarded_parameter(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get("forwarded")?.to_str().ok()?;
    let first = value.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The host the request is for (see the module doc); borrowed from the request unless a
/// proxy named it.
pub fn request_host<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
    peer: Peer,
    proxies: &[IpNet],
) -> Result<Cow<'a, str>, TwoHostHeaders> {
    if trusted(peer, proxies) {
        let proxied = forwarded_parameter(headers, "host").or_else(|| {
            headers
                .get("x-forwarded-host")
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.split(',').next())
                .map(|h| h.trim().to_string())
        });
        if let Some(host) = proxied.filter(|h| !h.is_empty()) {
            return Ok(Cow::Owned(host));
        }
    }
    let mut hosts = headers.get_all(header::HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err(TwoHostHeaders);
    }
    Ok(Cow::Borrowed(match uri.authority() {
        Some(authority) => authority.as_str(),
        None => first.and_then(|h| h.to_str().ok()).unwrap_or(""),
    }))
}

/// The client's address: the peer's, or — from a trusted proxy — the nearest address in
/// `X-Forwarded-For` / `Forwarded: for=` that is not itself a trusted proxy.
pub fn client_address(headers: &HeaderMap, peer: Peer, proxies: &[IpNet]) -> Option<IpAddr> {
    if !trusted(peer, proxies) {
        return peer.0;
    }
    let mut chain: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    if chain.is_empty()
        && let Some(for_) = forwarded_parameter(headers, "for")
    {
        let bare = for_.trim_start_matches('[').split(']').next().unwrap_or("");
        chain.extend(bare.parse::<IpAddr>().ok().or_else(|| for_.parse().ok()));
    }
    chain
        .into_iter()
        .rev()
        .find(|ip| !trusted(Peer(Some(*ip)), proxies))
        .or(peer.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    const PROXY: Peer = Peer(Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 5))));
    const CLIENT: Peer = Peer(Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9))));

    #[test]
    fn forwarded_hosts_count_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let uri: Uri = "/a.jpg".parse().unwrap();
        let sent = headers(&[("host", "img.test"), ("x-forwarded-host", "shop.test")]);
        assert_eq!(
            request_host(&uri, &sent, PROXY, &proxies).unwrap(),
            "shop.test"
        );
        assert_eq!(
            request_host(&uri, &sent, CLIENT, &proxies).unwrap(),
            "img.test"
        );
        assert_eq!(
            request_host(&uri, &sent, PROXY, &[]).unwrap(),
            "img.test",
            "none by default"
        );
        let rfc = headers(&[
            ("host", "img.test"),
            ("forwarded", "for=1.2.3.4;host=\"a.test\", host=b.test"),
        ]);
        assert_eq!(request_host(&uri, &rfc, PROXY, &proxies).unwrap(), "a.test");
        let two = headers(&[("host", "a.test"), ("host", "b.test")]);
        assert_eq!(
            request_host(&uri, &two, CLIENT, &proxies),
            Err(TwoHostHeaders)
        );
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_address() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let sent = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(
            client_address(&sent, PROXY, &proxies),
            Some("203.0.113.9".parse().unwrap()),
            "a client cannot hide behind a made-up left-most entry"
        );
        assert_eq!(
            client_address(&sent, CLIENT, &proxies),
            CLIENT.0,
            "untrusted peer"
        );
        let rfc = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\"")]);
        assert_eq!(
            client_address(&rfc, PROXY, &proxies),
            Some("2001:db8::1".parse().unwrap())
        );
    }
}
