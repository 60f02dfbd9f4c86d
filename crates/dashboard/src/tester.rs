//! The URL tester: a delivery URL (a public host's or a custom domain's) → the route it
//! resolves to, the parsed transformation, each origin tried with its outcome and time, the
//! one that served, the response headers and a preview — by running delivery itself
//! ([`pixelway_delivery::deliver::probe`]). An account can test only its own URLs: the route is resolved
//! first, and a URL of another account is refused before any origin is asked.

use super::error::{DashboardError, render};
use super::shell::Shell;
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use pixelway_api::App;
use pixelway_api::session::Session;
use serde::Deserialize;
use std::sync::Arc;

/// Largest result shown as a preview.
const MAX_PREVIEW_BYTES: usize = 4 << 20;
/// The `Accept` header the test request sends unless another is chosen: a current browser's.
const BROWSER_ACCEPT: &str = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";

#[derive(Deserialize, Default)]
pub struct TesterQuery {
    url: Option<String>,
    accept: Option<String>,
}

/// One origin tried.
struct AttemptRow {
    origin: String,
    outcome: String,
    millis: String,
    served: bool,
}

/// What the test found.
struct Report {
    account: String,
    endpoint: String,
    path: String,
    transformation: String,
    attempts: Vec<AttemptRow>,
    status: u16,
    headers: Vec<(String, String)>,
    preview: String,
    error: String,
}

#[derive(Template)]
#[template(path = "dashboard/tester.html")]
struct TesterPage {
    shell: Shell,
    url: String,
    accept: String,
    problem: String,
    report: Option<Report>,
}

/// `GET /dashboard/tester?url=…`.
pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    Query(query): Query<TesterQuery>,
) -> Result<Response, DashboardError> {
    let url = query.url.unwrap_or_default().trim().to_string();
    let accept = query
        .accept
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| BROWSER_ACCEPT.to_string());
    let (report, problem) = if url.is_empty() {
        (None, String::new())
    } else {
        match test(&app, &session, &url, &accept).await {
            Ok(report) => (Some(report), String::new()),
            Err(problem) => (None, problem),
        }
    };
    render(TesterPage {
        shell: Shell::new("URL tester", "tester", &session),
        url,
        accept,
        problem,
        report,
    })
}

/// Runs `url` through delivery; a problem with the URL itself is the error.
async fn test(app: &App, session: &Session, url: &str, accept: &str) -> Result<Report, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("give an http:// or https:// URL".into());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?;
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let target = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let uri: Uri = target.parse().map_err(|_| "the URL's path is not valid")?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::HOST,
        HeaderValue::from_str(&authority).map_err(|_| "the URL's host is not valid")?,
    );
    if let Ok(value) = HeaderValue::from_str(accept) {
        headers.insert(header::ACCEPT, value);
    }
    let route = {
        let catalog = app.control.catalog();
        pixelway_delivery::deliver::route_request(
            &catalog,
            &uri,
            &headers,
            pixelway_delivery::forwarded::Peer::default(),
            &[],
        )
        .map_err(|e| format!("delivery would refuse it: {e}"))?
    };
    if let Some(own) = &session.account
        && *own != route.account
    {
        return Err(
            "this URL is not one of your account's: only your own URLs can be tested".into(),
        );
    }
    let (response, probe) = pixelway_delivery::deliver::probe(&app.delivery, &uri, &headers).await;
    Ok(report(response, probe).await)
}

async fn report(response: Response, probe: pixelway_delivery::deliver::Probe) -> Report {
    let status = response.status();
    // The headers a client gets: the trace's private Cache-Control replaced by the client's.
    use pixelway_delivery::deliver::CLIENT_CACHE_CONTROL;
    let for_clients = response.headers().get(CLIENT_CACHE_CONTROL).cloned();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != header::SET_COOKIE && name.as_str() != CLIENT_CACHE_CONTROL)
        .map(|(name, value)| {
            let value = match (name == header::CACHE_CONTROL, &for_clients) {
                (true, Some(client)) => client,
                _ => value,
            };
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).to_string(),
            )
        })
        .collect();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(response.into_response().into_body(), MAX_PREVIEW_BYTES)
        .await
        .ok();
    let is_image = content_type.starts_with("image/") && status.is_success();
    let preview = match body.as_ref().filter(|_| is_image) {
        Some(bytes) => format!(
            "data:{content_type};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ),
        None => String::new(),
    };
    let error = match body.as_ref().filter(|_| !status.is_success()) {
        Some(bytes) => String::from_utf8_lossy(&bytes[..bytes.len().min(2000)]).to_string(),
        None => String::new(),
    };
    let served_index = status
        .is_success()
        .then(|| {
            probe
                .attempts
                .iter()
                .rposition(|a| a.outcome == "found" || a.outcome == "cached")
        })
        .flatten();
    let route = probe.route;
    Report {
        account: route
            .as_ref()
            .map(|r| r.account.clone())
            .unwrap_or_default(),
        endpoint: route
            .as_ref()
            .map(|r| {
                if r.identifier.is_empty() {
                    "default endpoint".to_string()
                } else {
                    r.identifier.clone()
                }
            })
            .unwrap_or_default(),
        path: route
            .as_ref()
            .map(|r| r.file.as_str().to_string())
            .unwrap_or_default(),
        transformation: probe.transformation.unwrap_or_default(),
        attempts: probe
            .attempts
            .iter()
            .enumerate()
            .map(|(i, a)| AttemptRow {
                origin: a.origin.clone(),
                outcome: a.outcome.clone(),
                millis: format!("{:.1} ms", a.elapsed.as_secs_f64() * 1000.0),
                served: Some(i) == served_index,
            })
            .collect(),
        status: status.as_u16(),
        headers,
        preview,
        error,
    }
}
