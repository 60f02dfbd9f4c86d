//! Files: list and search (`GET /v1/files`), details, update, delete, bulk delete, tags, copy,
//! move, rename — ImageKit's paths and JSON shapes. Every change goes through
//! the control plane, so bytes, records and caches change together.

use super::auth::Caller;
use super::error::ApiError;
use super::json::{self, EmptyObject, ErrorBody, FileObject, ListItem, parse_body};
use crate::App;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use pixelway_control::validate;
use pixelway_store::{FileChanges, FileList, FileSort, ListKind, Listed};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Most files one listing returns (ImageKit's maximum).
const MAX_LIMIT: usize = 1000;
/// The deepest page: each listing reads `skip + limit` rows, so skip is bounded too.
const MAX_SKIP: usize = 100_000;
/// Most files one bulk request names.
const MAX_BULK: usize = 100;

/// The query of `GET /v1/files` (read by hand, so that an unknown or malformed parameter is
/// named in the error).
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Only what is directly in this folder (`/a/b`).
    path: Option<String>,
    /// ImageKit's search language (docs/api.md).
    search_query: Option<String>,
    /// `all`, `image` or `non-image`.
    file_type: Option<String>,
    /// `file`, `folder` or `all`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// `ASC_` or `DESC_` with `NAME`, `CREATED`, `UPDATED`, `HEIGHT`, `WIDTH`, `SIZE`.
    sort: Option<String>,
    skip: Option<u64>,
    /// 1–1000.
    limit: Option<u64>,
    /// Older form: a file name.
    name: Option<String>,
    /// Older form: comma-joined tags.
    tags: Option<String>,
    /// Older form: `true` lists folders too.
    include_folder: Option<bool>,
}

/// `GET /v1/files`.
#[utoipa::path(get, path = "/v1/files", tag = "files", params(ListParams),
    security(("basic" = [])),
    responses((status = 200, description = "Files and folders", body = Vec<ListItem>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ListItem>>, ApiError> {
    let request = list_request(query.as_deref().unwrap_or(""))?;
    let listed = app
        .control
        .store()
        .list_files(&caller.account, &request)
        .await?;
    let base = super::base_url(&app, &headers);
    Ok(Json(
        listed
            .iter()
            .map(|item| match item {
                Listed::File(file) => ListItem::File(Box::new(json::file(file, &base))),
                Listed::Folder(folder) => ListItem::Folder(json::folder(folder)),
            })
            .collect(),
    ))
}

/// The listing parameters from the query string; an unknown or malformed one is named.
fn list_request(query: &str) -> Result<FileList, ApiError> {
    let mut request = FileList {
        sort: FileSort::parse("ASC_CREATED").expect("a known sort"),
        limit: MAX_LIMIT,
        ..FileList::default()
    };
    let mut name = None;
    let mut tags = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let number = |what: &str| -> Result<usize, ApiError> {
            value
                .parse()
                .map_err(|_| ApiError::bad(format!("{what} must be a whole number, not {value:?}")))
        };
        match key.as_ref() {
            "path" if !value.is_empty() => {
                request.folder = Some(validate::folder_path(&value)?);
            }
            "path" => {}
            "searchQuery" if !value.trim().is_empty() => {
                request.search = Some(value.to_string());
            }
            "searchQuery" => {}
            "fileType" => {
                request.file_type = match value.as_ref() {
                    "all" | "" => None,
                    "image" | "non-image" => Some(value.to_string()),
                    other => {
                        return Err(ApiError::bad(format!(
                            "fileType must be all, image or non-image, not {other:?}"
                        )));
                    }
                }
            }
            "type" => {
                request.kind = match value.as_ref() {
                    "file" | "" => ListKind::Files,
                    "folder" => ListKind::Folders,
                    "all" => ListKind::All,
                    "file-version" => ListKind::Files,
                    other => {
                        return Err(ApiError::bad(format!(
                            "type must be file, file-version, folder or all, not {other:?}"
                        )));
                    }
                }
            }
            "sort" => {
                request.sort = FileSort::parse(&value).ok_or_else(|| {
                    ApiError::bad(format!(
                        "sort must be ASC_ or DESC_ with NAME, CREATED, UPDATED, HEIGHT, WIDTH \
                         or SIZE, not {value:?}"
                    ))
                })?;
            }
            "skip" => {
                request.skip = number("skip")?;
                if request.skip > MAX_SKIP {
                    return Err(ApiError::bad(format!(
                        "skip must be at most {MAX_SKIP}: narrow the listing with path or \
                         searchQuery instead"
                    )));
                }
            }
            "limit" => {
                request.limit = number("limit")?;
                if !(1..=MAX_LIMIT).contains(&request.limit) {
                    return Err(ApiError::bad(format!(
                        "limit must be between 1 and {MAX_LIMIT}"
                    )));
                }
            }
            "name" => name = Some(value.to_string()),
            "tags" => tags = Some(value.to_string()),
            "includeFolder" => {
                if value == "true" {
                    request.kind = ListKind::All;
                }
            }
            other => return Err(ApiError::bad(format!("unknown query parameter {other:?}"))),
        }
    }
    // The older `name` and `tags` parameters, as a search when no searchQuery is given.
    if request.search.is_none() {
        let mut parts = Vec::new();
        if let Some(name) = name {
            parts.push(format!("name = {}", quoted(&name)));
        }
        if let Some(tags) = tags {
            let list: Vec<String> = tags.split(',').map(|t| quoted(t.trim())).collect();
            parts.push(format!("tags IN [{}]", list.join(", ")));
        }
        if !parts.is_empty() {
            request.search = Some(parts.join(" AND "));
        }
    }
    Ok(request)
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `GET /v1/files/{id}/details`.
#[utoipa::path(get, path = "/v1/files/{id}/details", tag = "files",
    params(("id" = String, Path, description = "The file's id")), security(("basic" = [])),
    responses((status = 200, body = FileObject), (status = 404, body = ErrorBody)))]
