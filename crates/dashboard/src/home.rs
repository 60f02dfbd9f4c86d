//! `/` of a public host: what this server is, with links to the dashboard and the API
//! reference (instead of delivery's "unknown account").

use super::error::{DashboardError, render};
use super::shell::Shell;
use askama::Template;
use axum::response::Response;

#[derive(Template)]
#[template(path = "dashboard/home.html")]
struct HomePage {
    shell: Shell,
    version: &'static str,
}

/// `GET /`.
pub async fn page() -> Result<Response, DashboardError> {
    render(HomePage {
        shell: Shell::bare("Image CDN"),
        version: env!("CARGO_PKG_VERSION"),
    })
}
