//! Why a dashboard page cannot be shown, and its one mapping to HTTP: a signed-out visitor is
//! sent to the sign-in page; everything else is a page that says what happened.

use super::shell::Shell;
use askama::Template;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use pixelway_store::StoreError;

/// Everything that stops a dashboard page.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// No session (or an ended one): go to the sign-in page, then back to `next`.
    #[error("sign in first")]
    SignedOut { next: String },
    /// The page is for accounts (the operator has none) or for the operator only.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(String),
    /// A form or query that cannot be used.
    #[error("{0}")]
    BadRequest(String),
    /// pixelway's own storage failed; the detail goes to the log.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for DashboardError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => Self::NotFound(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for DashboardError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(format!("template: {error}"))
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    message: String,
}

impl IntoResponse for DashboardError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::SignedOut { next } => {
                let target = format!(
                    "/dashboard/sign-in?next={}",
                    percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
                );
                return (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(detail) => {
                tracing::error!(%detail, "dashboard: internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let page = ErrorPage {
            shell: Shell::bare("Error"),
            status: status.as_u16(),
            message: self.to_string(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.to_string()).into_response(),
        }
    }
}

/// Any other `/dashboard/…` path.
pub async fn not_found(uri: Uri) -> DashboardError {
    DashboardError::NotFound(format!("no dashboard page at {}", uri.path()))
}

/// Renders a page template into a response.
pub fn render(page: impl Template) -> Result<Response, DashboardError> {
    Ok(Html(page.render()?).into_response())
}
