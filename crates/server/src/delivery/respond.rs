//! Answering with an [`Original`]: conditional requests (`If-None-Match`, `If-Modified-Since`),
//! single byte ranges (`Range`, `If-Range`), caching headers, and a body answered from the
//! chunk read when the file was opened, or streamed from disk in large chunks.

use super::original::Original;
use crate::error::DeliveryError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::ops::RangeInclusive;

/// Headers decided by the delivery step, added to every answer for this original.
#[derive(Debug, Default)]
pub struct Extra {
    pub cache_control: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Builds the response for `original` given the request headers.
pub async fn respond(
    original: Original,
    request: &HeaderMap,
    extra: Extra,
) -> Result<Response, DeliveryError> {
    let mut builder = Response::builder();
    let headers = builder.headers_mut().expect("fresh builder");
    common_headers(headers, &original, &extra);
    if not_modified(request, &original) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|e| DeliveryError::Internal(e.to_string()));
    }
    let range = match requested_range(request, &original)? {
        Some(range) => range,
        None => return send(builder, StatusCode::OK, original, 0..=u64::MAX),
    };
    let content_range = format!(
        "bytes {}-{}/{}",
        range.start(),
        range.end(),
        original.body.len
    );
    builder = builder.header(header::CONTENT_RANGE, content_range);
    send(builder, StatusCode::PARTIAL_CONTENT, original, range)
}

fn common_headers(headers: &mut HeaderMap, original: &Original, extra: &Extra) {
    let mut put = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put(header::ETAG, &original.etag);
    put(header::CACHE_CONTROL, &extra.cache_control);
    put(header::ACCEPT_RANGES, "bytes");
    put(header::CONTENT_TYPE, &original.content_type);
    put(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if original.content_type == "image/svg+xml" {
        // An SVG opened directly must not run script in the CDN's origin.
        put(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        );
    }
    if let Some(modified) = original.last_modified {
        put(header::LAST_MODIFIED, &httpdate::fmt_http_date(modified));
    }
    for (name, value) in &extra.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 §13.2.2).
fn not_modified(request: &HeaderMap, original: &Original) -> bool {
    if let Some(inm) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == original.etag);
    }
    match (
        request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok()),
        original.last_modified,
    ) {
        (Some(since), Some(modified)) => httpdate::parse_http_date(since)
            .map(|since| truncate_to_seconds(modified) <= since)
            .unwrap_or(false),
        _ => false,
    }
}

fn truncate_to_seconds(t: std::time::SystemTime) -> std::time::SystemTime {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

/// The single byte range asked for, if any and if it still applies (`If-Range`). Several
/// ranges are answered with the whole file, which RFC 9110 allows.
fn requested_range(
    request: &HeaderMap,
    original: &Original,
) -> Result<Option<RangeInclusive<u64>>, DeliveryError> {
    let Some(value) = request.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(if_range) = request.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range.trim() != original.etag
    {
        return Ok(None);
    }
    let unsatisfiable = DeliveryError::RangeNotSatisfiable {
        size: original.body.len,
    };
    let parsed = match http_range_header::parse_range_header(value) {
        Ok(parsed) => parsed,
        // A malformed Range header is ignored (RFC 9110 §14.2).
        Err(_) => return Ok(None),
    };
    let ranges = parsed
        .validate(original.body.len)
        .map_err(|_| unsatisfiable)?;
    Ok(match ranges.as_slice() {
        [single] => Some(single.clone()),
        _ => None,
    })
}

fn send(
    builder: axum::http::response::Builder,
    status: StatusCode,
    original: Original,
    range: RangeInclusive<u64>,
) -> Result<Response, DeliveryError> {
    let size = original.body.len;
    let start = *range.start();
    let end = range.end().saturating_add(1).min(size);
    let len = end.saturating_sub(start);
    let head_len = original.body.head.len() as u64;
    // Most images fit in the head read when the file was opened: answer from memory.
    let body = if end <= head_len {
        Body::from(original.body.head.slice(start as usize..end as usize))
    } else {
        Body::from_stream(original.body.stream(start, end))
    };
    builder
        .status(status)
        .header(header::CONTENT_LENGTH, len)
        .body(body)
        .map_err(|e| DeliveryError::Internal(e.to_string()))
}
