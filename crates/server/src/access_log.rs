//! One log line per request at `info` (target `pixelway::access`): method, host, path, status,
//! bytes, duration, the cache tier that answered, the origin that served, the request id. Every
//! line logged while the request runs (an origin's failure, say) is inside a `request` span that
//! carries the same id. The query string is left out: it can carry signatures and tokens.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

/// What delivery adds to its answers for the access log.
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub account: String,
    /// `memory`, `library`, `cache`, `origin` or `transformed`: where the bytes came from.
    pub tier: &'static str,
    /// The origin that had the file.
    pub origin: String,
}

/// The middleware.
pub async fn log_requests(request: Request, next: Next) -> Response {
    let lines_on = tracing::enabled!(target: "pixelway::access", tracing::Level::INFO);
    if !lines_on && !tracing::enabled!(tracing::Level::INFO) {
        // Neither access lines nor request spans are wanted (PIXELWAY_LOG above info): nothing
        // to gather per request.
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let span = tracing::info_span!("request", id = %id);
    let response = next.run(request).instrument(span).await;
    let served = response
        .extensions()
        .get::<Served>()
        .cloned()
        .unwrap_or_default();
    let bytes = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    tracing::info!(
        target: "pixelway::access",
        %method,
        %host,
        %path,
        status = response.status().as_u16(),
        bytes,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        cache = %served.tier,
        origin = %served.origin,
        account = %served.account,
        request_id = %id,
        "request"
    );
    response
}
