//! Host + path + query → [`Route`]: which account and URL endpoint a delivery request is for,
//! its transformation text and the file path it names.
//!
//! Pure: no I/O. What hosts, accounts and endpoints exist is asked of a [`Directory`], so the rules
//! here can be table-tested and fuzzed. The grammar is ImageKit's:
//!
//! ```text
//! public host:           /{account}/[{identifier}/][tr:{transformation}/]{path}[?tr=…]
//! alias custom domain:   /[{identifier}/][tr:{transformation}/]{path}
//! one-to-one domain:     /[tr:{transformation}/]{path}
//! ```

mod path;
mod query;
pub mod signature;
pub mod upload_signature;

use std::borrow::Cow;

pub use path::{FilePath, PathError};
pub use query::{Query, QueryError};

/// Longest request target (path + query) accepted, in bytes.
pub const MAX_TARGET_LEN: usize = 4096;

/// What a custom domain is mapped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainTarget {
    /// Alias of the account's default endpoint; identifiers still select other endpoints.
    Alias { account: String },
    /// One-to-one to a single endpoint; URLs carry no identifier.
    Endpoint { account: String, identifier: String },
}

/// The view of configuration that routing needs.
pub trait Directory {
    /// The custom domain mapping for `host` (already lower-cased, port removed), if any.
    fn custom_domain(&self, host: &str) -> Option<DomainTarget>;
    /// Whether `host` serves `/{account}/…` URLs.
    fn is_public_host(&self, host: &str) -> bool;
    /// Whether an account with this id exists.
    fn has_account(&self, account: &str) -> bool;
    /// Whether the account has a non-default endpoint with this identifier.
    fn has_endpoint(&self, account: &str, identifier: &str) -> bool;
}

/// A routed delivery request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub account: String,
    /// Endpoint identifier; empty for the default endpoint.
    pub identifier: String,
    /// The transformation from the `tr:` path segment, if any (not yet parsed).
    pub path_transformation: Option<String>,
    /// The transformation from `?tr=`, percent-decoded, if any.
    pub query_transformation: Option<String>,
    /// The file path after endpoint and transformation, decoded and checked.
    pub file: FilePath,
    /// The raw (undecoded) request target after the endpoint prefix, including the query:
    /// what a URL signature covers.
    pub signed_part: String,
    /// The parsed query string.
    pub query: Query,
    /// The raw identifier segment when the URL carried it in its path (not fixed by a
    /// one-to-one domain): a client may have signed it as part of the target.
    pub identifier_segment: Option<String>,
    /// On a one-to-one domain, the path's first segment names an endpoint of the account: the
    /// text a signature would cover here is also what a client signs for that other endpoint on
    /// the public host (identifier in `src`), so such a URL cannot carry a signature.
    pub signed_text_is_ambiguous: bool,
}

/// Whether a URL carried a signature (checked valid) or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    No,
    Valid,
}

impl Route {
    /// The transformation text of the request: path form and query form joined as chained steps.
    pub fn transformation(&self) -> Option<String> {
        match (&self.path_transformation, &self.query_transformation) {
            (None, None) => None,
            (Some(p), None) => Some(p.clone()),
            (None, Some(q)) => Some(q.clone()),
            (Some(p), Some(q)) => Some(format!("{p}:{q}")),
        }
    }

    /// Checks the URL's signature, if it has one, with the account's `private_key` at `now`
    /// (unix seconds). A present signature must be valid; an absent one is `Signed::No` (the
    /// caller decides whether one was required).
    pub fn verify_signature(
        &self,
        private_key: &str,
        now: u64,
    ) -> Result<Signed, signature::SignatureError> {
        let target = signature::split(&self.signed_part);
        if !target.is_signed() {
            return Ok(Signed::No);
        }
        if self.signed_text_is_ambiguous {
            return Err(signature::SignatureError::Ambiguous);
        }
        let candidates = self.signature_candidates(&target.unsigned);
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        signature::verify(private_key, &target, &candidates, now)?;
        Ok(Signed::Valid)
    }

    /// The texts a valid signature may cover, given the target without `ik-t`/`ik-s`: the part
    /// after the endpoint prefix, and the same with the identifier in front when the URL had it
    /// in its path (clients that put the identifier in `src` rather than in `urlEndpoint`).
    /// Each is also tried with the query as the client wrote it before its HTTP library
    /// percent-encoded it ([`signature::with_client_encoding_undone`]).
    pub fn signature_candidates(&self, unsigned: &str) -> Vec<String> {
        let mut texts = vec![unsigned.to_string()];
        texts.extend(signature::with_client_encoding_undone(unsigned));
        let mut candidates = texts.clone();
        if let Some(segment) = &self.identifier_segment {
            candidates.extend(texts.iter().map(|text| format!("{segment}/{text}")));
        }
        candidates
    }
}

