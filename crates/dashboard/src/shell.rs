//! What every dashboard page shares: the navigation, who is signed in, the CSRF token the
//! page's script sends, and data handed to the script as JSON.

use super::error::DashboardError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pixelway_api::App;
use pixelway_api::session::{self, Session};
use serde::Serialize;
use std::sync::Arc;

/// The page frame: title, the section lit in the navigation, the signed-in identity.
#[derive(Debug, Clone, Default)]
pub struct Shell {
    pub title: String,
    /// `overview`, `endpoints`, `origins`, `library`, `named`, `accounts`, `tester`, `domains`.
    pub section: &'static str,
    /// Who is signed in: an account id, or `operator`; empty on pages outside a session.
    pub identity: String,
    pub operator: bool,
    pub csrf: String,
}

impl Shell {
    /// A page inside a session.
    pub fn new(title: impl Into<String>, section: &'static str, session: &Session) -> Self {
        Self {
            title: title.into(),
            section,
            identity: session
                .account
                .clone()
                .unwrap_or_else(|| "operator".to_string()),
            operator: session.is_operator(),
            csrf: session.csrf.clone(),
        }
    }

    /// A page outside a session (sign-in, errors).
    pub fn bare(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    pub fn signed_in(&self) -> bool {
        !self.identity.is_empty()
    }

    /// The navigation: accounts' sections, then those the operator has too.
    pub fn navigation(&self) -> Vec<NavItem> {
        let mut items = vec![("overview", "Overview", "/dashboard")];
        if !self.operator {
            items.extend([
                ("endpoints", "URL Endpoints", "/dashboard/endpoints"),
                ("origins", "Origins", "/dashboard/origins"),
                ("library", "Media Library", "/dashboard/library"),
                ("named", "Named transformations", "/dashboard/named"),
            ]);
        }
        if self.operator {
            items.push(("accounts", "Accounts", "/dashboard/accounts"));
        }
        items.extend([
            ("tester", "URL tester", "/dashboard/tester"),
            ("domains", "Custom domains", "/dashboard/domains"),
        ]);
        items
            .into_iter()
            .map(|(section, label, path)| NavItem {
                label,
                path,
                active: section == self.section,
            })
            .collect()
    }

    pub fn css(&self) -> &'static str {
        super::assets::url("dashboard.css")
    }

    pub fn js(&self) -> &'static str {
        super::assets::url("dashboard.js")
    }

    pub fn icon(&self) -> &'static str {
        super::assets::url("icon.svg")
    }
}

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub path: &'static str,
    pub active: bool,
}

/// The session of a signed-in page request; a signed-out one is sent to the sign-in page.
pub struct SignedIn(pub Session);

impl FromRequestParts<Arc<App>> for SignedIn {
    type Rejection = DashboardError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/dashboard", |p| p.as_str())
            .to_string();
        session::current(app, &parts.headers)
            .await
            .map(SignedIn)
            .ok_or(DashboardError::SignedOut { next })
    }
}

/// The account a page works on; the operator has none.
pub fn account_of(session: &Session) -> Result<&str, DashboardError> {
    session.account.as_deref().ok_or(DashboardError::Forbidden(
        "this page is an account's: sign in with an account id and its private key",
    ))
}

/// `value` as JSON that is safe inside `<script type="application/json">`.
pub fn script_json(value: &impl Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".to_string())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The URL base delivery URLs are shown with: `server.public_url`, else the host the dashboard
/// was opened on (a public host).
pub fn delivery_base(app: &App, headers: &axum::http::HeaderMap) -> String {
    pixelway_api::base_url(app, headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let text = script_json(&"</script><script>alert(1)</script>&");
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: String = serde_json::from_str(&text).unwrap();
        assert_eq!(back, "</script><script>alert(1)</script>&");
    }
}
