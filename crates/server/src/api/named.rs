//! Named transformations (`/v1/named-transformations`): list, create, get, update, delete. The
//! transformation text is parsed before it is stored, so a bad one is refused here (naming the
//! bad part) rather than failing every delivery request that uses it.

use super::auth::Caller;
use super::error::ApiError;
use super::json::{iso_time, parse_body};
use super::origin_json::managed_by;
use crate::app::App;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use pixelway_store::NamedTransformation;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedRequest {
    name: Option<String>,
    transformation: Option<String>,
    enabled: Option<bool>,
}

fn named_json(record: &NamedTransformation) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "transformation": record.transformation,
        "enabled": record.enabled,
        "createdAt": iso_time(record.created_at),
        "managedBy": managed_by(record.managed_by.as_deref()),
    })
}

/// Refuses a transformation that does not parse (named transformations may not nest).
fn check_transformation(text: &str) -> Result<(), ApiError> {
    pixelway_transform::Transformation::parse(text, &|_| None)
        .map(|_| ())
        .map_err(|e| ApiError::bad(format!("transformation: {e}")))
}

/// `GET /v1/named-transformations`.
pub async fn list(State(app): State<Arc<App>>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let all = app
        .control
        .store()
        .named_transformations_of(&caller.account)
        .await?;
    Ok(Json(all.iter().map(named_json).collect()))
}

/// `GET /v1/named-transformations/{id}`.
pub async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let named = app
        .control
        .store()
        .named_transformation(&caller.account, &id)
        .await?;
    Ok(Json(named_json(&named)))
}

/// `POST /v1/named-transformations`.
pub async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: NamedRequest = parse_body(&body)?;
    let name = request
        .name
        .ok_or_else(|| ApiError::bad("name is required"))?;
    let transformation = request
        .transformation
        .ok_or_else(|| ApiError::bad("transformation is required"))?;
    check_transformation(&transformation)?;
    let named = app
        .control
        .store()
        .save_named_transformation(
            &caller.account,
            None,
            &name,
            &transformation,
            request.enabled.unwrap_or(true),
        )
        .await?;
    app.reload_account(&caller.account).await?;
    Ok((StatusCode::CREATED, Json(named_json(&named))).into_response())
}

/// `PATCH /v1/named-transformations/{id}`: the fields given change.
pub async fn update(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: NamedRequest = parse_body(&body)?;
    let store = app.control.store();
    let current = store.named_transformation(&caller.account, &id).await?;
    let transformation = request.transformation.unwrap_or(current.transformation);
    check_transformation(&transformation)?;
    let named = store
        .save_named_transformation(
            &caller.account,
            Some(&id),
            &request.name.unwrap_or(current.name),
            &transformation,
            request.enabled.unwrap_or(current.enabled),
        )
        .await?;
    app.reload_account(&caller.account).await?;
    Ok(Json(named_json(&named)))
}

/// `DELETE /v1/named-transformations/{id}` → 204.
pub async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.control
        .store()
        .delete_named_transformation(&caller.account, &id)
        .await?;
    app.reload_account(&caller.account).await?;
    Ok(StatusCode::NO_CONTENT)
}
