//! `POST /v1/files/purge {"url"}` → 201 `{"requestId"}`, and `GET /v1/files/purge/{requestId}`
//! → `{"status"}`. The purge itself is [`crate::purge::purge_url`]; it is done before the
//! answer, so every status is `Completed`. Requests are recorded, so the ledger survives a
//! restart and a status can be asked for later.

use super::auth::Caller;
use super::error::ApiError;
use super::json::ErrorBody;
use super::json::parse_body;
use crate::app::App;
use crate::purge::{PurgeError, purge_url};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A delivery URL to purge (a trailing `*` purges every path it begins).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeBody {
    url: String,
}

/// The answer of a purge.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurgeCreated {
    request_id: String,
}

/// A purge's status: `Completed` (pixelway purges before it answers).
#[derive(Serialize, ToSchema)]
pub struct PurgeStatus {
    status: String,
}

impl From<PurgeError> for ApiError {
    fn from(error: PurgeError) -> Self {
        match error {
            PurgeError::OtherAccount => Self::Forbidden(format!("url: {error}")),
            PurgeError::Route(pixelway_route::RouteError::UnknownHost(_))
            | PurgeError::Route(pixelway_route::RouteError::UnknownAccount(_)) => {
                Self::NotFound(format!("url: {error}"))
            }
            other => Self::BadRequest(format!("url: {other}")),
        }
    }
}

/// `POST /v1/files/purge`.
#[utoipa::path(post, path = "/v1/files/purge", tag = "purge", request_body = PurgeBody,
    security(("basic" = [])),
    responses((status = 201, body = PurgeCreated), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: PurgeBody = parse_body(&body)?;
    let at = crate::now_unix();
    let purged = purge_url(&app, &caller.account, body.url.trim()).await?;
    let store = app.control.store();
    if let Some(until) = purged.collapsed {
        store.collapse_purges(&caller.account, until as i64).await?;
    }
    let id = store
        .record_purge(
            &caller.account,
            &body.url,
            &purged.path,
            purged.wildcard,
            at,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(PurgeCreated { request_id: id })).into_response())
}

/// `GET /v1/files/purge/{requestId}`.
#[utoipa::path(get, path = "/v1/files/purge/{id}", tag = "purge",
    params(("id" = String, Path, description = "The purge's requestId")),
    security(("basic" = [])),
    responses((status = 200, body = PurgeStatus), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PurgeStatus>, ApiError> {
    let request = app
        .control
        .store()
        .purge_request(&caller.account, &id)
        .await?;
    Ok(Json(PurgeStatus {
        status: request.status,
    }))
}