pub async fn details(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<FileObject>, ApiError> {
    let file = app.control.store().file_by_id(&caller.account, &id).await?;
    Ok(Json(json::file(&file, &super::base_url(&app, &headers))))
}

/// What `PATCH /v1/files/{id}/details` changes; fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBody {
    /// `null` removes every tag.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    tags: Option<Option<Vec<String>>>,
    /// Replaces the custom metadata; a key set to `null` is left out.
    #[schema(value_type = Option<Object>)]
    custom_metadata: Option<serde_json::Map<String, Value>>,
    description: Option<String>,
    /// `x,y,width,height`; `null` removes them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    custom_coordinates: Option<Option<String>>,
    /// Accepted for SDK compatibility; pixelway makes no AI tags.
    #[serde(rename = "removeAITags")]
    #[schema(value_type = Option<Object>)]
    remove_ai_tags: Option<Value>,
    /// Accepted for SDK compatibility; every file is published.
    #[schema(value_type = Option<Object>)]
    publish: Option<Value>,
    /// Must be empty: pixelway runs no extensions.
    #[schema(value_type = Option<Vec<Object>>)]
    extensions: Option<Vec<Value>>,
    webhook_url: Option<String>,
}

/// A field that may be sent as `null` (to clear it): present → `Some(value or None)`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /v1/files/{id}/details`.
#[utoipa::path(patch, path = "/v1/files/{id}/details", tag = "files", request_body = UpdateBody,
    params(("id" = String, Path, description = "The file's id")), security(("basic" = [])),
    responses((status = 200, body = FileObject), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn update(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<FileObject>, ApiError> {
    let body: UpdateBody = parse_body(&body)?;
    let _ = (&body.remove_ai_tags, &body.publish, &body.webhook_url);
    if body.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
        return Err(ApiError::bad("extensions are not supported by pixelway"));
    }
    let tags = body.tags.map(Option::unwrap_or_default);
    let custom_coordinates = match body.custom_coordinates {
        Some(value) => Some(super::custom_coordinates(value.as_ref())?),
        None => None,
    };
    let changes = FileChanges {
        tags,
        custom_metadata: body
            .custom_metadata
            .map(|m| m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        description: body.description,
        custom_coordinates,
    };
    let file = app
        .control
        .update_file(&caller.account, &id, changes)
        .await?;
    Ok(Json(json::file(&file, &super::base_url(&app, &headers))))
}

/// `DELETE /v1/files/{id}` → 204.
#[utoipa::path(delete, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "The file's id")), security(("basic" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let deleted = app
        .control
        .delete_files(&caller.account, std::slice::from_ref(&id))
        .await?;
    if deleted.is_empty() {
        return Err(ApiError::NotFound(format!("file {id:?} not found")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Files named by id.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileIds {
    /// 1 to 100 ids.
    file_ids: Vec<String>,
}

/// The answer of a bulk delete.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedIds {
    successfully_deleted_file_ids: Vec<String>,
}

/// The answer of a bulk tag change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedIds {
    successfully_updated_file_ids: Vec<String>,
}

fn bulk_ids(ids: Vec<String>) -> Result<Vec<String>, ApiError> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::bad(format!(
            "fileIds must name 1 to {MAX_BULK} files"
        )));
    }
    Ok(ids)
}

/// `POST /v1/files/batch/deleteByFileIds`: every id must be the caller's (404 naming the first
/// that is not, and nothing deleted).
#[utoipa::path(post, path = "/v1/files/batch/deleteByFileIds", tag = "files",
    request_body = FileIds, security(("basic" = [])),
    responses((status = 200, body = DeletedIds), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn bulk_delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<DeletedIds>, ApiError> {
    let ids = bulk_ids(parse_body::<FileIds>(&body)?.file_ids)?;
    for id in &ids {
        app.control.store().file_by_id(&caller.account, id).await?;
    }
    let deleted = app.control.delete_files(&caller.account, &ids).await?;
    Ok(Json(DeletedIds {
        successfully_deleted_file_ids: deleted,
    }))
}

/// Tags to add to or remove from files.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagsBody {
    file_ids: Vec<String>,
    tags: Vec<String>,
}

