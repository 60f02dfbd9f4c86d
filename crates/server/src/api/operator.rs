//! The operator API (pixelway's own, under `/v1/operator/`), for whoever runs the server:
//! accounts (create with generated keys, rotate keys, delete with all their data) and custom
//! domains (map a host to an account's default endpoint or to one endpoint; unmap). It takes
//! `Authorization: Bearer <server.admin_token>`; an account's key is no operator credential, so
//! accounts cannot map domains.

use super::error::ApiError;
use super::json::parse_body;
use super::origin_json::managed_by;
use crate::app::App;
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// A request made with the operator's token.
pub struct Operator;

impl FromRequestParts<Arc<App>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        if app.settings.admin_token.is_empty() {
            return Err(ApiError::Forbidden(
                "the operator API is off: set server.admin_token".into(),
            ));
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
        if !crate::auth::admin_token_matches(&app.settings.admin_token, token.trim()) {
            return Err(ApiError::Unauthorized(
                "the admin token is not valid".into(),
            ));
        }
        Ok(Operator)
    }
}

/// A new random key: `prefix` and 32 letters and digits.
fn new_key(prefix: &str) -> String {
    use rand::Rng;
    let random: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    format!("{prefix}{random}")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    id: String,
}

/// `GET /v1/operator/accounts`: ids and public keys (private keys are shown once, when made).
pub async fn list_accounts(
    State(app): State<Arc<App>>,
    _: Operator,
) -> Result<Json<Value>, ApiError> {
    let accounts = app.control.store().accounts().await?;
    Ok(Json(
        accounts
            .iter()
            .map(|a| json!({ "id": a.id, "publicKey": a.public_key, "managedBy": managed_by(a.managed_by.as_deref()) }))
            .collect(),
    ))
}

/// `POST /v1/operator/accounts {"id"}` → 201 with the generated keys.
pub async fn create_account(
    State(app): State<Arc<App>>,
    _: Operator,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: NewAccount = parse_body(&body)?;
    let (private_key, public_key) = (new_key("private_"), new_key("public_"));
    app.control
        .store()
        .create_account(&request.id, &private_key, &public_key)
        .await?;
    app.reload_account(&request.id).await?;
    let body = json!({ "id": request.id, "privateKey": private_key, "publicKey": public_key });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /v1/operator/accounts/{id}/keys`: new keys; URLs signed with the old private key stop
/// working at once.
pub async fn rotate_keys(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (private_key, public_key) = (new_key("private_"), new_key("public_"));
    app.control
        .store()
        .rotate_account_keys(&id, &private_key, &public_key)
        .await?;
    app.reload_account(&id).await?;
    Ok(Json(
        json!({ "id": id, "privateKey": private_key, "publicKey": public_key }),
    ))
}

/// `DELETE /v1/operator/accounts/{id}` → 204: the account, its entities, its file records and
/// its Media Library's bytes.
pub async fn delete_account(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.control.store().delete_account(&id).await?;
    app.reload_account(&id).await?;
    app.control.media().remove_account(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DomainRequest {
    account_id: String,
    /// An endpoint's identifier (one-to-one); absent or empty: alias of the default endpoint.
    url_prefix: Option<String>,
}

fn domain_json(app: &App, record: &pixelway_store::DomainRecord, key: Option<&str>) -> Value {
    let target = app
        .control
        .public_hosts()
        .first()
        .cloned()
        .unwrap_or_else(|| "<this server's public host>".into());
    json!({
        "host": record.host,
        "accountId": record.account_id,
        "urlPrefix": record.endpoint_identifier,
        "dnsRecord": { "type": "CNAME", "name": record.host, "value": target },
        "managedBy": managed_by(key),
    })
}

/// `GET /v1/operator/custom-domains`.
pub async fn list_domains(
    State(app): State<Arc<App>>,
    _: Operator,
) -> Result<Json<Value>, ApiError> {
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
pub async fn map_domain(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(host): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: DomainRequest = parse_body(&body)?;
    pixelway_store::validate::domain_host(&host)?;
    let host = host.to_ascii_lowercase();
    if app
        .control
        .public_hosts()
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&host))
    {
        return Err(ApiError::bad(format!(
            "{host:?} is a public host (server.public_hosts), not a custom domain"
        )));
    }
    let identifier = request.url_prefix.filter(|p| !p.is_empty());
    let store = app.control.store();
    let previous_owner = owner_of(&app, &host).await?;
    store
        .map_domain(&host, &request.account_id, identifier.as_deref())
        .await
        .map_err(|e| match e {
            pixelway_store::StoreError::NotFound { what, name } => {
                ApiError::bad(format!("{what} {name:?} not found"))
            }
            other => other.into(),
        })?;
    if let Some(previous) = previous_owner.filter(|p| *p != request.account_id) {
        app.reload_account(&previous).await?;
    }
    app.reload_account(&request.account_id).await?;
    let domains = store.domains().await?;
    let (record, key) = domains
        .iter()
        .find(|(d, _)| d.host == host)
        .ok_or_else(|| ApiError::Internal("mapped domain vanished".into()))?;
    Ok(Json(domain_json(&app, record, key.as_deref())))
}

/// `DELETE /v1/operator/custom-domains/{host}` → 204.
pub async fn unmap_domain(
    State(app): State<Arc<App>>,
    _: Operator,
    Path(host): Path<String>,
) -> Result<StatusCode, ApiError> {
    let owner = owner_of(&app, &host).await?;
    app.control.store().unmap_domain(&host).await?;
    if let Some(owner) = owner {
        app.reload_account(&owner).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The account a custom domain is mapped to now, if any.
async fn owner_of(app: &App, host: &str) -> Result<Option<String>, ApiError> {
    let host = host.to_ascii_lowercase();
    Ok(app
        .control
        .store()
        .domains()
        .await?
        .into_iter()
        .find(|(d, _)| d.host == host)
        .map(|(d, _)| d.account_id))
}
