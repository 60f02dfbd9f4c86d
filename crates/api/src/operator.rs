//! The operator API (pixelway's own, under `/v1/operator/`), for whoever runs the server:
//! accounts (create with generated keys, rotate keys, delete with all their data) and custom
//! domains (map a host to an account's default endpoint or to one endpoint; unmap). It takes
//! `Authorization: Bearer <server.admin_token>`; an account's key is no operator credential, so
//! accounts cannot map domains.

use super::error::ApiError;
use super::json::{ErrorBody, ManagedBy, parse_body};
use crate::App;
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A request made with the operator's token.
pub struct Operator;

impl FromRequestParts<Arc<App>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        if app.settings().admin_token.is_empty() {
            return Err(ApiError::Forbidden(
                "the operator API is off: set server.admin_token".into(),
            ));
        }
        if parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .is_none()
            && let Some(session) = super::auth::dashboard_session(app, &parts.headers).await?
        {
            return match session.account {
                None => Ok(Operator),
                Some(_) => Err(ApiError::Forbidden(
                    "only the operator may do this: sign in with the admin token".into(),
                )),
            };
        }
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "the operator API takes Authorization: Bearer <admin token>".into(),
                )
            })?;
        if !pixelway_control::credentials::admin_token_matches(
            &app.settings().admin_token,
            token.trim(),
        ) {
            return Err(ApiError::Unauthorized(
                "the admin token is not valid".into(),
            ));
        }
        Ok(Operator)
    }
}

/// An account to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Letters, digits, `-` and `_`; the first path segment of its URLs.
    id: String,
}

/// An account as the operator sees it (no private key).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountObject {
    id: String,
    public_key: String,
    /// Set when the config file manages the account.
    managed_by: Option<ManagedBy>,
}

/// An account's keys, shown once: when made or rotated.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountKeys {
    id: String,
    private_key: String,
    public_key: String,
}

/// `GET /v1/operator/accounts`: ids and public keys (private keys are shown once, when made).
#[utoipa::path(get, path = "/v1/operator/accounts", tag = "operator", security(("admin" = [])),
    responses((status = 200, body = Vec<AccountObject>), (status = 401, body = ErrorBody)))]
pub async fn list_accounts(
    State(app): State<Arc<App>>,
    _: Operator,
) -> Result<Json<Vec<AccountObject>>, ApiError> {
    let accounts = app.control.store().accounts().await?;
    Ok(Json(
        accounts
            .into_iter()
            .map(|a| AccountObject {
                managed_by: ManagedBy::of(a.managed_by.as_deref()),
                id: a.id,
                public_key: a.public_key,
            })
            .collect(),
    ))
}

/// `POST /v1/operator/accounts {"id"}` → 201 with the generated keys.
#[utoipa::path(post, path = "/v1/operator/accounts", tag = "operator", request_body = NewAccount,
    security(("admin" = [])),
    responses((status = 201, body = AccountKeys), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_account(
    State(app): State<Arc<App>>,
    _: Operator,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: NewAccount = parse_body(&body)?;
    let made = app.control.create_account(&request.id).await?;
    let keys = AccountKeys {
        id: request.id,
        private_key: made.private_key,
        public_key: made.public_key,
    };
    Ok((StatusCode::CREATED, Json(keys)).into_response())
}

/// `POST /v1/operator/accounts/{id}/keys`: new keys; URLs signed with the old private key stop
/// working at once.
#[utoipa::path(post, path = "/v1/operator/accounts/{id}/keys", tag = "operator",
    params(("id" = String, Path, description = "The account's id")), security(("admin" = [])),
    responses((status = 200, body = AccountKeys), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn rotate_keys(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(id): Path<String>,
) -> Result<Json<AccountKeys>, ApiError> {
    let made = app.control.rotate_keys(&id).await?;
    Ok(Json(AccountKeys {
        id,
        private_key: made.private_key,
        public_key: made.public_key,
    }))
}

/// `DELETE /v1/operator/accounts/{id}` → 204: the account, its entities, its file records and
/// its Media Library's bytes.
#[utoipa::path(delete, path = "/v1/operator/accounts/{id}", tag = "operator",
    params(("id" = String, Path, description = "The account's id")), security(("admin" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_account(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.control.delete_account(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a custom domain points.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainRequest {
    account_id: String,
    /// An endpoint's identifier (one-to-one); absent or empty: alias of the default endpoint.
    url_prefix: Option<String>,
}

/// A custom domain as answers show it, with the DNS record its owner must create.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainObject {
    host: String,
    account_id: String,
    /// The endpoint it maps to one-to-one; `null`: an alias of the default endpoint.
    url_prefix: Option<String>,
    dns_record: DnsRecord,
    /// Set when the config file manages the domain.
    managed_by: Option<ManagedBy>,
}

/// A DNS record to create.
#[derive(Serialize, ToSchema)]
pub struct DnsRecord {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    value: String,
}

/// What a custom domain's CNAME record points at: the first public host.
pub fn dns_target(app: &App) -> String {
    app.control
        .public_hosts()
        .first()
        .cloned()
        .unwrap_or_else(|| "<this server's public host>".into())
}

fn domain_json(
    app: &App,
    record: &pixelway_store::DomainRecord,
    key: Option<&str>,
) -> DomainObject {
    let target = dns_target(app);
    DomainObject {
        host: record.host.clone(),
        account_id: record.account_id.clone(),
        url_prefix: record.endpoint_identifier.clone(),
        dns_record: DnsRecord {
            kind: "CNAME".into(),
            name: record.host.clone(),
            value: target,
        },
        managed_by: ManagedBy::of(key),
    }
}

/// `GET /v1/operator/custom-domains`.
#[utoipa::path(get, path = "/v1/operator/custom-domains", tag = "operator",
    security(("admin" = [])),
    responses((status = 200, body = Vec<DomainObject>), (status = 401, body = ErrorBody)))]
pub async fn list_domains(
    State(app): State<Arc<App>>,
    _: Operator,
) -> Result<Json<Vec<DomainObject>>, ApiError> {
    let domains = app.control.store().domains().await?;
    Ok(Json(
        domains
            .iter()
            .map(|(d, key)| domain_json(&app, d, key.as_deref()))
            .collect(),
    ))
}

/// `PUT /v1/operator/custom-domains/{host}`: maps the host; the answer names the DNS record to
/// create.
#[utoipa::path(put, path = "/v1/operator/custom-domains/{host}", tag = "operator",
    request_body = DomainRequest,
    params(("host" = String, Path, description = "The custom domain")), security(("admin" = [])),
    responses((status = 200, body = DomainObject), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn map_domain(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(host): Path<String>,
    body: Bytes,
) -> Result<Json<DomainObject>, ApiError> {
    let request: DomainRequest = parse_body(&body)?;
    let identifier = request.url_prefix.filter(|p| !p.is_empty());
    app.control
        .map_domain(&host, &request.account_id, identifier.as_deref())
        .await?;
    let host = host.to_ascii_lowercase();
    let store = app.control.store();
    let (record, key) = store
        .domain(&host)
        .await?
        .ok_or_else(|| ApiError::Internal("mapped domain vanished".into()))?;
    Ok(Json(domain_json(&app, &record, key.as_deref())))
}

/// `DELETE /v1/operator/custom-domains/{host}` → 204.
#[utoipa::path(delete, path = "/v1/operator/custom-domains/{host}", tag = "operator",
    params(("host" = String, Path, description = "The custom domain")), security(("admin" = [])),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn unmap_domain(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(host): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.control.unmap_domain(&host).await?;
    Ok(StatusCode::NO_CONTENT)
}