/// `POST /v1/files/addTags`.
#[utoipa::path(post, path = "/v1/files/addTags", tag = "files", request_body = TagsBody,
    security(("basic" = [])),
    responses((status = 200, body = UpdatedIds), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn add_tags(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<UpdatedIds>, ApiError> {
    retag(&app, &caller, &body, true).await
}

/// `POST /v1/files/removeTags`.
#[utoipa::path(post, path = "/v1/files/removeTags", tag = "files", request_body = TagsBody,
    security(("basic" = [])),
    responses((status = 200, body = UpdatedIds), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn remove_tags(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<UpdatedIds>, ApiError> {
    retag(&app, &caller, &body, false).await
}

async fn retag(
    app: &App,
    caller: &Caller,
    body: &[u8],
    add: bool,
) -> Result<Json<UpdatedIds>, ApiError> {
    let body: TagsBody = parse_body(body)?;
    let ids = bulk_ids(body.file_ids)?;
    let (add, remove) = if add {
        (body.tags, Vec::new())
    } else {
        (Vec::new(), body.tags)
    };
    let changed = app
        .control
        .retag_files(&caller.account, &ids, add, remove)
        .await?;
    Ok(Json(UpdatedIds {
        successfully_updated_file_ids: changed,
    }))
}

/// A file to copy and the folder it goes to.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyBody {
    source_file_path: String,
    destination_path: String,
    /// pixelway keeps no older versions; accepted and ignored.
    include_file_versions: Option<bool>,
}

/// A file path from the API (`/a/b.jpg`) as a library path (`a/b.jpg`), checked.
fn library_path(field: &str, path: &str) -> Result<String, ApiError> {
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let folder = validate::folder_path(folder)?;
    validate::file_name(name).map_err(|e| ApiError::bad(format!("{field}: {e}")))?;
    Ok(format!("{}{name}", &folder[1..]))
}

/// `POST /v1/files/copy` → 204.
#[utoipa::path(post, path = "/v1/files/copy", tag = "files", request_body = CopyBody,
    security(("basic" = [])),
    responses((status = 204, description = "Copied"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn copy(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CopyBody = parse_body(&body)?;
    let _ = body.include_file_versions;
    let source = library_path("sourceFilePath", &body.source_file_path)?;
    let folder = validate::folder_path(&body.destination_path)?;
    app.control
        .copy_file(&caller.account, &source, &folder)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A file to move and the folder it goes to.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveBody {
    source_file_path: String,
    destination_path: String,
}

/// `POST /v1/files/move` → 204.
#[utoipa::path(post, path = "/v1/files/move", tag = "files", request_body = MoveBody,
    security(("basic" = [])),
    responses((status = 204, description = "Moved"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn move_file(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: MoveBody = parse_body(&body)?;
    let source = library_path("sourceFilePath", &body.source_file_path)?;
    let folder = validate::folder_path(&body.destination_path)?;
    app.control
        .move_file(&caller.account, &source, &folder)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A file and its new name (same folder).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenameBody {
    file_path: String,
    new_file_name: String,
    purge_cache: Option<bool>,
}

/// `PUT /v1/files/rename`.
#[utoipa::path(put, path = "/v1/files/rename", tag = "files", request_body = RenameBody,
    security(("basic" = [])),
    responses((status = 200, body = EmptyObject), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rename(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<EmptyObject>, ApiError> {
    let body: RenameBody = parse_body(&body)?;
    let _ = body.purge_cache; // the old path's cached copies are always dropped
    let source = library_path("filePath", &body.file_path)?;
    app.control
        .rename_file(&caller.account, &source, &body.new_file_name)
        .await?;
    Ok(Json(EmptyObject::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_checked_by_name() {
        let request =
            list_request("path=%2Fproducts&limit=10&skip=5&sort=DESC_SIZE&type=all").unwrap();
        assert_eq!(request.folder.as_deref(), Some("/products/"));
        assert_eq!((request.limit, request.skip), (10, 5));
        // The fuzzer's 500: a skip past every bound is a 400 naming it.
        for skip in ["9223372036854775808", "100001", "18446744073709551616"] {
            let message = list_request(&format!("skip={skip}"))
                .unwrap_err()
                .to_string();
            assert!(message.contains("skip"), "{skip}: {message}");
        }
        assert_eq!(list_request("skip=100000").unwrap().skip, 100_000);
        assert_eq!(request.kind, ListKind::All);
        for (query, says) in [
            ("limit=0", "limit must be between"),
            ("limit=x", "limit must be a whole number"),
            ("sort=UP", "sort must be"),
            ("fileType=video", "fileType must be"),
            ("colour=red", "unknown query parameter \"colour\""),
            ("path=/a/../b", "folder"),
        ] {
            let error = list_request(query).unwrap_err().to_string();
            assert!(error.contains(says), "{query}: {error}");
        }
        let legacy = list_request("name=a%22b.jpg&tags=x,y").unwrap();
        assert_eq!(
            legacy.search.as_deref(),
            Some(r#"name = "a\"b.jpg" AND tags IN ["x", "y"]"#)
        );
    }
}
