//! The dashboard: web pages at `/dashboard` where people manage URL endpoints, origins, the
//! Media Library, named transformations and custom domains, test URLs and watch traffic.
//!
//! Pages are rendered on the server from askama templates (`crates/dashboard/templates/`,
//! checked at compile time) and read through the same store and catalog the API uses. Every
//! change a page makes is a call to the management API itself, from the page's script, with
//! the session cookie and its CSRF token (`pixelway_api::session`): there is one set of rules,
//! the API's, and one change path behind it (`pixelway_control::Control`).
//! Every asset is embedded in the binary ([`assets`]); nothing is loaded from elsewhere.
//!
//! Like the API, the dashboard answers on public hosts and loopback only; on a custom domain
//! every path belongs to delivery.
//!
//! - sign-in, sessions, CSRF tokens and the limit on failed sign-ins live in the management
//!   API's crate (`pixelway_api::session`, `pixelway_api::limiter`), which both surfaces use
//! - [`sign_in`]: the sign-in and sign-out pages; [`home`]: `/` of a public host
//! - [`overview`]: traffic charts; [`endpoints`], [`origins`], [`library`], [`named`],
//!   [`domains`], [`accounts`] (operator): one page module per resource; [`tester`]: the URL
//!   tester
//! - [`shell`]: what every page shares (navigation, who is signed in); [`error`]: errors as pages

pub mod accounts;
pub mod assets;
pub mod domains;
pub mod endpoints;
pub mod error;
pub mod home;
pub mod library;
pub mod named;
pub mod origins;
pub mod overview;
pub mod shell;
pub mod sign_in;
pub mod tester;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use pixelway_api::App;
use std::sync::Arc;

/// The dashboard's routes, and `/` of public hosts.
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home::page))
        .route("/dashboard", get(overview::page))
        .route("/dashboard/", get(overview::page))
        .route(
            "/dashboard/sign-in",
            get(sign_in::form).post(sign_in::submit),
        )
        .route("/dashboard/sign-out", post(sign_in::sign_out))
        .route("/dashboard/endpoints", get(endpoints::list))
        .route("/dashboard/endpoints/new", get(endpoints::new))
        .route("/dashboard/endpoints/{id}", get(endpoints::edit))
        .route("/dashboard/origins", get(origins::list))
        .route("/dashboard/origins/new", get(origins::new))
        .route("/dashboard/origins/{id}", get(origins::edit))
        .route("/dashboard/origins/{id}/test", post(origins::test))
        .route("/dashboard/library", get(library::browse))
        .route("/dashboard/library/files/{id}", get(library::file))
        .route("/dashboard/tester", get(tester::page))
        .route("/dashboard/named", get(named::page))
        .route("/dashboard/domains", get(domains::page))
        .route("/dashboard/accounts", get(accounts::page))
        .route("/dashboard/assets/{name}", get(assets::serve))
        .route("/dashboard/{*rest}", get(error::not_found))
        .layer(middleware::from_fn(page_headers))
        .layer(middleware::from_fn_with_state(
            app,
            pixelway_api::only_on_api_hosts,
        ))
}

/// Every dashboard answer: never cached by others, never framed, scripts and styles from
/// pixelway itself only.
async fn page_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/dashboard/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
             script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
             form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
