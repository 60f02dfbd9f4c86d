//! The Media Library: folders, a grid of thumbnails (pixelway's own transformation URLs),
//! upload (drag and drop, several files, with progress), and a file's details page with its
//! URL, tags, delete and purge. Changes are the page's calls to the files API.

use super::error::{DashboardError, render};
use super::shell::{Shell, account_of, delivery_base};
use crate::shell::SignedIn;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use pixelway_api::App;
use pixelway_api::json::file_url;
use pixelway_control::validate;
use pixelway_store::{FileList, FileRecord, FileSort, ListKind, Listed};
use serde::Deserialize;
use std::sync::Arc;

/// Most entries one folder page shows.
const PAGE_SIZE: usize = 500;
/// The thumbnail transformation: fits a 320 px square, light quality.
const THUMBNAIL: &str = "tr:w-320,h-320,c-at_max,q-70";

struct FolderTile {
    name: String,
    path: String,
}

struct FileTile {
    id: String,
    name: String,
    /// Empty when no thumbnail can be shown (private files, non-images).
    thumbnail: String,
    label: String,
    private: bool,
}

/// One step of the breadcrumb trail.
struct Crumb {
    name: String,
    path: String,
}

#[derive(Template)]
#[template(path = "dashboard/library.html")]
struct BrowsePage {
    shell: Shell,
    folder: String,
    crumbs: Vec<Crumb>,
    folders: Vec<FolderTile>,
    files: Vec<FileTile>,
    truncated: bool,
}

#[derive(Deserialize, Default)]
pub struct FolderQuery {
    folder: Option<String>,
}

/// `GET /dashboard/library?folder=/a/b/`.
pub async fn browse(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    Query(query): Query<FolderQuery>,
) -> Result<Response, DashboardError> {
    let account = account_of(&session)?;
    let folder = validate::folder_path(query.folder.as_deref().unwrap_or("/"))
        .map_err(|e| DashboardError::BadRequest(e.to_string()))?;
    let request = FileList {
        folder: Some(folder.clone()),
        kind: ListKind::All,
        sort: FileSort::parse("ASC_NAME").expect("a known sort"),
        limit: PAGE_SIZE + 1,
        ..FileList::default()
    };
    let listed = app.control.store().list_files(account, &request).await?;
    let signer = Signer::of(&app, account);
    let truncated = listed.len() > PAGE_SIZE;
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for entry in listed.into_iter().take(PAGE_SIZE) {
        match entry {
            Listed::Folder(f) => folders.push(FolderTile {
                name: f.name,
                path: f.path,
            }),
            Listed::File(file) => files.push(tile(&signer, account, &file)),
        }
    }
    render(BrowsePage {
        shell: Shell::new("Media Library", "library", &session),
        crumbs: crumbs(&folder),
        folder,
        folders,
        files,
        truncated,
    })
}

fn tile(signer: &Signer, account: &str, file: &FileRecord) -> FileTile {
    FileTile {
        id: file.id.clone(),
        name: file.name.clone(),
        thumbnail: preview_url(signer, account, THUMBNAIL, file),
        label: if file.is_private {
            "private".to_string()
        } else {
            file.format.to_uppercase()
        },
        private: file.is_private,
    }
}

/// Signs the dashboard's own previews of private files with the account's key, valid until the
/// end of the next hour (so a page reloaded within the hour asks for the same, cached URLs).
pub struct Signer {
    private_key: Option<String>,
}

impl Signer {
    pub fn of(app: &App, account: &str) -> Self {
        Self {
            private_key: app
                .control
                .catalog()
                .account(account)
                .map(|a| a.record.private_key.clone()),
        }
    }

    /// `unsigned` (the target after the endpoint prefix) with `ik-t` and `ik-s`.
    fn sign(&self, unsigned: &str) -> Option<String> {
        let key = self.private_key.as_deref()?;
        let expires = (pixelway_control::now_unix().max(0) as u64 / 3600 + 2) * 3600;
        let signature = pixelway_route::signature::sign(key, unsigned, expires);
        Some(format!("{unsigned}?ik-t={expires}&ik-s={signature}"))
    }
}

/// A preview of an image file through a transformation; signed for private files; empty for
/// files that are not images.
fn preview_url(signer: &Signer, account: &str, transformation: &str, file: &FileRecord) -> String {
    if file.file_type != "image" {
        return String::new();
    }
    if !file.is_private {
        return transformed_url(account, transformation, &file.path);
    }
    let unsigned = format!(
        "{transformation}/{}",
        pixelway_api::json::encode_path(file.path.trim_start_matches('/'))
    );
    signer
        .sign(&unsigned)
        .map(|signed| format!("/{account}/{signed}"))
        .unwrap_or_default()
}

/// `/{account}/{transformation}/{path}` on this host (the default endpoint).
pub fn transformed_url(account: &str, transformation: &str, path: &str) -> String {
    format!(
        "/{account}/{transformation}/{}",
        pixelway_api::json::encode_path(path.trim_start_matches('/'))
    )
}

/// `/a/b/` → Library, a, b.
fn crumbs(folder: &str) -> Vec<Crumb> {
    let mut trail = vec![Crumb {
        name: "Media Library".into(),
        path: "/".into(),
    }];
    let mut path = String::from("/");
    for part in folder.split('/').filter(|p| !p.is_empty()) {
        path.push_str(part);
        path.push('/');
        trail.push(Crumb {
            name: part.to_string(),
            path: path.clone(),
        });
    }
    trail
}

#[derive(Template)]
#[template(path = "dashboard/file.html")]
struct FilePage {
    shell: Shell,
    file: FileRecord,
    folder: String,
    url: String,
    preview: String,
    size: String,
    tags: String,
}

/// `GET /dashboard/library/files/{id}`.
pub async fn file(
    State(app): State<Arc<App>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, DashboardError> {
    let account = account_of(&session)?;
    let file = app.control.store().file_by_id(account, &id).await?;
    let path = file.path.trim_start_matches('/').to_string();
    let folder = match path.rsplit_once('/') {
        Some((parent, _)) => format!("/{parent}/"),
        None => "/".to_string(),
    };
    render(FilePage {
        shell: Shell::new(file.name.clone(), "library", &session),
        url: file_url(&delivery_base(&app, &headers), account, &path),
        preview: preview_url(
            &Signer::of(&app, account),
            account,
            "tr:w-960,h-720,c-at_max",
            &file,
        ),
        size: human_size(file.size),
        tags: file.tags.join(", "),
        folder,
        file,
    })
}

/// `1536` → `1.5 KB`.
pub fn human_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    match bytes {
        b if b < 1024.0 => format!("{b} B"),
        b if b < 1024.0 * 1024.0 => format!("{:.1} KB", b / 1024.0),
        b => format!("{:.1} MB", b / 1024.0 / 1024.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crumbs_lead_from_the_library_to_the_folder() {
        let trail: Vec<_> = crumbs("/a/b/").into_iter().map(|c| c.path).collect();
        assert_eq!(trail, ["/", "/a/", "/a/b/"]);
        assert_eq!(human_size(1536), "1.5 KB");
    }
}