/// Why a request could not be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown host {0:?}")]
    UnknownHost(String),
    #[error("unknown account {0:?}")]
    UnknownAccount(String),
    #[error("no file path in the URL")]
    NoFilePath,
    #[error("request target longer than {MAX_TARGET_LEN} bytes")]
    TooLong,
    #[error("bad path: {0}")]
    BadPath(#[from] PathError),
    #[error("bad query: {0}")]
    BadQuery(#[from] QueryError),
    #[error("empty transformation segment \"tr:\"")]
    EmptyTransformation,
}

/// Routes one request. `host` is the Host header as received (a port is ignored); `raw_path`
/// and `raw_query` are the undecoded request target parts (`raw_query` without the `?`).
pub fn route(
    dir: &impl Directory,
    host: &str,
    raw_path: &str,
    raw_query: Option<&str>,
) -> Result<Route, RouteError> {
    if raw_path.len() + raw_query.map_or(0, |q| q.len() + 1) > MAX_TARGET_LEN {
        return Err(RouteError::TooLong);
    }
    let host = normalise_host(host);
    let rest = raw_path.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let (account, identifier_fixed, rest) = match dir.custom_domain(&host) {
        Some(DomainTarget::Alias { account }) => (account, None, rest),
        Some(DomainTarget::Endpoint {
            account,
            identifier,
        }) => (account, Some(identifier), rest),
        None if dir.is_public_host(&host) => {
            let (first, rest) = split_first(rest);
            let account = path::decode_segment(first)?;
            if account.is_empty() || !dir.has_account(&account) {
                return Err(RouteError::UnknownAccount(account.into_owned()));
            }
            (account.into_owned(), None, rest)
        }
        None => return Err(RouteError::UnknownHost(host.into_owned())),
    };
    let mut signed_text_is_ambiguous = false;
    let (identifier, identifier_segment, rest) = match identifier_fixed {
        Some(identifier) => {
            let first = path::decode_segment(split_first(rest).0)?;
            signed_text_is_ambiguous = !first.is_empty() && dir.has_endpoint(&account, &first);
            (identifier, None, rest)
        }
        None => {
            // Chosen by the decoded segment, as the file path is decoded: `%76ault` is `vault`,
            // and must not reach the default endpoint's origins around vault's policy.
            let (first, after) = split_first(rest);
            let decoded = path::decode_segment(first)?;
            if !decoded.is_empty() && dir.has_endpoint(&account, &decoded) {
                (decoded.into_owned(), Some(first.to_string()), after)
            } else {
                (String::new(), None, rest)
            }
        }
    };
    let signed_part = match raw_query {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    let (path_transformation, rest) = take_transformation(rest)?;
    let query = Query::parse(raw_query.unwrap_or(""))?;
    let query_transformation = query.get("tr").map(str::to_string);
    if rest.is_empty() {
        return Err(RouteError::NoFilePath);
    }
    let file = FilePath::from_raw(rest)?;
    Ok(Route {
        account,
        identifier,
        path_transformation,
        query_transformation,
        file,
        signed_part,
        query,
        identifier_segment,
        signed_text_is_ambiguous,
    })
}

/// Lower-cases a Host header and removes its port (IPv6 literals keep their brackets);
/// borrows from `host` when it is already lower-case.
pub fn normalise_host(host: &str) -> Cow<'_, str> {
    let host = host.trim().trim_end_matches('.');
    let without_port = if host.starts_with('[') {
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
    };
    if without_port.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(without_port.to_ascii_lowercase())
    } else {
        Cow::Borrowed(without_port)
    }
}

fn split_first(rest: &str) -> (&str, &str) {
    match rest.split_once('/') {
        Some((first, after)) => (first, after),
        None => (rest, ""),
    }
}

/// Takes a leading `tr:…` segment off the remaining path (recognised in its decoded form, like
/// the identifier before it).
fn take_transformation(rest: &str) -> Result<(Option<String>, &str), RouteError> {
    let (first, after) = split_first(rest);
    let decoded = path::decode_segment(first)?;
    match decoded.strip_prefix("tr:") {
        Some("") => Err(RouteError::EmptyTransformation),
        Some(text) => Ok((Some(text.to_string()), after)),
        None => Ok((None, rest)),
    }
}

#[cfg(test)]
mod tests;
