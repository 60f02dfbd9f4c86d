//! Delivery errors and their one mapping to HTTP: status, a one-line public message, the
//! `ik-error` header where ImageKit sends one, and a short cache lifetime. Internal detail goes
//! to the log, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pixelway_route::RouteError;
use pixelway_transform::pipeline::ProcessError;

/// Everything that can stop a delivery request.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Route(#[from] RouteError),
    #[error("{0}")]
    Unauthorized(#[from] pixelway_route::signature::SignatureError),
    #[error("{0}")]
    BadTransformation(#[from] pixelway_transform::ParseError),
    #[error("this endpoint allows named transformations only (n-<name>)")]
    NamedTransformationsOnly,
    #[error("{0}")]
    Process(pixelway_transform::pipeline::ProcessError),
    #[error("too many images are being processed; retry shortly")]
    Overloaded,
    #[error("method not allowed: only GET and HEAD")]
    Method,
    #[error("bad request: {0}")]
    Host(&'static str),
    #[error("file not found in any origin: {path}")]
    NotFound {
        path: String,
        /// ImageKit's code for the most specific cause: ENOENT, EACCES, ECONNREFUSED, …
        code: &'static str,
        /// Not found answers may be cached this many seconds.
        max_age: u64,
        /// The origins tried, when the caller may see them.
        trace: Option<String>,
    },
    #[error("original is larger than the configured limit (limits.max_origin_bytes)")]
    OriginalTooLarge,
    #[error("requested range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("internal error")]
    Internal(String),
}

impl DeliveryError {
    fn status(&self) -> StatusCode {
        match self {
            DeliveryError::Route(e) => match e {
                RouteError::UnknownHost(_) | RouteError::UnknownAccount(_) => StatusCode::NOT_FOUND,
                RouteError::NoFilePath => StatusCode::NOT_FOUND,
                RouteError::TooLong
                | RouteError::BadPath(_)
                | RouteError::BadQuery(_)
                | RouteError::EmptyTransformation => StatusCode::BAD_REQUEST,
            },
            DeliveryError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            DeliveryError::BadTransformation(_) | DeliveryError::NamedTransformationsOnly => {
                StatusCode::BAD_REQUEST
            }
            DeliveryError::Process(e) => match e {
                ProcessError::UnsupportedInput(_)
                | ProcessError::Corrupt(_)
                | ProcessError::TooManyPixels { .. }
                | ProcessError::TooLarge { .. }
                | ProcessError::TooManyFrames { .. }
                | ProcessError::TooManyScans { .. }
                | ProcessError::TooCostly { .. }
                | ProcessError::TimeBudget { .. }
                | ProcessError::TooMuchMemory { .. }
                | ProcessError::Geometry(_)
                | ProcessError::LayerInput { .. } => StatusCode::BAD_REQUEST,
                ProcessError::UnsupportedOutput(_) => StatusCode::NOT_IMPLEMENTED,
                ProcessError::Encode(_) => StatusCode::INTERNAL_SERVER_ERROR,
                // Nobody asked for it any more; a caller that still sees it may retry.
                ProcessError::Abandoned => StatusCode::SERVICE_UNAVAILABLE,
            },
            DeliveryError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            DeliveryError::Method => StatusCode::METHOD_NOT_ALLOWED,
            DeliveryError::Host(_) => StatusCode::BAD_REQUEST,
            DeliveryError::NotFound { .. } => StatusCode::NOT_FOUND,
            DeliveryError::OriginalTooLarge => StatusCode::BAD_REQUEST,
            DeliveryError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            DeliveryError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `ik-error` header value, for the errors ImageKit names.
    fn ik_error(&self) -> Option<String> {
        match self {
            DeliveryError::NotFound { code, .. } => Some(format!("{code} - {}", describe(code))),
            DeliveryError::OriginalTooLarge => Some("ELIMIT - original too large".to_string()),
            DeliveryError::Process(
                ProcessError::TooManyPixels { .. }
                | ProcessError::TooLarge { .. }
                | ProcessError::TooManyFrames { .. }
                | ProcessError::TooManyScans { .. }
                | ProcessError::TooCostly { .. }
                | ProcessError::TimeBudget { .. }
                | ProcessError::TooMuchMemory { .. },
            ) => Some(format!("ELIMIT - {self}")),
            _ => None,
        }
    }
}

fn describe(code: &str) -> &'static str {
    match code {
        "ENOENT" => "file not found in any origin",
        "EACCES" => "an origin refused access",
        "ECONNREFUSED" => "an origin refused the connection",
        "ETIMEDOUT" => "an origin timed out",
        _ => "an origin failed",
    }
}

impl IntoResponse for DeliveryError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let DeliveryError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let message = self.to_string();
        let mut response = (status, format!("{message}\n")).into_response();
        response
            .extensions_mut()
            .insert(crate::access_log::Reason(message));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let cache_control = match &self {
            DeliveryError::NotFound { trace: Some(_), .. } => {
                crate::deliver::PRIVATE_NO_STORE.to_string()
            }
            DeliveryError::NotFound { max_age, .. } => format!("public, max-age={max_age}"),
            _ => "no-store".to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&cache_control) {
            headers.insert(header::CACHE_CONTROL, value);
        }
        if let DeliveryError::NotFound {
            trace: Some(_),
            max_age,
            ..
        } = &self
            && let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        {
            headers.insert(crate::deliver::CLIENT_CACHE_CONTROL, value);
        }
        if let Some(value) = self.ik_error().and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert("ik-error", value);
        }
        if let DeliveryError::RangeNotSatisfiable { size } = self
            && let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            headers.insert(header::CONTENT_RANGE, value);
        }
        if let DeliveryError::NotFound {
            trace: Some(trace), ..
        } = &self
            && let Ok(value) = HeaderValue::from_str(trace)
        {
            headers.insert("x-pixelway-trace", value);
        }
        if let DeliveryError::Overloaded = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let DeliveryError::Method = self {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        response
    }
}
