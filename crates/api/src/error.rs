//! Management API errors and their one mapping to HTTP: ImageKit's JSON shape
//! `{"message", "help"}` with the status the SDKs expect, for every route. A store or Media
//! Library failure the caller cannot fix is a 500 with its detail in the log only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pixelway_control::ControlError;
use pixelway_store::StoreError;

/// Where to read about the API, in every error.
const HELP: &str = "See docs/api.md of pixelway for the management API.";

/// Everything that can stop a management API request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or wrong ones.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials, but not for this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A field is missing, malformed or not allowed; the message names it.
    #[error("{0}")]
    BadRequest(String),
    /// The change clashes with what exists (a name taken, an entity in use or managed by the
    /// config file).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    TooLarge(String),
    /// The client sent the body too slowly.
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    UnsupportedMedia(String),
    /// Too many requests of this kind at once; the client may retry shortly.
    #[error("{0}")]
    Busy(String),
    /// A failure of pixelway's own storage; the detail goes to the log.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The one mapping of the control plane's errors to the management API's statuses.
impl From<ControlError> for ApiError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::Invalid(message) => Self::BadRequest(message),
            ControlError::NotFound(message) => Self::NotFound(message),
            ControlError::Forbidden(message) => Self::Forbidden(message),
            ControlError::Conflict(message) => Self::Conflict(message),
            ControlError::Unsupported(message) => Self::UnsupportedMedia(message),
            ControlError::Unavailable(detail) => {
                tracing::error!(%detail, "management API: the database is unavailable");
                Self::Busy("the database is unavailable: the change was not made, retry".into())
            }
            ControlError::Internal(detail) => Self::Internal(detail),
        }
    }
}

/// Reads go to the store directly; its errors mean what the control plane's do.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ControlError::from(error).into()
    }
}

impl From<pixelway_control::MediaError> for ApiError {
    fn from(error: pixelway_control::MediaError) -> Self {
        ControlError::from(error).into()
    }
}

impl From<pixelway_store::Invalid> for ApiError {
    fn from(invalid: pixelway_store::Invalid) -> Self {
        Self::BadRequest(invalid.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "management API: internal error");
        }
        let message = self.to_string();
        let body = super::json::ErrorBody {
            message: message.clone(),
            help: HELP.to_string(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        response
            .extensions_mut()
            .insert(pixelway_delivery::access_log::Reason(message));
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        if matches!(self, Self::Busy(_)) {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}
