//! Answering with an [`Answer`]: conditional requests (`If-None-Match`, `If-Modified-Since`),
//! single byte ranges (`Range`, `If-Range`), and the body from memory or streamed from disk.
//! The same for an answer just made and for one held in the memory tier.

use super::answer::Answer;
use crate::error::DeliveryError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::ops::RangeInclusive;

/// Headers decided by the delivery step, added to every answer for this file.
#[derive(Debug, Default)]
pub struct Extra {
    pub cache_control: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Builds the response for `answer` given the request headers.
pub fn respond(answer: &Answer, request: &HeaderMap) -> Result<Response, DeliveryError> {
    if not_modified(request, answer) {
        let mut response = with_headers(answer, StatusCode::NOT_MODIFIED, Body::empty());
        response.headers_mut().remove(header::CONTENT_LENGTH);
        return Ok(response);
    }
    let size = answer.body.len();
    let Some(range) = requested_range(request, answer)? else {
        return Ok(with_headers(
            answer,
            StatusCode::OK,
            answer.body.body(0, size),
        ));
    };
    let (start, end) = (*range.start(), range.end().saturating_add(1).min(size));
    let mut response = with_headers(
        answer,
        StatusCode::PARTIAL_CONTENT,
        answer.body.body(start, end),
    );
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    let content_range = format!("bytes {}-{}/{size}", range.start(), range.end());
    if let Ok(value) = HeaderValue::from_str(&content_range) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

fn with_headers(answer: &Answer, status: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = answer.headers.clone();
    response
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 §13.2.2).
fn not_modified(request: &HeaderMap, answer: &Answer) -> bool {
    if let Some(inm) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == answer.etag);
    }
    match (
        request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok()),
        answer.last_modified,
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
    answer: &Answer,
) -> Result<Option<RangeInclusive<u64>>, DeliveryError> {
    let Some(value) = request.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(if_range) = request.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range.trim() != answer.etag
    {
        return Ok(None);
    }
    let size = answer.body.len();
    let parsed = match http_range_header::parse_range_header(value) {
        Ok(parsed) => parsed,
        // A malformed Range header is ignored (RFC 9110 §14.2).
        Err(_) => return Ok(None),
    };
    let ranges = parsed
        .validate(size)
        .map_err(|_| DeliveryError::RangeNotSatisfiable { size })?;
    Ok(match ranges.as_slice() {
        [single] => Some(single.clone()),
        _ => None,
    })
}
