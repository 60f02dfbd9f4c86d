//! An account's origins (`/v1/accounts/origins`) and URL endpoints
//! (`/v1/accounts/url-endpoints`): list, create, get, update, delete, with ImageKit's field
//! names. Every change goes through the control plane and is on the delivery path before the
//! answer. Entities the config file manages are shown with `managedBy` and refused with 409.

use super::auth::Caller;
use super::error::ApiError;
use super::json::{ErrorBody, ManagedBy};
use super::json::{merge_onto, parse_body};
use super::origin_json::{self, OriginObject, OriginRequest};
use crate::App;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use pixelway_store::{EndpointFields, EndpointRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

/// The id ImageKit gives every account's default endpoint.
const DEFAULT_ENDPOINT: &str = "default";

/// The account a request's credentials belong to (pixelway's addition).
#[derive(Serialize, ToSchema)]
pub struct CurrentAccount {
    id: String,
}

/// `GET /v1/accounts/current`: which account the key belongs to, so a tool acting for an
/// account it was told about (`pixelway import --account`) can check before it writes.
#[utoipa::path(get, path = "/v1/accounts/current", tag = "origins", security(("basic" = [])),
    responses((status = 200, body = CurrentAccount), (status = 401, body = ErrorBody)))]
pub async fn current_account(caller: Caller) -> Json<CurrentAccount> {
    Json(CurrentAccount { id: caller.account })
}

/// `GET /v1/accounts/origins`.
#[utoipa::path(get, path = "/v1/accounts/origins", tag = "origins", security(("basic" = [])),
    responses((status = 200, body = Vec<OriginObject>), (status = 401, body = ErrorBody)))]
pub async fn list_origins(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<Vec<OriginObject>>, ApiError> {
    let origins = app.control.store().origins_of(&caller.account).await?;
    Ok(Json(origins.iter().map(origin_json::origin).collect()))
}

/// `GET /v1/accounts/origins/{id}`.
#[utoipa::path(get, path = "/v1/accounts/origins/{id}", tag = "origins",
    params(("id" = String, Path, description = "The origin's id")), security(("basic" = [])),
    responses((status = 200, body = OriginObject), (status = 404, body = ErrorBody)))]
