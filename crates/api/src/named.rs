//! Named transformations (`/v1/named-transformations`): list, create, get, update, delete. The
//! transformation text is parsed before it is stored, so a bad one is refused here (naming the
//! bad part) rather than failing every delivery request that uses it.

use super::auth::Caller;
use super::error::ApiError;
use super::json::{ErrorBody, ManagedBy, iso_time, parse_body};
use crate::App;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use pixelway_control::entities::NamedChanges;
use pixelway_store::NamedTransformation;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A named transformation as create and update requests send it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedRequest {
    name: Option<String>,
    transformation: Option<String>,
    enabled: Option<bool>,
}

/// A named transformation as answers show it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamedObject {
    id: String,
    /// Used in URLs as `n-<name>`.
    name: String,
    transformation: String,
    /// A disabled one is unknown to delivery.
    enabled: bool,
    created_at: String,
    /// Set when the config file manages it.
    managed_by: Option<ManagedBy>,
}

fn named_json(record: &NamedTransformation) -> NamedObject {
    NamedObject {
        id: record.id.clone(),
        name: record.name.clone(),
        transformation: record.transformation.clone(),
        enabled: record.enabled,
        created_at: iso_time(record.created_at),
        managed_by: ManagedBy::of(record.managed_by.as_deref()),
    }
}

/// Refuses a transformation that does not parse (named transformations may not nest).
/// `GET /v1/named-transformations`.
#[utoipa::path(get, path = "/v1/named-transformations", tag = "named-transformations",
    security(("basic" = [])),
    responses((status = 200, body = Vec<NamedObject>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<Vec<NamedObject>>, ApiError> {
    let all = app
        .control
        .store()
        .named_transformations_of(&caller.account)
        .await?;
    Ok(Json(all.iter().map(named_json).collect()))
}

/// `GET /v1/named-transformations/{id}`.
#[utoipa::path(get, path = "/v1/named-transformations/{id}", tag = "named-transformations",
    params(("id" = String, Path, description = "Its id")), security(("basic" = [])),
    responses((status = 200, body = NamedObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NamedObject>, ApiError> {
    let named = app
        .control
        .store()
        .named_transformation(&caller.account, &id)
        .await?;
    Ok(Json(named_json(&named)))
}

/// `POST /v1/named-transformations`.
#[utoipa::path(post, path = "/v1/named-transformations", tag = "named-transformations",
    request_body = NamedRequest, security(("basic" = [])),
    responses((status = 201, body = NamedObject), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
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
    let named = app
        .control
        .create_named(
            &caller.account,
            &name,
            &transformation,
            request.enabled.unwrap_or(true),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(named_json(&named))).into_response())
}

/// `PATCH /v1/named-transformations/{id}`: the fields given change.
#[utoipa::path(patch, path = "/v1/named-transformations/{id}", tag = "named-transformations",
    request_body = NamedRequest,
    params(("id" = String, Path, description = "Its id")), security(("basic" = [])),
    responses((status = 200, body = NamedObject), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<NamedObject>, ApiError> {
    let request: NamedRequest = parse_body(&body)?;
    let changes = NamedChanges {
        name: request.name,
        transformation: request.transformation,
        enabled: request.enabled,
    };
    let named = app
        .control
        .update_named(&caller.account, &id, changes)
        .await?;
    Ok(Json(named_json(&named)))
}

/// `DELETE /v1/named-transformations/{id}` → 204.
#[utoipa::path(delete, path = "/v1/named-transformations/{id}", tag = "named-transformations",
    params(("id" = String, Path, description = "Its id")), security(("basic" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.control.delete_named(&caller.account, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
