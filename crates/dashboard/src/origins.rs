//! Origins: the list, the page that adds or edits one (each kind with its own fields; secrets
//! write-only, shown as "set" or "not set"), and the "Test" action, which fetches a path
//! through the origin and reports status, latency and the class of error. Saving is the page's
//! call to `/v1/accounts/origins`.

use super::error::{DashboardError, render};
use super::shell::{Shell, account_of, script_json};
use crate::shell::SignedIn;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pixelway_api::App;
use pixelway_api::origin_json;
use pixelway_origins::{Failure, Fetch, Miss, OriginSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

struct OriginRow {
    id: String,
    name: String,
    kind: String,
    /// Bucket, base URL or container: where it reads from.
    location: String,
    /// Identifiers of the endpoints that use it.
    used_by: Vec<String>,
    managed_by: String,
}

#[derive(Template)]
#[template(path = "dashboard/origins.html")]
struct ListPage {
    shell: Shell,
    origins: Vec<OriginRow>,
}

/// Where an origin reads from, in one line.
fn location(spec: &OriginSpec) -> String {
    let object = origin_json::origin(&pixelway_store::OriginRecord {
        id: String::new(),
        account_id: String::new(),
        name: String::new(),
        spec: spec.clone(),
        managed_by: None,
    });
    let prefix = object.prefix.filter(|p| !p.is_empty());
    let joined = |base: String| match &prefix {
        Some(p) => format!("{base}/{}", p.trim_start_matches('/')),
        None => base,
    };
    if let Some(url) = object.base_url {
        return url;
    }
    if let Some(bucket) = object.bucket {
        return joined(bucket);
    }
    if let Some(container) = object.container {
        return joined(format!(
            "{}/{container}",
            object.account_name.unwrap_or_default()
        ));
    }
    match spec {
        OriginSpec::WebProxy { .. } => "absolute URLs in the path".to_string(),
        OriginSpec::LocalFolder { .. } => "a folder on the server".to_string(),
        _ => String::new(),
    }
}

/// `GET /dashboard/origins`.
pub async fn list(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
) -> Result<Response, DashboardError> {
    let account = account_of(&session)?;
    let store = app.control.store();
    let endpoints = store.endpoints_of(account).await?;
    let origins = store
        .origins_of(account)
        .await?
        .iter()
        .map(|record| OriginRow {
            id: record.id.clone(),
            name: record.name.clone(),
            kind: origin_json::origin(record).kind,
            location: location(&record.spec),
            used_by: endpoints
                .iter()
                .filter(|e| e.origin_ids.contains(&record.id))
                .map(|e| {
                    if e.identifier.is_empty() {
                        "default".to_string()
                    } else {
                        e.identifier.clone()
                    }
                })
                .collect(),
            managed_by: record.managed_by.clone().unwrap_or_default(),
        })
        .collect();
    render(ListPage {
        shell: Shell::new("Origins", "origins", &session),
        origins,
    })
}

#[derive(Template)]
#[template(path = "dashboard/origin_edit.html")]
struct EditPage {
    shell: Shell,
    adding: bool,
    id: String,
    managed_by: String,
    /// The origin as the API shows it (no secret), for the page's script.
    data: String,
}

/// What the editor's script starts from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EditorData {
    origin: Option<origin_json::OriginObject>,
    /// Secret fields that hold a value (`secretKey`, `privateKey`, `sasToken`).
    secrets_set: Vec<&'static str>,
}

fn secrets_set(spec: &OriginSpec) -> Vec<&'static str> {
    match spec {
        OriginSpec::S3 {
            secret_access_key, ..
        } if !secret_access_key.is_empty() => vec!["secretKey"],
        OriginSpec::Gcs { private_key, .. } if !private_key.is_empty() => vec!["privateKey"],
        OriginSpec::AzureBlob {
            sas_token,
            access_key,
            ..
        } => {
            let mut set = Vec::new();
            if !sas_token.is_empty() {
                set.push("sasToken");
            }
            if !access_key.is_empty() {
                set.push("accessKey");
            }
            set
        }
        _ => Vec::new(),
    }
}

/// `GET /dashboard/origins/new`.
pub async fn new(SignedIn(session): SignedIn) -> Result<Response, DashboardError> {
    account_of(&session)?;
    render(EditPage {
        shell: Shell::new("Add origin", "origins", &session),
        adding: true,
        id: String::new(),
        managed_by: String::new(),
        data: script_json(&EditorData {
            origin: None,
            secrets_set: Vec::new(),
        }),
    })
}

/// `GET /dashboard/origins/{id}`.
pub async fn edit(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, DashboardError> {
    let account = account_of(&session)?;
    let record = app.control.store().origin(account, &id).await?;
    render(EditPage {
        shell: Shell::new(format!("Origin {}", record.name), "origins", &session),
        adding: false,
        id: record.id.clone(),
        managed_by: record.managed_by.clone().unwrap_or_default(),
        data: script_json(&EditorData {
            origin: Some(origin_json::origin(&record)),
            secrets_set: secrets_set(&record.spec),
        }),
    })
}

/// The "Test" action's request.
#[derive(Deserialize)]
pub struct TestRequest {
    path: String,
}

/// What the "Test" action found.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// `found`, `not found`, `forbidden` or `failed`.
    outcome: &'static str,
    /// The error class (`ENOENT`, `EACCES`, `ETIMEDOUT`, `ECONNREFUSED`, …); empty when found.
    error_class: &'static str,
    /// In words, without secrets.
    detail: String,
    latency_ms: f64,
    size: Option<u64>,
}

/// `POST /dashboard/origins/{id}/test` (JSON, with the session's CSRF header): fetches `path`
/// through the origin, as delivery would, and drops the bytes.
pub async fn test(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(request): Json<TestRequest>,
) -> Result<Response, DashboardError> {
    let csrf = headers
        .get(pixelway_api::session::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !session.csrf_matches(csrf) {
        return Err(DashboardError::Forbidden(
            "the request did not come from a dashboard page (CSRF token missing or wrong)",
        ));
    }
    let account = account_of(&session)?;
    let record = app.control.store().origin(account, &id).await?;
    let path = request.path.trim().trim_start_matches('/');
    if pixelway_route::FilePath::from_decoded(path).is_err() || path.is_empty() {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"message": "path: give a file path such as images/a.jpg"})),
        )
            .into_response());
    }
    let origin = record
        .spec
        .build(app.control.origin_context())
        .map_err(|e| DashboardError::BadRequest(format!("the origin cannot be built: {e}")))?;
    let started = Instant::now();
    let fetched = origin.fetch(path).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let result = match fetched {
        Fetch::Found(object) => TestResult {
            outcome: "found",
            error_class: "",
            detail: "the origin has the file".into(),
            latency_ms,
            size: object.size,
        },
        Fetch::NotHere(miss) => TestResult {
            outcome: if miss == Miss::NotFound {
                "not found"
            } else {
                "forbidden"
            },
            error_class: miss.error_code(),
            detail: match miss {
                Miss::NotFound => "the origin answered that it has no such file".into(),
                Miss::Forbidden => "the origin refused access: check the credentials".into(),
            },
            latency_ms,
            size: None,
        },
        Fetch::Failed(failure) => TestResult {
            outcome: "failed",
            error_class: failure.error_code(),
            detail: describe(&failure),
            latency_ms,
            size: None,
        },
    };
    Ok(Json(result).into_response())
}

fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Status(code) => format!("the origin answered HTTP {code}"),
        Failure::Blocked(why) => format!("the address is not allowed: {why}"),
        other => other.to_string(),
    }
}
