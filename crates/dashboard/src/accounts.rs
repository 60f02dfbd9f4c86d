//! Accounts (operator only): find an account by id, create one (its keys are shown once), rotate
//! an account's keys (shown once; its sessions and signed URLs end), delete one with everything
//! in it. The changes are the page's calls to `/v1/operator/accounts`.

use super::error::{DashboardError, render};
use super::shell::Shell;
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use pixelway_api::App;
use pixelway_store::AccountSummary;
use serde::Deserialize;
use std::sync::Arc;

/// Accounts one page lists.
const PAGE: usize = 200;

#[derive(Template)]
#[template(path = "dashboard/accounts.html")]
struct AccountsPage {
    shell: Shell,
    query: String,
    accounts: Vec<AccountSummary>,
    /// More match than the page shows.
    more: bool,
    total: usize,
}

#[derive(Deserialize, Default)]
pub struct AccountsQuery {
    q: Option<String>,
}

/// `GET /dashboard/accounts?q=…`.
pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    Query(query): Query<AccountsQuery>,
) -> Result<Response, DashboardError> {
    if !session.is_operator() {
        return Err(DashboardError::Forbidden(
            "accounts are the operator's: sign in with the admin token",
        ));
    }
    let text = query.q.unwrap_or_default().trim().to_string();
    let mut accounts = app
        .control
        .store()
        .accounts_matching(&text, PAGE + 1)
        .await?;
    let more = accounts.len() > PAGE;
    accounts.truncate(PAGE);
    render(AccountsPage {
        shell: Shell::new("Accounts", "accounts", &session),
        query: text,
        accounts,
        more,
        total: app.control.catalog().account_count(),
    })
}
