//! Custom domains: the operator maps a host to an account's default endpoint (an alias) or to
//! one endpoint (one-to-one), and sees the DNS record the domain's owner must create; an account
//! sees its own domains, read-only. Mapping is the page's call to
//! `/v1/operator/custom-domains/{host}`.

use super::error::{DashboardError, render};
use super::shell::{Shell, script_json};
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use pixelway_api::App;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Accounts listed in the operator's form with their endpoints; beyond this, ids are typed.
const MAX_LISTED_ACCOUNTS: usize = 2000;

struct DomainRow {
    host: String,
    account: String,
    /// The endpoint identifier, empty for an alias of the default endpoint.
    endpoint: String,
    dns_target: String,
    managed_by: String,
}

#[derive(Template)]
#[template(path = "dashboard/domains.html")]
struct DomainsPage {
    shell: Shell,
    domains: Vec<DomainRow>,
    dns_target: String,
    /// For the operator's form: account id → endpoint identifiers, as JSON.
    accounts: String,
}

/// `GET /dashboard/domains`.
pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
) -> Result<Response, DashboardError> {
    // Without public hosts configured, the host this page was opened on is the best guess.
    let dns_target = match app.control.public_hosts().first() {
        Some(_) => pixelway_api::operator::dns_target(&app),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|host| pixelway_route::normalise_host(host).into_owned())
            .unwrap_or_else(|| pixelway_api::operator::dns_target(&app)),
    };
    let domains = app
        .control
        .store()
        .domains()
        .await?
        .into_iter()
        .filter(|(d, _)| session.is_operator() || session.account.as_deref() == Some(&d.account_id))
        .map(|(d, key)| DomainRow {
            host: d.host,
            account: d.account_id,
            endpoint: d.endpoint_identifier.unwrap_or_default(),
            dns_target: dns_target.clone(),
            managed_by: key.unwrap_or_default(),
        })
        .collect();
    let accounts = if session.is_operator() {
        let catalog = app.control.catalog();
        let listed: BTreeMap<&str, Vec<&str>> = catalog
            .accounts()
            .take(MAX_LISTED_ACCOUNTS)
            .map(|account| {
                let mut identifiers: Vec<&str> = account
                    .endpoints
                    .keys()
                    .map(String::as_str)
                    .filter(|i| !i.is_empty())
                    .collect();
                identifiers.sort_unstable();
                (account.record.id.as_str(), identifiers)
            })
            .collect();
        script_json(&listed)
    } else {
        "{}".to_string()
    };
    render(DomainsPage {
        shell: Shell::new("Custom domains", "domains", &session),
        domains,
        dns_target,
        accounts,
    })
}
