//! Dashboard sign-in: sessions, their cookie, CSRF tokens and the limit on failed sign-ins.
//!
//! - A session is opened with an account id and its private key, or by the operator with the
//!   admin token. Its cookie (`pixelway_session`, 32 random bytes) is `HttpOnly`,
//!   `SameSite=Strict`, and `Secure` when `server.public_url` is `https://`. The store keeps
//!   only the cookie's SHA-256, with a fingerprint of the credential used: rotating the key (or
//!   changing the admin token) ends every session opened with the old one.
//! - Every change the dashboard makes carries the session's CSRF token: the sign-out form as a
//!   field, the pages' calls to the management API as the `X-CSRF-Token` header. The sign-in
//!   form, before any session exists, is protected by a double-submit cookie.
//! - Failed sign-ins are limited per client network and account ([`super::limiter`]).

use crate::App;
use axum::http::{HeaderMap, HeaderValue, header};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "pixelway_session";
/// The sign-in form's double-submit cookie.
pub const SIGN_IN_COOKIE: &str = "pixelway_sign_in";
/// The header the pages send their CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Who is signed in.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account; `None` for the operator.
    pub account: Option<String>,
    /// The token every change must carry.
    pub csrf: String,
    id_hash: String,
}

impl Session {
    pub fn is_operator(&self) -> bool {
        self.account.is_none()
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        !presented.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// A fresh random token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The fingerprint of the credential a session is tied to: the account's private key, or the
/// admin token for the operator. `None` when the account is gone or the operator has no token.
fn credential_fingerprint(app: &App, account: Option<&str>) -> Option<String> {
    let credential = match account {
        Some(id) => app
            .control
            .catalog()
            .account(id)?
            .record
            .private_key
            .clone(),
        None if app.settings().admin_token.is_empty() => return None,
        None => app.settings().admin_token.clone(),
    };
    Some(sha256_hex(&format!("pixelway-session\0{credential}"))[..32].to_string())
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The session the request's cookie opens, if any.
pub async fn current(app: &App, headers: &HeaderMap) -> Option<Session> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let id_hash = sha256_hex(id);
    let record = app.control.store().session(&id_hash).await.ok()??;
    let expected = credential_fingerprint(app, record.account_id.as_deref())?;
    if !bool::from(expected.as_bytes().ct_eq(record.key_fingerprint.as_bytes())) {
        return None;
    }
    Some(Session {
        account: record.account_id,
        csrf: record.csrf_token,
        id_hash,
    })
}

/// Why a sign-in was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInRefused {
    /// The id and key (or the admin token) do not match; said the same way for both.
    WrongCredentials,
    /// Too many failures lately; try again after this long.
    TooMany(Duration),
}

/// What the store says `network` must wait before trying `limited_as` (every node's failures;
/// `None` on a store of one node, or when the store cannot be asked).
async fn shared_wait(
    app: &App,
    network: super::limiter::Network,
    limited_as: &str,
) -> Option<Duration> {
    use super::limiter::{MAX_DELAY, PAIR_WINDOW};
    let store = app.control.store();
    if !store.is_shared() {
        return None;
    }
    let now = pixelway_control::now_unix();
    let failures = store
        .sign_in_failures(
            &network.key(),
            limited_as,
            now - PAIR_WINDOW.as_secs() as i64,
            now - MAX_DELAY.as_secs() as i64,
        )
        .await;
    match failures {
        Ok(failures) => super::limiter::shared_wait(&failures, now),
        Err(e) => {
            tracing::warn!(error = %e, "the other nodes' failed sign-ins could not be read");
            None
        }
    }
}

/// Checks the credentials and opens a session; returns the cookie value.
pub async fn sign_in(
    app: &App,
    account: Option<&str>,
    key: &str,
    client: Option<std::net::IpAddr>,
) -> Result<String, SignInRefused> {
    let limiter = &app.sign_ins;
    let network = super::limiter::Network::of(client);
    // The operator signs in as an account of its own for the limiter.
    let limited_as = account.unwrap_or("(operator)");
    let wait = limiter
        .wait(network, limited_as)
        .max(shared_wait(app, network, limited_as).await);
    if let Some(wait) = wait {
        return Err(SignInRefused::TooMany(wait));
    }
    let store = app.control.store();
    if !credentials_match(app, account, key) {
        let recorded = limiter.failed(network, limited_as);
        if recorded
            && store.is_shared()
            && let Err(e) = store
                .record_sign_in_failure(&network.key(), limited_as, pixelway_control::now_unix())
                .await
        {
            tracing::warn!(error = %e, "a failed sign-in was not shared with the other nodes");
        }
        return Err(SignInRefused::WrongCredentials);
    }
    limiter.succeeded(network, limited_as);
    if store.is_shared()
        && let Err(e) = store
            .clear_sign_in_failures(&network.key(), limited_as)
            .await
    {
        tracing::warn!(error = %e, "a sign-in's earlier failures were not cleared");
    }
    let fingerprint =
        credential_fingerprint(app, account).ok_or(SignInRefused::WrongCredentials)?;
    let id = random_token();
    let record = pixelway_store::SessionRecord {
        account_id: account.map(str::to_string),
        csrf_token: random_token(),
        key_fingerprint: fingerprint,
        expires_at: pixelway_control::now_unix() + LIFETIME.as_secs() as i64,
    };
    app.control
        .store()
        .create_session(&sha256_hex(&id), &record)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "dashboard: storing a session failed");
            SignInRefused::WrongCredentials
        })?;
    Ok(id)
}

/// Whether `key` is the account's private key (or, for the operator, the admin token); both
/// compared in constant time.
fn credentials_match(app: &App, account: Option<&str>, key: &str) -> bool {
    match account {
        None => {
            pixelway_control::credentials::admin_token_matches(&app.settings().admin_token, key)
        }
        Some(id) => {
            let catalog = app.control.catalog();
            catalog
                .account_by_private_key(key)
                .is_some_and(|found| found.record.id == id)
        }
    }
}

/// Ends the session (sign-out).
pub async fn sign_out(app: &App, session: &Session) {
    if let Err(e) = app.control.store().delete_session(&session.id_hash).await {
        tracing::error!(error = %e, "dashboard: ending a session failed");
    }
}

/// `Set-Cookie` for a session cookie (`value` empty: removes it).
pub fn session_cookie(app: &App, value: &str) -> HeaderValue {
    let max_age = if value.is_empty() {
        0
    } else {
        LIFETIME.as_secs()
    };
    cookie_header(app, SESSION_COOKIE, value, max_age)
}

/// `Set-Cookie` for the sign-in form's double-submit token.
pub fn sign_in_cookie(app: &App, value: &str) -> HeaderValue {
    cookie_header(app, SIGN_IN_COOKIE, value, 3600)
}

fn cookie_header(app: &App, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = app
        .settings()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).expect("cookie values are hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; pixelway_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
