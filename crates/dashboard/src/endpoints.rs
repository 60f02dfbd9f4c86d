//! URL Endpoints: the list (full URL, description, origin sequence) and the page that adds or
//! edits one — identifier, description, the origin sequence (the Media Library first and fixed),
//! default image and policies. Saving is the page's call to `/v1/accounts/url-endpoints`.

use super::error::{DashboardError, render};
use super::shell::{Shell, account_of, delivery_base, script_json};
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use pixelway_api::App;
use pixelway_api::session::Session;
use pixelway_store::{EndpointRecord, OriginRecord};
use serde::Serialize;
use std::sync::Arc;

/// One row of the list.
struct EndpointRow {
    /// The id the API and the edit page use (`default` for the default endpoint).
    id: String,
    identifier: String,
    url: String,
    description: String,
    /// Origin names in the order they are tried, after the Media Library.
    origins: Vec<String>,
    managed_by: String,
}

#[derive(Template)]
#[template(path = "dashboard/endpoints.html")]
struct ListPage {
    shell: Shell,
    endpoints: Vec<EndpointRow>,
}

fn api_id(record: &EndpointRecord) -> String {
    if record.identifier.is_empty() {
        "default".to_string()
    } else {
        record.id.clone()
    }
}

fn origin_names(record: &EndpointRecord, origins: &[OriginRecord]) -> Vec<String> {
    record
        .origin_ids
        .iter()
        .map(|id| {
            origins
                .iter()
                .find(|o| &o.id == id)
                .map_or_else(|| id.clone(), |o| o.name.clone())
        })
        .collect()
}

/// `GET /dashboard/endpoints`.
pub async fn list(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
) -> Result<Response, DashboardError> {
    let account = account_of(&session)?;
    let store = app.control.store();
    let origins = store.origins_of(account).await?;
    let base = delivery_base(&app, &headers);
    let mut endpoints: Vec<EndpointRow> = store
        .endpoints_of(account)
        .await?
        .iter()
        .map(|record| EndpointRow {
            id: api_id(record),
            identifier: record.identifier.clone(),
            url: endpoint_url(&base, account, &record.identifier),
            description: record.description.clone(),
            origins: origin_names(record, &origins),
            managed_by: record.managed_by.clone().unwrap_or_default(),
        })
        .collect();
    endpoints.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    render(ListPage {
        shell: Shell::new("URL Endpoints", "endpoints", &session),
        endpoints,
    })
}

/// `https://host/account/identifier/` (no identifier: the default endpoint's).
pub fn endpoint_url(base: &str, account: &str, identifier: &str) -> String {
    if identifier.is_empty() {
        format!("{base}/{account}/")
    } else {
        format!("{base}/{account}/{identifier}/")
    }
}

/// What the editor's script starts from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EditorData {
    /// `None` when adding.
    id: Option<String>,
    is_default: bool,
    origins: Vec<String>,
    available_origins: Vec<OriginChoice>,
    /// Identifiers other endpoints have (uniqueness is checked as you type).
    taken_identifiers: Vec<String>,
    reserved_identifiers: Vec<String>,
    url_base: String,
}

#[derive(Serialize)]
struct OriginChoice {
    id: String,
    name: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "dashboard/endpoint_edit.html")]
struct EditPage {
    shell: Shell,
    adding: bool,
    id: String,
    identifier: String,
    description: String,
    default_image: String,
    signed_urls_only: bool,
    named_transformations_only: bool,
    is_default: bool,
    managed_by: String,
    data: String,
}

/// `GET /dashboard/endpoints/new`.
pub async fn new(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
) -> Result<Response, DashboardError> {
    editor(&app, &session, &headers, None).await
}

/// `GET /dashboard/endpoints/{id}`.
pub async fn edit(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, DashboardError> {
    editor(&app, &session, &headers, Some(id)).await
}

async fn editor(
    app: &App,
    session: &Session,
    headers: &HeaderMap,
    id: Option<String>,
) -> Result<Response, DashboardError> {
    let account = account_of(session)?;
    let store = app.control.store();
    let endpoint = match id.as_deref() {
        None => None,
        Some("default") => {
            let id = store.default_endpoint_id(account).await?;
            Some(store.endpoint(account, &id).await?)
        }
        Some(id) => Some(store.endpoint(account, id).await?),
    };
    let all = store.endpoints_of(account).await?;
    let origins = store.origins_of(account).await?;
    let own_id = endpoint.as_ref().map(|e| e.id.clone());
    let data = EditorData {
        id: endpoint.as_ref().map(api_id),
        is_default: endpoint.as_ref().is_some_and(|e| e.identifier.is_empty()),
        origins: endpoint
            .as_ref()
            .map(|e| e.origin_ids.clone())
            .unwrap_or_default(),
        available_origins: origins
            .iter()
            .map(|o| OriginChoice {
                id: o.id.clone(),
                name: o.name.clone(),
                kind: pixelway_api::origin_json::origin(o).kind,
            })
            .collect(),
        taken_identifiers: all
            .iter()
            .filter(|e| Some(&e.id) != own_id.as_ref())
            .map(|e| e.identifier.clone())
            .collect(),
        reserved_identifiers: pixelway_control::validate::RESERVED_ENDPOINT_IDENTIFIERS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        url_base: format!("{}/{account}/", delivery_base(app, headers)),
    };
    let page = match &endpoint {
        Some(e) => EditPage {
            shell: Shell::new(
                if e.identifier.is_empty() {
                    "Default endpoint".to_string()
                } else {
                    format!("Endpoint {}", e.identifier)
                },
                "endpoints",
                session,
            ),
            adding: false,
            id: api_id(e),
            identifier: e.identifier.clone(),
            description: e.description.clone(),
            default_image: e.default_image.clone().unwrap_or_default(),
            signed_urls_only: e.signed_urls_only,
            named_transformations_only: e.named_transformations_only,
            is_default: e.identifier.is_empty(),
            managed_by: e.managed_by.clone().unwrap_or_default(),
            data: script_json(&data),
        },
        None => EditPage {
            shell: Shell::new("Add URL endpoint", "endpoints", session),
            adding: true,
            id: String::new(),
            identifier: String::new(),
            description: String::new(),
            default_image: String::new(),
            signed_urls_only: false,
            named_transformations_only: false,
            is_default: false,
            managed_by: String::new(),
            data: script_json(&data),
        },
    };
    render(page)
}
