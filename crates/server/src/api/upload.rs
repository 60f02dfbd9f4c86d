//! `POST /api/v1/files/upload`: ImageKit's multipart upload. The file (bytes, a URL fetched
//! through the outbound guard, or base64) is streamed into a spool file while its size is
//! counted and its SHA-256 computed, never held whole in memory; then it is described from its
//! first bytes and stored ([`super::library::add_file`]). Every read of the body has a time
//! limit (`limits.upload_read_timeout`), and the body a size limit (`limits.max_upload_bytes`).

use super::auth::{self, Caller, UploadSignature};
use super::error::ApiError;
use super::json::{self, ErrorBody, FileObject};
use super::library::{self, HEAD_BYTES, NewFile, Spooled};
use crate::app::App;
use axum::Json;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request, State};
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

/// Longest value of a form field other than `file`.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The form fields of an upload, as received.
#[derive(Default)]
struct Form {
    spooled: Option<Spooled>,
    /// `file` given as text: a URL or base64.
    file_text: Option<String>,
    fields: std::collections::HashMap<String, String>,
    signature: UploadSignature,
}

/// The form fields of an upload (for the OpenAPI document; the handler reads the multipart body
/// itself, streaming `file`).
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct UploadForm {
    /// The bytes (with a file name), or as a plain field an http(s) URL or base64.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    file_name: String,
    folder: Option<String>,
    /// `true` (default) or `false`.
    use_unique_file_name: Option<String>,
    /// Comma-joined.
    tags: Option<String>,
    is_private_file: Option<String>,
    /// A JSON object.
    custom_metadata: Option<String>,
    /// `x,y,width,height`.
    custom_coordinates: Option<String>,
    description: Option<String>,
    overwrite_file: Option<String>,
    response_fields: Option<String>,
    /// Client-side upload: the account's public key.
    public_key: Option<String>,
    /// Client-side upload: a token used once.
    token: Option<String>,
    /// Client-side upload: unix seconds, at most an hour ahead.
    expire: Option<String>,
    /// Client-side upload: hex HMAC-SHA1(private key, token + expire).
    signature: Option<String>,
}

/// `POST /api/v1/files/upload`.
#[utoipa::path(post, path = "/api/v1/files/upload", tag = "files",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("basic" = []), ()),
    responses((status = 200, body = FileObject), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
pub async fn upload(
    State(app): State<Arc<App>>,
    request: Request,
) -> Result<Json<FileObject>, ApiError> {
    let base = super::base_url(&app, request.headers());
    let basic = auth::basic_user(request.headers())?;
    // A dashboard session is checked before the body is read.
    let session = match basic {
        Some(_) => None,
        None => auth::dashboard_session(&app, request.headers()).await?,
    };
    let mut multipart = Multipart::from_request(request, &app)
        .await
        .map_err(|e| ApiError::bad(format!("request body: {e}")))?;
    let form = read_form(&app, &mut multipart).await?;
    let caller = match (basic, session) {
        (Some(key), _) => auth::account_by_private_key(&app, &key)?,
        (None, Some(session)) => auth::session_account(&session)?,
        (None, None) => {
            auth::check_upload_signature(&app, &form.signature, crate::now_unix()).await?
        }
    };
    let spooled = match (form.spooled, &form.file_text) {
        (Some(spooled), _) => spooled,
        (None, Some(text)) => spool_text(&app, text).await?,
        (None, None) => return Err(ApiError::bad("file is required")),
    };
    let new = new_file(&caller, &form.fields)?;
    let record = library::add_file(&app, new, spooled).await?;
    Ok(Json(json::uploaded(&record, &base)))
}

async fn read_form(app: &App, multipart: &mut Multipart) -> Result<Form, ApiError> {
    let timeout = app.settings.upload_read_timeout;
    let mut form = Form::default();
    while let Some(field) = within(timeout, multipart.next_field()).await? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" if field.file_name().is_some() => {
                form.spooled = Some(spool_field(app, field).await?);
            }
            "file" => {
                let limit = app.settings.max_upload_bytes as usize * 4 / 3 + 1024;
                form.file_text = Some(read_text(field, &name, limit, timeout).await?);
            }
            _ => {
                let value = read_text(field, &name, MAX_FIELD_BYTES, timeout).await?;
                match name.as_str() {
                    "publicKey" => form.signature.public_key = value,
                    "token" => form.signature.token = value,
                    "expire" => form.signature.expire = value,
                    "signature" => form.signature.signature = value,
                    _ => {
                        form.fields.insert(name, value);
                    }
                }
            }
        }
    }
    Ok(form)
}

