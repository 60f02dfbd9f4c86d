//! One log line per request at `info` (target `pixelway::access`): method, host, path, the
//! query string (signatures redacted), status, bytes, duration (to the microsecond), the cache
//! tier that answered, the origin that served, the account (delivery's, or the one the API's
//! credentials named), the client's address (through trusted proxies), user agent and referrer,
//! the reason an error answer gave its client, and the request id. Every line logged while the
//! request runs (an origin's failure, say) is inside a `request` span that carries the same id.

use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What delivery adds to its answers for the access log.
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub account: String,
    /// `memory`, `library`, `cache`, `origin` or `transformed`: where the bytes came from.
    pub tier: &'static str,
    /// The origin that had the file.
    pub origin: String,
}

/// The reason an error answer gives its client, put in the response's extensions where errors
/// are mapped to HTTP (delivery's and the API's), so the access line says the same.
#[derive(Debug, Clone)]
pub struct Reason(pub String);

/// A slot in the request's extensions that the API's credential check fills with the account
/// the request acts for, for the access line.
#[derive(Debug, Clone, Default)]
pub struct AccountSlot(Arc<OnceLock<String>>);

impl AccountSlot {
    /// Records the account (the first one set stays).
    pub fn set(&self, account: &str) {
        let _ = self.0.set(account.to_string());
    }
}

/// Query parameters whose values never reach a log: the URL signature.
const REDACTED: &[&str] = &["ik-s"];

/// An access line being gathered: what is known of the request when it comes in.
pub struct Line {
    started: Instant,
    method: axum::http::Method,
    path: String,
    query: String,
    host: String,
    client: Option<IpAddr>,
    user_agent: String,
    referer: String,
    id: String,
    account: AccountSlot,
}

impl Line {
    /// Starts the line for a request (with its request id) that came from `peer`, or `None`
    /// when neither access lines nor request spans are wanted (`PIXELWAY_LOG` above info): then
    /// nothing is gathered per request.
    pub fn start(
        (method, uri, headers): (&Method, &Uri, &HeaderMap),
        peer: Option<SocketAddr>,
        proxies: &[ipnet::IpNet],
        id: &str,
    ) -> Option<Self> {
        let lines_on = tracing::enabled!(target: "pixelway::access", tracing::Level::INFO);
        if !lines_on && !tracing::enabled!(tracing::Level::INFO) {
            return None;
        }
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| text_of(headers, header::HOST))
            .unwrap_or_default();
        let peer = crate::forwarded::Peer(peer.map(|address| address.ip()));
        Some(Self {
            started: Instant::now(),
            method: method.clone(),
            path: uri.path().to_string(),
            query: uri.query().map(redacted).unwrap_or_default(),
            host,
            client: crate::forwarded::client_address(headers, peer, proxies),
            user_agent: text_of(headers, header::USER_AGENT).unwrap_or_default(),
            referer: text_of(headers, header::REFERER).unwrap_or_default(),
            id: id.to_string(),
            account: AccountSlot::default(),
        })
    }

    /// The slot the API fills with the account its credentials named.
    pub fn account_slot(&self) -> AccountSlot {
        self.account.clone()
    }

    /// The span every line logged while the request runs is inside.
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!("request", id = %self.id)
    }

    /// Writes the line for `response`, with what delivery said it `served`.
    pub fn finish(self, response: &Response, served: Option<&Served>) {
        let bytes = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let status = response.status();
        let reason = match response.extensions().get::<Reason>() {
            Some(Reason(text)) => text.trim_end().to_string(),
            None if status.is_client_error() || status.is_server_error() => {
                status.canonical_reason().unwrap_or_default().to_string()
            }
            None => String::new(),
        };
        let account = served
            .map(|s| s.account.as_str())
            .or(self.account.0.get().map(String::as_str))
            .unwrap_or_default();
        let client = self.client.map(|ip| ip.to_string()).unwrap_or_default();
        tracing::info!(
            target: "pixelway::access",
            method = %self.method,
            host = %self.host,
            path = %self.path,
            query = %self.query,
            status = status.as_u16(),
            bytes,
            duration_ms = self.started.elapsed().as_micros() as f64 / 1000.0,
            cache = %served.map_or("", |s| s.tier),
            origin = %served.map_or("", |s| s.origin.as_str()),
            account = %account,
            client = %client,
            user_agent = %self.user_agent,
            referer = %self.referer,
            reason = %reason,
            request_id = %self.id,
            "request"
        );
    }
}

fn text_of(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The query string with the values of [`REDACTED`] parameters replaced.
fn redacted(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if REDACTED.contains(&name) => format!("{name}=REDACTED"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_redacted_and_the_rest_kept() {
        assert_eq!(
            super::redacted("tr=w-300&ik-t=1700000000&ik-s=abcdef"),
            "tr=w-300&ik-t=1700000000&ik-s=REDACTED"
        );
        assert_eq!(super::redacted("ik-s"), "ik-s");
    }
}
