//! The sign-in page (an account id and its private key, or the operator's admin token) and
//! sign-out. See [`pixelway_api::session`] for the cookies and limits behind them.

use super::error::{DashboardError, render};
use super::shell::Shell;
use crate::shell::SignedIn;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pixelway_api::App;
use pixelway_api::session::{self, SignInRefused};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage {
    shell: Shell,
    operator: bool,
    account: String,
    next: String,
    csrf: String,
    error: String,
}

/// `?next=` (where to go after) and `?as=operator`.
#[derive(Deserialize, Default)]
pub struct SignInQuery {
    next: Option<String>,
    #[serde(rename = "as")]
    role: Option<String>,
}

/// Only dashboard paths are followed after sign-in (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with("/dashboard") && !path.contains("//") => path.to_string(),
        _ => "/dashboard".to_string(),
    }
}

/// `GET /dashboard/sign-in`.
pub async fn form(
    State(app): State<Arc<App>>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
) -> Result<Response, DashboardError> {
    let next = safe_next(query.next.as_deref());
    if session::current(&app, &headers).await.is_some() {
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, next)]).into_response());
    }
    let page = SignInPage {
        shell: Shell::bare("Sign in"),
        operator: query.role.as_deref() == Some("operator"),
        account: String::new(),
        next,
        csrf: session::random_token(),
        error: String::new(),
    };
    page_with_token(&app, page, StatusCode::OK)
}

/// The sign-in page, with its double-submit cookie.
fn page_with_token(
    app: &App,
    page: SignInPage,
    status: StatusCode,
) -> Result<Response, DashboardError> {
    let cookie = session::sign_in_cookie(app, &page.csrf);
    let mut response = render(page)?;
    *response.status_mut() = status;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    role: String,
}

/// `POST /dashboard/sign-in`.
pub async fn submit(
    State(app): State<Arc<App>>,
    peer: pixelway_delivery::forwarded::Peer,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, DashboardError> {
    let operator = form.role == "operator";
    let account = form.account.trim().to_string();
    let refuse = |error: String, status: StatusCode| {
        let page = SignInPage {
            shell: Shell::bare("Sign in"),
            operator,
            account: account.clone(),
            next: safe_next(Some(&form.next)),
            csrf: session::random_token(),
            error,
        };
        page_with_token(&app, page, status)
    };
    let expected = session::cookie(&headers, session::SIGN_IN_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected, &form.csrf) {
        return refuse(
            "The form had expired or was not sent from this page. Please try again.".into(),
            StatusCode::FORBIDDEN,
        );
    }
    if !operator && account.is_empty() {
        return refuse("Account ID is required.".into(), StatusCode::BAD_REQUEST);
    }
    let client = pixelway_delivery::forwarded::client_address(
        &headers,
        peer,
        &app.settings().trusted_proxies,
    );
    let who = (!operator).then_some(account.as_str());
    match session::sign_in(&app, who, form.key.trim(), client).await {
        Ok(id) => {
            let mut response = (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, safe_next(Some(&form.next)))],
            )
                .into_response();
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session::session_cookie(&app, &id));
            headers.append(header::SET_COOKIE, session::sign_in_cookie(&app, ""));
            Ok(response)
        }
        Err(SignInRefused::WrongCredentials) => refuse(
            if operator {
                "The admin token is not valid (or server.admin_token is not set).".into()
            } else {
                "The account ID and private key do not match.".into()
            },
            StatusCode::UNAUTHORIZED,
        ),
        Err(SignInRefused::TooMany(wait)) => {
            let mut response = refuse(
                format!(
                    "Too many failed sign-ins from your network. Try again in {}.",
                    if wait.as_secs() < 60 {
                        format!("{} seconds", wait.as_secs().max(1))
                    } else {
                        format!("{} minutes", wait.as_secs().div_ceil(60))
                    }
                ),
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
            Ok(response)
        }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The sign-out form's one field.
#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /dashboard/sign-out`: needs the session's CSRF token.
pub async fn sign_out(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    Form(form): Form<SignOutForm>,
) -> Result<Response, DashboardError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(DashboardError::Forbidden(
            "the form was not sent from a dashboard page (CSRF token missing or wrong)",
        ));
    }
    session::sign_out(&app, &session).await;
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/dashboard/sign-in")],
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::session_cookie(&app, ""));
    Ok(response)
}
