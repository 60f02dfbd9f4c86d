//! What every request passes through first, in one middleware (a hit pays for one layer, not
//! five): the limit on the request's header section (431), its request id (`x-request-id`, kept
//! from the client or a new UUID, and returned), its access line ([`crate::access_log`]), and
//! `X-Content-Type-Options: nosniff` on every answer, errors and health checks included.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The middleware; `max_header_bytes` is `limits.max_header_bytes`.
pub async fn edge(max_header_bytes: usize, mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .expect("a UUID is a header value");
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let line = crate::access_log::Line::start(&request, id.to_str().unwrap_or(""));
    let refused = too_large(&request, max_header_bytes);
    let run = async move {
        match refused {
            Some(answer) => answer,
            None => next.run(request).await,
        }
    };
    let mut response = match &line {
        Some(line) => run.instrument(line.span()).await,
        None => run.await,
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(REQUEST_ID, id);
    if let Some(line) = line {
        line.finish(&response);
    }
    response
}

/// 431 when the request's header section (names and values) is longer than `limit` bytes.
fn too_large(request: &Request, limit: usize) -> Option<Response> {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (size > limit).then(|| {
        let message = format!(
            "request headers are {size} bytes, more than the limit of {limit} (limits.max_header_bytes)\n"
        );
        (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message).into_response()
    })
}
