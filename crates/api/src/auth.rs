//! Who is calling the management API.
//!
//! - HTTP Basic with the account's private key as the user name and any password (the SDKs send
//!   `key:` or `key:do_not_set`): [`Caller`], an extractor every account route takes.
//! - Client-side uploads (a browser holding no private key): `publicKey`, `token`, `expire` and
//!   `signature = hex(HMAC-SHA1(private key, token + expire))` as form fields; the expiry at most
//!   an hour ahead, each token usable once ([`check_upload_signature`]).
//!
//! Keys and signatures are compared in constant time; neither is ever logged.

use super::error::ApiError;
use crate::App;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use std::sync::Arc;

/// The account a request acts for, from its Basic credentials.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let caller = if let Some(key) = basic_user(&parts.headers)? {
            account_by_private_key(app, &key)?
        } else {
            match dashboard_session(app, &parts.headers).await? {
                Some(session) => session_account(&session)?,
                None => {
                    return Err(ApiError::Unauthorized(
                        "missing credentials: use HTTP Basic with your private key as the user \
                         name"
                            .into(),
                    ));
                }
            }
        };
        // The access line names the account the request acted for.
        if let Some(slot) = parts
            .extensions
            .get::<pixelway_delivery::access_log::AccountSlot>()
        {
            slot.set(&caller.account);
        }
        Ok(caller)
    }
}

/// The dashboard session a request without `Authorization` carries, checked: the session
/// cookie must open a live session, and the `X-CSRF-Token` header must be its token. `None`
/// without a session cookie.
pub async fn dashboard_session(
    app: &App,
    headers: &HeaderMap,
) -> Result<Option<crate::session::Session>, ApiError> {
    use crate::session;
    if session::cookie(headers, session::SESSION_COOKIE).is_none() {
        return Ok(None);
    }
    let session = session::current(app, headers).await.ok_or_else(|| {
        ApiError::Unauthorized("the dashboard session has ended: sign in again".into())
    })?;
    let presented = headers
        .get(session::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !session.csrf_matches(presented) {
        return Err(ApiError::Forbidden(
            "a dashboard session's requests must carry its X-CSRF-Token".into(),
        ));
    }
    Ok(Some(session))
}

/// The account of a dashboard session; the operator's session has none.
pub fn session_account(session: &crate::session::Session) -> Result<Caller, ApiError> {
    session
        .account
        .clone()
        .map(|account| Caller { account })
        .ok_or_else(|| {
            ApiError::Forbidden("the operator's session has no account: sign in to one".into())
        })
}

/// The user name of `Authorization: Basic …`; `None` without the header.
pub fn basic_user(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed =
        || ApiError::Unauthorized("Authorization is not valid HTTP Basic credentials".into());
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
    Ok(Some(user.to_string()))
}

/// The account whose private key is `key`.
pub fn account_by_private_key(app: &App, key: &str) -> Result<Caller, ApiError> {
    let catalog = app.control.catalog();
    catalog
        .account_by_private_key(key)
        .map(|account| Caller {
            account: account.record.id.clone(),
        })
        .ok_or_else(|| ApiError::Unauthorized("the private key is not valid".into()))
}

/// The fields of a client-side upload signature.
#[derive(Debug, Default, Clone)]
pub struct UploadSignature {
    pub public_key: String,
    pub token: String,
    pub expire: String,
    pub signature: String,
}

impl UploadSignature {
    /// All four fields are in (they may come anywhere in the form).
    pub fn is_complete(&self) -> bool {
        [&self.public_key, &self.token, &self.expire, &self.signature]
            .iter()
            .all(|field| !field.is_empty())
    }
}

/// Checks a client-side upload signature; marks its token used.
pub async fn check_upload_signature(
    app: &App,
    fields: &UploadSignature,
    now: i64,
) -> Result<Caller, ApiError> {
    let unauthorized = |why: &str| ApiError::Unauthorized(why.to_string());
    if fields.public_key.is_empty() {
        return Err(unauthorized(
            "missing credentials: use HTTP Basic with your private key as the user name, or a \
             client-side upload signature (publicKey, token, expire, signature)",
        ));
    }
    if fields.token.is_empty() || fields.signature.is_empty() || fields.expire.is_empty() {
        return Err(unauthorized(
            "client-side upload needs publicKey, token, expire and signature",
        ));
    }
    let (account, private_key) = {
        let catalog = app.control.catalog();
        let account = catalog
            .account_by_public_key(&fields.public_key)
            .ok_or_else(|| unauthorized("publicKey is not valid"))?;
        (
            account.record.id.clone(),
            account.record.private_key.clone(),
        )
    };
    use pixelway_route::upload_signature::{self, UploadSignatureError};
    let expire = upload_signature::verify(
        &private_key,
        &fields.token,
        &fields.expire,
        &fields.signature,
        now,
    )
    .map_err(|e| match e {
        UploadSignatureError::MalformedExpire | UploadSignatureError::TooFarAhead => {
            ApiError::bad(e.to_string())
        }
        UploadSignatureError::Expired | UploadSignatureError::Invalid => {
            ApiError::Unauthorized(e.to_string())
        }
    })?;
    // The token as sent is what is marked used: with `expire` in its one spelling, one
    // signature is one (token, expire) pair.
    if !app
        .control
        .store()
        .use_upload_token(&account, &fields.token, expire)
        .await?
    {
        return Err(unauthorized(
            "this upload token was used before: each token authorises one upload",
        ));
    }
    Ok(Caller { account })
}
