//! Named transformations: the list, and a form to add or edit one with a live preview on a
//! sample image of the Media Library. Saving is the page's call to
//! `/v1/named-transformations`.

use super::error::{DashboardError, render};
use super::shell::{Shell, account_of};
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use pixelway_api::App;
use pixelway_store::{FileList, FileSort, ListKind, Listed, NamedTransformation};
use std::sync::Arc;

#[derive(Template)]
#[template(path = "dashboard/named.html")]
struct NamedPage {
    shell: Shell,
    named: Vec<NamedTransformation>,
    /// `/{account}/` and the sample's encoded path: the preview is `{base}tr:{text}/{sample}`.
    preview_base: String,
    sample: String,
}

/// `GET /dashboard/named`.
pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
) -> Result<Response, DashboardError> {
    let account = account_of(&session)?;
    let store = app.control.store();
    let named = store.named_transformations_of(account).await?;
    let request = FileList {
        file_type: Some("image".into()),
        kind: ListKind::Files,
        sort: FileSort::parse("ASC_CREATED").expect("a known sort"),
        limit: 20,
        ..FileList::default()
    };
    let sample = store
        .list_files(account, &request)
        .await?
        .into_iter()
        .find_map(|entry| match entry {
            Listed::File(file) if !file.is_private => Some(file.path),
            _ => None,
        })
        .map(|path| pixelway_api::json::encode_path(path.trim_start_matches('/')))
        .unwrap_or_default();
    render(NamedPage {
        shell: Shell::new("Named transformations", "named", &session),
        named,
        preview_base: format!("/{account}/"),
        sample,
    })
}