pub async fn get_origin(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OriginObject>, ApiError> {
    let origin = app.control.store().origin(&caller.account, &id).await?;
    Ok(Json(origin_json::origin(&origin)))
}

/// `POST /v1/accounts/origins`.
#[utoipa::path(post, path = "/v1/accounts/origins", tag = "origins", request_body = OriginRequest,
    security(("basic" = [])),
    responses((status = 201, body = OriginObject), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_origin(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = OriginRequest::parse(&body)?;
    let name = request.name.clone();
    let spec = request.into_spec(None)?;
    let origin = app
        .control
        .create_origin(&caller.account, &name, &spec)
        .await?;
    Ok((StatusCode::CREATED, Json(origin_json::origin(&origin))).into_response())
}

/// `PUT /v1/accounts/origins/{id}`: the fields given change. A field left out keeps its stored
/// value while the origin keeps its type (secrets too, while they still go to the same place);
/// a new `type` starts from its own fields, keeping only the name.
#[utoipa::path(put, path = "/v1/accounts/origins/{id}", tag = "origins",
    request_body = OriginRequest,
    params(("id" = String, Path, description = "The origin's id")), security(("basic" = [])),
    responses((status = 200, body = OriginObject), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_origin(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<OriginObject>, ApiError> {
    let current = app.control.store().origin(&caller.account, &id).await?;
    let request = OriginRequest::parse_update(&current, &body)?;
    let name = request.name.clone();
    let spec = request.into_spec(Some(&current.spec))?;
    let origin = app
        .control
        .update_origin(&caller.account, &id, &name, &spec)
        .await?;
    Ok(Json(origin_json::origin(&origin)))
}

/// `DELETE /v1/accounts/origins/{id}` → 204; refused (409) while an endpoint uses it.
#[utoipa::path(delete, path = "/v1/accounts/origins/{id}", tag = "origins",
    params(("id" = String, Path, description = "The origin's id")), security(("basic" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_origin(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.control.delete_origin(&caller.account, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A URL endpoint as create and update requests send it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointRequest {
    description: Option<String>,
    /// Origin ids, in the order they are tried (after the Media Library).
    origins: Option<Vec<String>>,
    /// The identifier in URLs; letters, digits and hyphens.
    url_prefix: Option<String>,
    /// Not supported yet: must be absent or null.
    #[schema(value_type = Option<Object>)]
    url_rewriter: Option<Value>,
    /// pixelway's additions.
    default_image: Option<String>,
    signed_urls_only: Option<bool>,
    named_transformations_only: Option<bool>,
}

impl EndpointRequest {
    fn into_fields(self) -> Result<EndpointFields, ApiError> {
        if self.url_rewriter.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ApiError::bad(
                "urlRewriter is not supported by pixelway yet",
            ));
        }
        let default_image = self
            .default_image
            .map(|p| p.trim_start_matches('/').to_string())
            .filter(|p| !p.is_empty());
        Ok(EndpointFields {
            identifier: self
                .url_prefix
                .unwrap_or_default()
                .trim_matches('/')
                .to_string(),
            description: self.description.unwrap_or_default(),
            default_image,
            signed_urls_only: self.signed_urls_only.unwrap_or(false),
            named_transformations_only: self.named_transformations_only.unwrap_or(false),
            origin_ids: self.origins.unwrap_or_default(),
        })
    }
}

/// A URL endpoint as answers show it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointObject {
    /// `default` for the account's default endpoint.
    id: String,
    description: String,
    /// Origin ids, in the order they are tried (after the Media Library).
    origins: Vec<String>,
    /// The identifier in URLs; empty for the default endpoint.
    url_prefix: String,
    /// A Media Library path served when no origin has the file.
    default_image: Option<String>,
    signed_urls_only: bool,
    named_transformations_only: bool,
    /// Set when the config file manages the endpoint.
    managed_by: Option<ManagedBy>,
}

fn endpoint_json(record: &EndpointRecord) -> EndpointObject {
    EndpointObject {
        id: if record.identifier.is_empty() {
            DEFAULT_ENDPOINT.to_string()
        } else {
            record.id.clone()
        },
        description: record.description.clone(),
        origins: record.origin_ids.clone(),
        url_prefix: record.identifier.clone(),
        default_image: record.default_image.clone(),
        signed_urls_only: record.signed_urls_only,
        named_transformations_only: record.named_transformations_only,
        managed_by: ManagedBy::of(record.managed_by.as_deref()),
    }
}

/// The stored id of an endpoint named in a path (`default` is the default endpoint).
async fn endpoint_id(app: &App, account: &str, id: &str) -> Result<String, ApiError> {
    if id == DEFAULT_ENDPOINT {
        return Ok(app.control.store().default_endpoint_id(account).await?);
    }
    Ok(id.to_string())
}

/// `GET /v1/accounts/url-endpoints`.
#[utoipa::path(get, path = "/v1/accounts/url-endpoints", tag = "url-endpoints",
    security(("basic" = [])),
    responses((status = 200, body = Vec<EndpointObject>), (status = 401, body = ErrorBody)))]
pub async fn list_endpoints(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<Vec<EndpointObject>>, ApiError> {
    let endpoints = app.control.store().endpoints_of(&caller.account).await?;
    Ok(Json(endpoints.iter().map(endpoint_json).collect()))
}

/// `GET /v1/accounts/url-endpoints/{id}`.
#[utoipa::path(get, path = "/v1/accounts/url-endpoints/{id}", tag = "url-endpoints",
    params(("id" = String, Path, description = "The endpoint's id, or `default`")),
    security(("basic" = [])),
    responses((status = 200, body = EndpointObject), (status = 404, body = ErrorBody)))]
pub async fn get_endpoint(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointObject>, ApiError> {
    let id = endpoint_id(&app, &caller.account, &id).await?;
    let endpoint = app.control.store().endpoint(&caller.account, &id).await?;
    Ok(Json(endpoint_json(&endpoint)))
}

/// `POST /v1/accounts/url-endpoints`.
#[utoipa::path(post, path = "/v1/accounts/url-endpoints", tag = "url-endpoints",
    request_body = EndpointRequest, security(("basic" = [])),
    responses((status = 201, body = EndpointObject), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_endpoint(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = parse_body::<EndpointRequest>(&body)?.into_fields()?;
    let endpoint = app
        .control
        .create_endpoint(&caller.account, &fields)
        .await?;
    Ok((StatusCode::CREATED, Json(endpoint_json(&endpoint))).into_response())
}

/// An endpoint's fields that may not be sent as `null` on an update.
const ENDPOINT_SWITCHES: &[&str] = &["urlPrefix", "signedUrlsOnly", "namedTransformationsOnly"];

/// A stored endpoint in the shape of an [`EndpointRequest`], for an update to lay its body over.
fn endpoint_request(record: &EndpointRecord) -> Value {
    serde_json::json!({
        "description": record.description,
        "origins": record.origin_ids,
        "urlPrefix": record.identifier,
        "defaultImage": record.default_image,
        "signedUrlsOnly": record.signed_urls_only,
        "namedTransformationsOnly": record.named_transformations_only,
    })
}

/// `PUT /v1/accounts/url-endpoints/{id}`: the fields given change; a field left out keeps its
/// stored value (so an SDK edit of the description leaves `signedUrlsOnly` and the origins as
/// they are).
#[utoipa::path(put, path = "/v1/accounts/url-endpoints/{id}", tag = "url-endpoints",
    request_body = EndpointRequest,
    params(("id" = String, Path, description = "The endpoint's id, or `default`")),
    security(("basic" = [])),
    responses((status = 200, body = EndpointObject), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_endpoint(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<EndpointObject>, ApiError> {
    let id = endpoint_id(&app, &caller.account, &id).await?;
    let current = app.control.store().endpoint(&caller.account, &id).await?;
    let merged = merge_onto(endpoint_request(&current), &body, ENDPOINT_SWITCHES)?;
    let fields = serde_json::from_value::<EndpointRequest>(merged)
        .map_err(|e| ApiError::bad(format!("request body: {e}")))?
        .into_fields()?;
    let endpoint = app
        .control
        .update_endpoint(&caller.account, &id, &fields)
        .await?;
    Ok(Json(endpoint_json(&endpoint)))
}

/// `DELETE /v1/accounts/url-endpoints/{id}` → 204; the default endpoint cannot be deleted.
#[utoipa::path(delete, path = "/v1/accounts/url-endpoints/{id}", tag = "url-endpoints",
    params(("id" = String, Path, description = "The endpoint's id")), security(("basic" = [])),
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_endpoint(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = endpoint_id(&app, &caller.account, &id).await?;
    app.control.delete_endpoint(&caller.account, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
