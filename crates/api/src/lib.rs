//! The management API: ImageKit's paths (`/api/v1/files/upload`, `/v1/…`), field names and JSON
//! shapes, so ImageKit's official SDKs drive pixelway unchanged (see docs/api.md).
//!
//! It answers on the public hosts (and loopback addresses, for local use), never on custom
//! domains: there every path belongs to delivery, so a request for `/v1/…` on a custom domain
//! is handed to delivery as it is. Every error is ImageKit's JSON `{"message", "help"}` — also
//! the ones axum makes itself (a malformed body, a wrong method), which [`json_errors`] rewrites.
//!
//! - [`auth`]: who is calling (HTTP Basic with the private key, a dashboard session, the admin
//!   token; client-side upload signatures); [`session`]: dashboard sessions and CSRF tokens;
//!   [`limiter`]: the limit on failed sign-ins (the dashboard uses these three too)
//! - [`upload`]: the multipart upload, streamed to the Media Library
//! - [`files`]: list and search, details, update, delete, tags, copy, move, rename
//! - [`folders`]: create, delete, and copy, move, rename as bulk jobs
//! - [`purge`]: purge by URL and its status
//! - [`accounts`]: origins and URL endpoints; [`named`]: named transformations
//! - [`operator`]: accounts and custom domains, with the admin token
//! - [`json`]: the response shapes; [`error`]: errors and their one mapping to HTTP
//! - [`openapi`]: the OpenAPI 3.1 document at `/openapi.json`, generated from the handlers
//!
//! Handlers parse, call the [`Control`] plane's change methods (reads go to its store) and
//! render; none of them writes to the store or invalidates a cache itself.

pub mod accounts;
pub mod auth;
pub mod error;
pub mod files;
pub mod folders;
pub mod json;
pub mod limiter;
pub mod named;
pub mod openapi;
pub mod operator;
pub mod origin_json;
pub mod purge;
pub mod session;
pub mod stats;
pub mod upload;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use error::ApiError;
use pixelway_control::Control;
use pixelway_delivery::{Delivery, Settings};
use std::sync::Arc;

/// What the management API and the dashboard share: the control plane every change goes
/// through, the delivery state beside it (its caches' numbers, its metrics), the settings, and
/// the state of signing in.
pub struct App {
    pub control: Arc<Control>,
    pub delivery: Arc<Delivery>,
    /// Failed sign-ins, per client network and per network and account.
    pub sign_ins: limiter::SignInLimiter,
    /// Places for upload bodies read before their client is known.
    pub unauthenticated_uploads: Arc<tokio::sync::Semaphore>,
}

impl App {
    pub fn new(control: Arc<Control>, delivery: Arc<Delivery>) -> Self {
        Self {
            control,
            unauthenticated_uploads: Arc::new(tokio::sync::Semaphore::new(
                delivery.settings.max_unauthenticated_uploads.max(1),
            )),
            delivery,
            sign_ins: Default::default(),
        }
    }

    /// The settings from the config file (delivery's: one copy for every surface).
    pub fn settings(&self) -> &Settings {
        &self.delivery.settings
    }
}

/// The upload route, with its own body limit (the file plus room for the other fields and
/// base64's growth).
pub fn upload_router(app: Arc<App>) -> Router<Arc<App>> {
    let limit = app.settings().max_upload_bytes as usize / 3 * 4 + (1 << 20);
    Router::new()
        .route("/api/v1/files/upload", post(upload::upload))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(app, only_on_api_hosts))
}

