//! Folders: create and delete (`/v1/folder`), and copy, move and rename as ImageKit's bulk
//! jobs (`/v1/bulkJobs/…`, answered with a `jobId` whose status `GET /v1/bulkJobs/{jobId}`
//! reports). pixelway does a job before it answers, so its status is always `Completed`.

use super::auth::Caller;
use super::error::ApiError;
use super::json::{EmptyObject, ErrorBody, parse_body};
use crate::App;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use pixelway_control::validate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A folder to create.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateFolderBody {
    folder_name: String,
    parent_folder_path: Option<String>,
}

/// `POST /v1/folder` → 201 `{}`.
#[utoipa::path(post, path = "/v1/folder", tag = "folders", request_body = CreateFolderBody,
    security(("basic" = [])),
    responses((status = 201, body = EmptyObject), (status = 400, body = ErrorBody)))]
pub async fn create_folder(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateFolderBody = parse_body(&body)?;
    let parent = validate::folder_path(body.parent_folder_path.as_deref().unwrap_or("/"))?;
    let folder = validate::folder_path(&format!("{parent}{}", body.folder_name))?;
    if folder == parent {
        return Err(ApiError::bad("folderName is required"));
    }
    app.control.create_folder(&caller.account, &folder).await?;
    Ok((StatusCode::CREATED, Json(EmptyObject::default())).into_response())
}

/// A folder to delete with everything in it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteFolderBody {
    folder_path: String,
}

/// `DELETE /v1/folder` (JSON body) → 204: the folder and everything in it.
#[utoipa::path(delete, path = "/v1/folder", tag = "folders", request_body = DeleteFolderBody,
    security(("basic" = [])),
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_folder(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: DeleteFolderBody = parse_body(&body)?;
    let folder = validate::folder_path(&body.folder_path)?;
    if folder == "/" {
        return Err(ApiError::bad(
            "folderPath: the root folder cannot be deleted",
        ));
    }
    app.control.delete_folder(&caller.account, &folder).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A folder to copy or move into another.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FolderTransfer {
    /// The folder to copy or move, e.g. `/a/b`.
    source_folder_path: String,
    /// The folder it goes into: `/a/b` into `/x` becomes `/x/b`.
    destination_path: String,
    /// pixelway keeps no older versions; accepted and ignored.
    include_versions: Option<bool>,
}

/// A folder to rename (same parent).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FolderRename {
    folder_path: String,
    new_folder_name: String,
    /// The old paths' cached copies are always dropped; accepted and ignored.
    purge_cache: Option<bool>,
}

/// The answer of a folder job.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobCreated {
    job_id: String,
}

/// A folder job's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    job_id: String,
    /// `COPY_FOLDER`, `MOVE_FOLDER` or `RENAME_FOLDER`.
    #[serde(rename = "type")]
    kind: String,
    /// `Completed` (pixelway finishes a job before answering).
    status: String,
}

/// Where `source` (`/a/b/`) goes when put into `destination` (`/x/`): `/x/b/`.
fn into(source: &str, destination: &str) -> String {
    let name = source
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    format!("{destination}{name}/")
}

/// The folder `folder` (`/a/b/`) is in: `/a/`.
fn parent_of(folder: &str) -> &str {
    let inner = folder.trim_end_matches('/');
    &folder[..inner.rfind('/').map_or(0, |i| i + 1)]
}

async fn answer(app: &App, caller: &Caller, kind: &str) -> Result<Json<JobCreated>, ApiError> {
    let job_id = app
        .control
        .store()
        .record_job(&caller.account, kind)
        .await?;
    Ok(Json(JobCreated { job_id }))
}

/// `POST /v1/bulkJobs/copyFolder`.
#[utoipa::path(post, path = "/v1/bulkJobs/copyFolder", tag = "folders",
    request_body = FolderTransfer, security(("basic" = [])),
    responses((status = 200, body = JobCreated), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn copy_folder(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<JobCreated>, ApiError> {
    let body: FolderTransfer = parse_body(&body)?;
    let _ = body.include_versions;
    let source = validate::folder_path(&body.source_folder_path)?;
    let destination = validate::folder_path(&body.destination_path)?;
    app.control
        .copy_tree(&caller.account, &source, &into(&source, &destination))
        .await?;
    answer(&app, &caller, "COPY_FOLDER").await
}

/// `POST /v1/bulkJobs/moveFolder`.
#[utoipa::path(post, path = "/v1/bulkJobs/moveFolder", tag = "folders",
    request_body = FolderTransfer, security(("basic" = [])),
    responses((status = 200, body = JobCreated), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn move_folder(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<JobCreated>, ApiError> {
    let body: FolderTransfer = parse_body(&body)?;
    let source = validate::folder_path(&body.source_folder_path)?;
    let destination = validate::folder_path(&body.destination_path)?;
    app.control
        .move_tree(&caller.account, &source, &into(&source, &destination))
        .await?;
    answer(&app, &caller, "MOVE_FOLDER").await
}

/// `POST /v1/bulkJobs/renameFolder`.
#[utoipa::path(post, path = "/v1/bulkJobs/renameFolder", tag = "folders",
    request_body = FolderRename, security(("basic" = [])),
    responses((status = 200, body = JobCreated), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rename_folder(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<JobCreated>, ApiError> {
    let body: FolderRename = parse_body(&body)?;
    let _ = body.purge_cache;
    let source = validate::folder_path(&body.folder_path)?;
    if body.new_folder_name.contains('/') {
        return Err(ApiError::bad("newFolderName: a name, not a path"));
    }
    let target = validate::folder_path(&format!("{}{}", parent_of(&source), body.new_folder_name))?;
    if app
        .control
        .store()
        .folder_exists(&caller.account, &target)
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "newFolderName: {target} exists already"
        )));
    }
    app.control
        .move_tree(&caller.account, &source, &target)
        .await?;
    answer(&app, &caller, "RENAME_FOLDER").await
}

/// `GET /v1/bulkJobs/{jobId}`.
#[utoipa::path(get, path = "/v1/bulkJobs/{id}", tag = "folders",
    params(("id" = String, Path, description = "The job's id")), security(("basic" = [])),
    responses((status = 200, body = JobStatus), (status = 404, body = ErrorBody)))]
pub async fn job(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    let (kind, status) = app.control.store().job(&caller.account, &id).await?;
    Ok(Json(JobStatus {
        job_id: id,
        kind,
        status,
    }))
}

#[cfg(test)]
mod tests {
    use super::into;

    #[test]
    fn a_folder_goes_into_its_destination_by_name() {
        assert_eq!(into("/a/b/", "/x/"), "/x/b/");
        assert_eq!(into("/b/", "/"), "/b/");
        assert_eq!(super::parent_of("/a/b/"), "/a/");
        assert_eq!(super::parent_of("/b/"), "/");
    }
}
