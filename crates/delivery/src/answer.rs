//! [`Answer`]: what delivery sends for a found file — its response headers computed once, and
//! its bytes in memory or in a file ([`Payload`]). An answer small enough is kept in the memory
//! tier (`Delivery::memory`) as it is, so a later hit only copies the headers and slices the bytes:
//! no file is opened, nothing goes to the blocking pool.

use super::original::Original;
use super::respond::Extra;
use super::transform::Rendition;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use bytes::Bytes;
use pixelway_cache::Weighed;
use pixelway_origins::local::LocalFile;
use std::time::{Instant, SystemTime};

/// The bytes of an answer.
#[derive(Debug, Clone)]
pub enum Payload {
    Memory(Bytes),
    File(LocalFile),
}

impl Payload {
    pub fn len(&self) -> u64 {
        match self {
            Self::Memory(bytes) => bytes.len() as u64,
            Self::File(file) => file.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body for bytes `start..end`: a slice of memory (the file's first chunk, read when it
    /// was opened, counts), else streamed from disk.
    pub fn body(&self, start: u64, end: u64) -> Body {
        match self {
            Self::Memory(bytes) => Body::from(bytes.slice(start as usize..end as usize)),
            Self::File(file) if end <= file.head.len() as u64 => {
                Body::from(file.head.slice(start as usize..end as usize))
            }
            Self::File(file) => Body::from_stream(file.clone().stream(start, end)),
        }
    }
}

/// A found file ready to send: headers decided, bytes at hand.
#[derive(Debug, Clone)]
pub struct Answer {
    /// ETag, Content-Type, Content-Length (of the whole), Cache-Control, Last-Modified and
    /// every header delivery added (origin name, `Vary`, the SVG policy): copied into each
    /// response as they are.
    pub headers: HeaderMap,
    /// Quoted strong ETag (compared with `If-None-Match` and `If-Range`).
    pub etag: String,
    pub last_modified: Option<SystemTime>,
    pub body: Payload,
    /// Until when the memory tier may serve it without looking at its origin again (`None`:
    /// until it is invalidated — Media Library files, whose writes invalidate it).
    pub fresh_until: Option<Instant>,
    /// The [`pixelway_control::catalog::Account::generation`] it was made under.
    pub account_generation: u64,
    /// The origin the file came from (for the access log).
    pub origin_name: String,
    /// Stamps of the other files it was made from (overlay layers): a write or purge of any
    /// of them makes the held answer stale too.
    pub depends_on: Vec<pixelway_cache::Stamp>,
}

impl Weighed for Answer {
    fn weight(&self) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        self.body.len() + headers as u64 + self.etag.len() as u64
    }
}

/// What an answer is made from: an original as found, or a transformed result.
pub struct Made {
    pub content_type: String,
    pub etag: String,
    pub last_modified: Option<SystemTime>,
    pub body: LocalFile,
    pub fresh_until: Option<Instant>,
    /// Sent as `x-pixelway-warning` (a result drawn from a damaged input).
    pub warning: Option<String>,
}

impl From<Original> for Made {
    fn from(original: Original) -> Self {
        Self {
            content_type: original.content_type,
            etag: original.etag,
            last_modified: original.last_modified,
            body: original.body,
            fresh_until: original.fresh_until,
            warning: None,
        }
    }
}

impl From<Rendition> for Made {
    fn from(rendition: Rendition) -> Self {
        Self {
            content_type: rendition.content_type,
            etag: rendition.etag,
            last_modified: None,
            body: rendition.body,
            fresh_until: rendition.fresh_until,
            warning: rendition.warning,
        }
    }
}

impl Answer {
    /// The answer for `made` with the headers delivery decided (`extra`).
    pub fn new(made: Made, extra: &Extra, account_generation: u64, origin_name: String) -> Self {
        let mut headers = HeaderMap::with_capacity(8 + extra.headers.len());
        let mut put = |name: HeaderName, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        put(header::ETAG, &made.etag);
        put(header::CACHE_CONTROL, &extra.cache_control);
        put(header::CONTENT_TYPE, &made.content_type);
        put(header::ACCEPT_RANGES, "bytes");
        put(header::CONTENT_LENGTH, &made.body.len.to_string());
        if made.content_type == "image/svg+xml" {
            // An SVG opened directly must not run script in the CDN's origin.
            put(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            );
        }
        if let Some(warning) = &made.warning {
            put(HeaderName::from_static("x-pixelway-warning"), warning);
        }
        if let Some(modified) = made.last_modified {
            put(header::LAST_MODIFIED, &httpdate::fmt_http_date(modified));
        }
        for (name, value) in &extra.headers {
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                put(name, value);
            }
        }
        Self {
            headers,
            etag: made.etag,
            last_modified: made.last_modified,
            body: Payload::File(made.body),
            fresh_until: made.fresh_until,
            account_generation,
            origin_name,
            depends_on: Vec::new(),
        }
    }

    /// Whether the memory tier may still serve it.
    pub fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_none_or(|until| now < until)
    }

    /// The same answer with its bytes in memory, for the memory tier (reads the rest of the
    /// file on the blocking pool when only its first chunk was read).
    pub async fn in_memory(&self) -> Option<Self> {
        let bytes = match &self.body {
            Payload::Memory(bytes) => bytes.clone(),
            Payload::File(file) if file.head.len() as u64 == file.len => file.head.clone(),
            Payload::File(file) => {
                let file = file.clone();
                tokio::task::spawn_blocking(move || file.read_blocking(0, file.len as usize))
                    .await
                    .ok()?
                    .ok()?
            }
        };
        Some(Self {
            body: Payload::Memory(bytes),
            ..self.clone()
        })
    }
}