/// Every other route of the management API.
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/v1/files", get(files::list))
        .route(
            "/v1/files/{id}/details",
            get(files::details).patch(files::update),
        )
        .route("/v1/files/{id}", delete(files::delete))
        .route("/v1/files/batch/deleteByFileIds", post(files::bulk_delete))
        .route("/v1/files/addTags", post(files::add_tags))
        .route("/v1/files/removeTags", post(files::remove_tags))
        .route("/v1/files/copy", post(files::copy))
        .route("/v1/files/move", post(files::move_file))
        .route("/v1/files/rename", put(files::rename))
        .route("/v1/files/purge", post(purge::create))
        .route("/v1/files/purge/{id}", get(purge::status))
        .route(
            "/v1/folder",
            post(folders::create_folder).delete(folders::delete_folder),
        )
        .route("/v1/bulkJobs/copyFolder", post(folders::copy_folder))
        .route("/v1/bulkJobs/moveFolder", post(folders::move_folder))
        .route("/v1/bulkJobs/renameFolder", post(folders::rename_folder))
        .route("/v1/bulkJobs/{id}", get(folders::job))
        .route("/v1/accounts/current", get(accounts::current_account))
        .route(
            "/v1/accounts/origins",
            get(accounts::list_origins).post(accounts::create_origin),
        )
        .route(
            "/v1/accounts/origins/{id}",
            get(accounts::get_origin)
                .put(accounts::update_origin)
                .delete(accounts::delete_origin),
        )
        .route(
            "/v1/accounts/url-endpoints",
            get(accounts::list_endpoints).post(accounts::create_endpoint),
        )
        .route(
            "/v1/accounts/url-endpoints/{id}",
            get(accounts::get_endpoint)
                .put(accounts::update_endpoint)
                .delete(accounts::delete_endpoint),
        )
        .route(
            "/v1/named-transformations",
            get(named::list).post(named::create),
        )
        .route(
            "/v1/named-transformations/{id}",
            get(named::get).patch(named::update).delete(named::delete),
        )
        .route(
            "/v1/operator/accounts",
            get(operator::list_accounts).post(operator::create_account),
        )
        .route(
            "/v1/operator/accounts/{id}",
            delete(operator::delete_account),
        )
        .route(
            "/v1/operator/accounts/{id}/keys",
            post(operator::rotate_keys),
        )
        .route("/v1/operator/custom-domains", get(operator::list_domains))
        .route(
            "/v1/operator/custom-domains/{host}",
            put(operator::map_domain).delete(operator::unmap_domain),
        )
        .route("/openapi.json", get(openapi::document))
        .route("/metrics", get(stats::metrics))
        .route("/v1", any(no_such_route))
        .route("/v1/{*rest}", any(no_such_route))
        .route("/api", any(no_such_route))
        .route("/api/{*rest}", any(no_such_route))
        .layer(DefaultBodyLimit::max(app.settings().max_request_body))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(app, only_on_api_hosts))
}

async fn no_such_route(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no management API route {} {}",
        request.method(),
        request.uri().path()
    ))
}

/// Custom domains: the request is delivery's. Hosts that are neither public nor loopback: 404.
pub async fn only_on_api_hosts(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    use pixelway_route::Directory;
    let peer = pixelway_delivery::forwarded::Peer::of(request.extensions());
    let proxies = &app.settings().trusted_proxies;
    let Ok(host) =
        pixelway_delivery::forwarded::request_host(request.uri(), request.headers(), peer, proxies)
    else {
        return ApiError::bad("more than one Host header").into_response();
    };
    let host = pixelway_route::normalise_host(&host);
    let catalog = app.control.catalog();
    if catalog.is_custom_domain(&host) {
        drop(catalog);
        let (method, uri, headers) = (request.method(), request.uri(), request.headers());
        let (mut response, served) =
            pixelway_delivery::deliver_to(&app.delivery, peer, method, uri, headers, true).await;
        if let Some(served) = served {
            response.extensions_mut().insert(served);
        }
        return response;
    }
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !catalog.is_public_host(&host) && !loopback {
        return ApiError::NotFound(format!("unknown host {host:?}")).into_response();
    }
    drop(catalog);
    next.run(request).await
}

/// Rewrites an error answer that is not JSON yet (axum's own rejections: a malformed body, a
/// wrong method, a body over the limit) into ImageKit's JSON shape, keeping its status.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(message),
        StatusCode::NOT_FOUND => ApiError::NotFound(message),
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMedia(message),
        s if s.is_server_error() => ApiError::Internal(message),
        _ => ApiError::BadRequest(message),
    };
    error.into_response()
}

/// The base of URLs handed out: `server.public_url`, else `http://` + the request's host.
pub fn base_url(app: &App, headers: &HeaderMap) -> String {
    if let Some(url) = &app.settings().public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Tags from a comma-joined form field.
pub fn tag_list(text: &str) -> Result<Vec<String>, ApiError> {
    Ok(pixelway_control::validate::tags(
        text.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
    )?)
}

/// `customCoordinates`: `x,y,width,height` in whole pixels; empty or absent: none.
pub fn custom_coordinates(value: Option<&String>) -> Result<Option<String>, ApiError> {
    Ok(match value {
        Some(text) => pixelway_control::validate::custom_coordinates(text)?,
        None => None,
    })
}
