//! One log line per request at `info` (target `pixelway::access`): method, host, path, status,
//! bytes, duration, the cache tier that answered, the origin that served, the request id. Every
//! line logged while the request runs (an origin's failure, say) is inside a `request` span that
//! carries the same id. The query string is left out: it can carry signatures and tokens.

use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
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

/// An access line being gathered: what is known of the request when it comes in.
pub struct Line {
    started: Instant,
    method: axum::http::Method,
    path: String,
    host: String,
    id: String,
}

impl Line {
    /// Starts the line for a request (with its request id), or `None` when neither access
    /// lines nor request spans are wanted (`PIXELWAY_LOG` above info): then nothing is
    /// gathered per request.
    pub fn start(method: &Method, uri: &Uri, headers: &HeaderMap, id: &str) -> Option<Self> {
        let lines_on = tracing::enabled!(target: "pixelway::access", tracing::Level::INFO);
        if !lines_on && !tracing::enabled!(tracing::Level::INFO) {
            return None;
        }
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        Some(Self {
            started: Instant::now(),
            method: method.clone(),
            path: uri.path().to_string(),
            host,
            id: id.to_string(),
        })
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
        tracing::info!(
            target: "pixelway::access",
            method = %self.method,
            host = %self.host,
            path = %self.path,
            status = response.status().as_u16(),
            bytes,
            duration_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            cache = %served.map_or("", |s| s.tier),
            origin = %served.map_or("", |s| s.origin.as_str()),
            account = %served.map_or("", |s| s.account.as_str()),
            request_id = %self.id,
            "request"
        );
    }
}
