//! `POST /v1/files/purge {"url"}` → 201 `{"requestId"}`, and `GET /v1/files/purge/{requestId}`
//! → `{"status"}`. The purge itself is [`pixelway_control::Control::purge`]; it is done before the
//! answer, so every status is `Completed`. Requests are recorded, so the ledger survives a
//! restart and a status can be asked for later.

use super::auth::Caller;
use super::error::ApiError;
use super::json::ErrorBody;
use super::json::parse_body;
use crate::App;
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
    let made = app.control.purge(&caller.account, &body.url).await?;
    let created = PurgeCreated {
        request_id: made.request_id,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
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