/// One read of the body, within the upload read timeout.
async fn within<T>(
    timeout: Duration,
    read: impl Future<Output = Result<T, MultipartError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| {
            ApiError::Timeout(format!(
                "the request body arrived too slowly (nothing for {}s; limits.upload_read_timeout)",
                timeout.as_secs()
            ))
        })?
        .map_err(multipart_error)
}

fn multipart_error(error: MultipartError) -> ApiError {
    let text = error.body_text();
    if text.contains("limit") || text.contains("exceeded") {
        ApiError::TooLarge(format!(
            "the upload is larger than the limit (limits.max_upload_bytes): {text}"
        ))
    } else {
        ApiError::bad(format!("malformed multipart body: {text}"))
    }
}

async fn read_text(
    mut field: Field<'_>,
    name: &str,
    limit: usize,
    timeout: Duration,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = within(timeout, field.chunk()).await? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(format!(
                "form field {name} is longer than {limit} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::bad(format!("form field {name} is not UTF-8")))
}

/// Writes chunks into a new spool file, counting, hashing and keeping the head.
struct SpoolWriter {
    file: tempfile::NamedTempFile,
    out: tokio::fs::File,
    size: u64,
    limit: u64,
    hasher: Sha256,
    head: Vec<u8>,
}

impl SpoolWriter {
    fn new(app: &App) -> Result<Self, ApiError> {
        let file = app.control.media().spool_file()?;
        let out = tokio::fs::File::from_std(
            file.reopen()
                .map_err(|e| ApiError::Internal(format!("spool: {e}")))?,
        );
        Ok(Self {
            file,
            out,
            size: 0,
            limit: app.settings.max_upload_bytes,
            hasher: Sha256::new(),
            head: Vec::new(),
        })
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(ApiError::TooLarge(format!(
                "the file is larger than {} bytes (limits.max_upload_bytes)",
                self.limit
            )));
        }
        self.hasher.update(chunk);
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        self.out
            .write_all(chunk)
            .await
            .map_err(|e| ApiError::Internal(format!("spool: {e}")))
    }

    async fn finish(mut self) -> Result<Spooled, ApiError> {
        self.out
            .flush()
            .await
            .map_err(|e| ApiError::Internal(format!("spool: {e}")))?;
        Ok(Spooled {
            file: self.file,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            head: self.head,
        })
    }
}

async fn spool_field(app: &App, mut field: Field<'_>) -> Result<Spooled, ApiError> {
    let timeout = app.settings.upload_read_timeout;
    let mut writer = SpoolWriter::new(app)?;
    while let Some(chunk) = within(timeout, field.chunk()).await? {
        writer.write(&chunk).await?;
    }
    writer.finish().await
}

/// `file` given as text: an http(s) URL to fetch, or base64 (optionally a `data:` URL).
async fn spool_text(app: &App, text: &str) -> Result<Spooled, ApiError> {
    let text = text.trim();
    if text.starts_with("http://") || text.starts_with("https://") {
        return spool_url(app, text).await;
    }
    let encoded = match text.split_once(";base64,") {
        Some((prefix, data)) if prefix.starts_with("data:") => data,
        _ => text,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_bytes())
        .map_err(|_| {
            ApiError::bad("file: not a file, an http(s) URL or base64 (the base64 does not decode)")
        })?;
    let mut writer = SpoolWriter::new(app)?;
    writer.write(&bytes).await?;
    writer.finish().await
}

/// Fetches `url` through the outbound guard (no private addresses unless the operator allows
/// them, every redirect checked) into a spool file.
async fn spool_url(app: &App, url: &str) -> Result<Spooled, ApiError> {
    let parsed = url::Url::parse(url).map_err(|e| ApiError::bad(format!("file: bad URL: {e}")))?;
    let context = app.control.origin_context();
    let client =
        pixelway_origins::guard::guarded_client(&context.address_policy, context.default_timeout)
            .map_err(|e| ApiError::Internal(format!("HTTP client: {e}")))?;
    let response = client.get(parsed).send().await.map_err(|e| {
        ApiError::bad(format!(
            "file: the URL could not be fetched: {}",
            fetch_reason(&e)
        ))
    })?;
    if !response.status().is_success() {
        return Err(ApiError::bad(format!(
            "file: the URL answered {}",
            response.status()
        )));
    }
    let mut writer = SpoolWriter::new(app)?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk: Bytes = chunk.map_err(|e| {
            ApiError::bad(format!(
                "file: reading the URL failed: {}",
                fetch_reason(&e)
            ))
        })?;
        writer.write(&chunk).await?;
    }
    writer.finish().await
}

