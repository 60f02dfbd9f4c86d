//! Origins: the places originals come from, behind one small trait.
//!
//! Every origin kind answers a fetch with one of three things ([`Fetch`]): the file
//! ([`Fetch::Found`]), "not here" ([`Fetch::NotHere`], try the next origin) or a failure
//! ([`Fetch::Failed`], the chain also moves on but remembers the cause). One module per kind:
//! [`object`] for everything `object_store` speaks (S3, GCS, Azure Blob, local folders and the
//! Media Library in a bucket), [`local`] for folders on disk and [`web`] for web folders and the
//! web proxy. [`spec`] is the declarative
//! description that config files, the store and the API use to build them.

pub mod guard;
pub mod lazy;
pub mod local;
pub mod object;
pub mod spec;
pub mod web;

use bytes::Bytes;
use futures::stream::BoxStream;
use std::time::{Duration, SystemTime};

pub use spec::{
    BuildContext, EffectiveSettings, OriginKind, OriginSettings, OriginSpec, SpecError,
};

/// A byte stream of an original.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// One origin kind's ability to fetch files by path.
#[async_trait::async_trait]
pub trait Origin: Send + Sync + std::fmt::Debug {
    /// Fetches `path`: a checked relative path (`shoes/red.jpg`), or for the web proxy an
    /// absolute URL. Must never return a file outside the origin's root.
    async fn fetch(&self, path: &str) -> Fetch;

    /// Whether the origin can be used at all — reached, with its bucket or container there and
    /// the credentials accepted — without fetching a file that exists. The default asks for a
    /// file no one has: a plain "not found" means the origin answered.
    async fn probe(&self) -> Reach {
        match self.fetch(".pixelway-reach-check/none").await {
            Fetch::Found(_) | Fetch::NotHere(Miss::NotFound) => Reach::Reachable,
            Fetch::NotHere(Miss::Forbidden) => Reach::CredentialsRefused,
            Fetch::Failed(failure) => Reach::Failed(failure),
        }
    }
}

/// What [`Origin::probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Reachable,
    /// The bucket or container does not exist.
    Missing,
    /// The credentials were refused (401/403).
    CredentialsRefused,
    Failed(Failure),
}

impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reach::Reachable => f.write_str("reachable"),
            Reach::Missing => f.write_str("bucket or container missing"),
            Reach::CredentialsRefused => f.write_str("credentials refused"),
            Reach::Failed(failure) => write!(f, "{failure} ({})", failure.error_code()),
        }
    }
}

/// The three-way answer of an origin.
#[derive(Debug)]
pub enum Fetch {
    Found(Object),
    NotHere(Miss),
    Failed(Failure),
}

/// A found original.
pub struct Object {
    pub body: Body,
    /// Size in bytes when the origin said it.
    pub size: Option<u64>,
    pub last_modified: Option<SystemTime>,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("size", &self.size)
            .field("last_modified", &self.last_modified)
            .finish_non_exhaustive()
    }
}

/// How an original's bytes can be read.
pub enum Body {
    /// A file on local disk (local folders, a file-backed Media Library): served in place.
    Local(local::LocalFile),
    /// A stream from a remote origin: copied into the cache of originals first.
    Stream(ByteStream),
}

/// Why an origin does not have the file: the normal reasons to try the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// 404/410, `NoSuchKey`, no such file.
    NotFound,
    /// 401/403: no permission or bad credentials.
    Forbidden,
}

/// Why an origin failed: the chain moves on, and the cause may name the final error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Refused,
    Timeout,
    /// The origin answered with an unexpected HTTP status (5xx and the like).
    Status(u16),
    /// The address is not allowed (private network, disallowed host).
    Blocked(String),
    /// The original is larger than `limits.max_origin_bytes`.
    TooLarge,
    /// Anything else, described; made with [`Failure::other`], which redacts it.
    Other(Detail),
}

/// A failure's description with every URL's query string removed: request URLs can carry
/// credentials (Azure SAS signatures, tokens in web-proxy URLs), and a failure's text goes to
/// the log and the trace header. The only way to make one is [`Failure::other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail(String);

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Miss {
    pub fn error_code(self) -> &'static str {
        match self {
            Miss::NotFound => "ENOENT",
            Miss::Forbidden => "EACCES",
        }
    }
}

impl Failure {
    /// A failure described by `text`, redacted ([`Detail`]).
    pub fn other(text: impl std::fmt::Display) -> Self {
        Failure::Other(Detail(without_query_strings(&text.to_string())))
    }

    pub fn error_code(&self) -> &'static str {
        match self {
            Failure::Refused => "ECONNREFUSED",
            Failure::Timeout => "ETIMEDOUT",
            Failure::TooLarge => "ELIMIT",
            Failure::Blocked(_) => "EACCES",
            Failure::Status(_) | Failure::Other(_) => "UNIDENTIFIED",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused => f.write_str("connection refused"),
            Failure::Timeout => f.write_str("timed out"),
            Failure::Status(code) => write!(f, "answered HTTP {code}"),
            Failure::Blocked(why) => write!(f, "blocked: {why}"),
            Failure::TooLarge => f.write_str("original larger than limits.max_origin_bytes"),
            Failure::Other(why) => why.fmt(f),
        }
    }
}

/// Runs `attempt` up to `1 + settings.retries` times while it fails, each try bounded by
/// `settings.timeout`. Misses are final: only failures are retried.
pub async fn with_retries<F, Fut>(settings: &EffectiveSettings, mut attempt: F) -> Fetch
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Fetch>,
{
    let mut tries = 0;
    loop {
        let outcome = match tokio::time::timeout(settings.timeout, attempt()).await {
            Ok(outcome) => outcome,
            Err(_) => Fetch::Failed(Failure::Timeout),
        };
        let retryable = matches!(
            &outcome,
            Fetch::Failed(Failure::Refused | Failure::Timeout | Failure::Status(500..=599))
        );
        if !retryable || tries >= settings.retries {
            return outcome;
        }
        tries += 1;
        tokio::time::sleep(Duration::from_millis(50 * tries as u64)).await;
    }
}

/// The first error of type `T` in `e`'s chain of sources (`e` included).
pub(crate) fn find_in_chain<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        source = err.source();
    }
    None
}

/// `text` with every URL's `?query` replaced by `?…`.
fn without_query_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let url_end = rest[scheme..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | '<'))
            .map_or(rest.len(), |i| scheme + i);
        let url = &rest[..url_end];
        match url[scheme..].find('?') {
            Some(q) => {
                out.push_str(&url[..scheme + q]);
                out.push_str("?…");
            }
            None => out.push_str(url),
        }
        rest = &rest[url_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[test]
    fn failure_text_loses_query_strings() {
        let f = Failure::other(
            "error sending request for url (https://a.blob.core.windows.net/c/x.jpg?sv=1&sig=SECRET): eof",
        );
        assert_eq!(
            f.to_string(),
            "error sending request for url (https://a.blob.core.windows.net/c/x.jpg?…): eof"
        );
        assert_eq!(
            Failure::other("GET http://h/a?t=1 and http://h/b?u=2").to_string(),
            "GET http://h/a?… and http://h/b?…"
        );
        assert_eq!(Failure::other("no url here").to_string(), "no url here");
    }
}