/// The innermost cause of a fetch error (the guard's refusal is in there).
fn fetch_reason(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

const KNOWN_FIELDS: &[&str] = &[
    "fileName",
    "folder",
    "useUniqueFileName",
    "tags",
    "isPrivateFile",
    "isPublished",
    "customCoordinates",
    "customMetadata",
    "responseFields",
    "overwriteFile",
    "overwriteAITags",
    "overwriteTags",
    "overwriteCustomMetadata",
    "description",
    "extensions",
    "webhookUrl",
    "transformation",
    "checks",
];

/// The upload's settings from its form fields, each checked.
fn new_file(
    caller: &Caller,
    fields: &std::collections::HashMap<String, String>,
) -> Result<NewFile, ApiError> {
    if let Some(unknown) = fields.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad(format!("unknown form field {unknown:?}")));
    }
    for unsupported in ["transformation", "checks"] {
        if fields
            .get(unsupported)
            .is_some_and(|v| !v.trim().is_empty())
        {
            return Err(ApiError::bad(format!(
                "{unsupported} is not supported by pixelway's upload"
            )));
        }
    }
    if fields
        .get("extensions")
        .is_some_and(|v| !matches!(v.trim(), "" | "[]"))
    {
        return Err(ApiError::bad(
            "extensions are not supported by pixelway's upload",
        ));
    }
    let flag = |name: &str, default: bool| -> Result<bool, ApiError> {
        match fields.get(name).map(|v| v.trim()) {
            None | Some("") => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(ApiError::bad(format!(
                "{name} must be \"true\" or \"false\", not {other:?}"
            ))),
        }
    };
    let file_name = fields
        .get("fileName")
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad("fileName is required"))?;
    let folder =
        pixelway_store::validate::folder_path(fields.get("folder").map_or("/", String::as_str))?;
    let custom_metadata = match fields.get("customMetadata").map(|v| v.trim()) {
        None | Some("") => Default::default(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => return Err(ApiError::bad("customMetadata must be a JSON object")),
        },
    };
    Ok(NewFile {
        account: caller.account.clone(),
        folder,
        file_name,
        use_unique_file_name: flag("useUniqueFileName", true)?,
        overwrite_file: flag("overwriteFile", true)?,
        is_private: flag("isPrivateFile", false)?,
        tags: super::tag_list(fields.get("tags").map_or("", String::as_str))?,
        custom_metadata,
        custom_coordinates: super::custom_coordinates(fields.get("customCoordinates"))?,
        description: fields.get("description").cloned().unwrap_or_default(),
    })
}
