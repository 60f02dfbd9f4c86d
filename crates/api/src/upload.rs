//! `POST /api/v1/files/upload`: ImageKit's multipart upload. The file (bytes, a URL fetched
//! through the outbound guard, or base64) is streamed into a spool file while its size is
//! counted and its SHA-256 computed, never held whole in memory; then it is described from its
//! first bytes and stored ([`pixelway_control::Control::add_file`]). A private key or dashboard session is
//! checked before the body is read; a client-side signature as soon as its fields are in.
//! Every read of the body has a time limit (`limits.upload_read_timeout`), the whole body a
//! minimum average rate (`server.min_body_rate`), and the body a size limit
//! (`limits.max_upload_bytes`); bodies read before their client is known are capped in number.

use super::auth::{self, Caller, UploadSignature};
use super::error::ApiError;
use super::json::{self, ErrorBody, FileObject};
use crate::App;
use axum::Json;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request, State};
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use pixelway_control::library::{HEAD_BYTES, NewFile, Spooled};
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
    /// Who uploads: known from the headers, or from the signature fields once all are in.
    caller: Option<Caller>,
    spooled: Option<Spooled>,
    /// `file` given as an http(s) URL, fetched once the caller is known.
    file_url: Option<String>,
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
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn upload(
    State(app): State<Arc<App>>,
    request: Request,
) -> Result<Json<FileObject>, ApiError> {
    let base = super::base_url(&app, request.headers());
    let account_slot = request
        .extensions()
        .get::<pixelway_delivery::access_log::AccountSlot>()
        .cloned();
    // A private key or a dashboard session is checked before any of the body is read.
    let caller = match auth::basic_user(request.headers())? {
        Some(key) => Some(auth::account_by_private_key(&app, &key)?),
        None => match auth::dashboard_session(&app, request.headers()).await? {
            Some(session) => Some(auth::session_account(&session)?),
            None => None,
        },
    };
    // Otherwise a client-side signature will come in the form, perhaps after the file (the
    // browser SDK puts `publicKey` last): such bodies are streamed to disk, never held in
    // memory, and only so many are read at once.
    let unknown_client = match caller {
        Some(_) => None,
        None => Some(
            Arc::clone(&app.unauthenticated_uploads)
                .try_acquire_owned()
                .map_err(|_| {
                    ApiError::Busy(
                        "too many uploads whose client is not known yet are being read \
                         (server.max_unauthenticated_uploads); retry shortly"
                            .into(),
                    )
                })?,
        ),
    };
    let mut multipart = Multipart::from_request(request, &app)
        .await
        .map_err(|e| ApiError::bad(format!("request body: {e}")))?;
    let form = read_form(&app, &mut multipart, caller, unknown_client).await?;
    let caller = match form.caller {
        Some(caller) => caller,
        // No complete signature came (one was checked as soon as it was in): this says which
        // credentials are missing.
        None => {
            auth::check_upload_signature(&app, &form.signature, pixelway_control::now_unix())
                .await?
        }
    };
    if let Some(slot) = account_slot {
        slot.set(&caller.account);
    }
    let spooled = match (form.spooled, &form.file_url) {
        (Some(spooled), _) => spooled,
        (None, Some(url)) => spool_url(&app, url).await?,
        (None, None) => return Err(ApiError::bad("file is required")),
    };
    let new = new_file(&caller, &form.fields)?;
    let record = app.control.add_file(new, spooled).await?;
    Ok(Json(json::uploaded(&record, &base)))
}

/// Reads the form. The client-side signature is checked as soon as its four fields are in,
/// wherever they stand, and the place of an unknown client (`unknown_client`) given back then.
async fn read_form(
    app: &App,
    multipart: &mut Multipart,
    caller: Option<Caller>,
    mut unknown_client: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Result<Form, ApiError> {
    let mut clock = BodyClock::new(app.settings());
    let mut form = Form {
        caller,
        ..Form::default()
    };
    while let Some(field) = clock.read(multipart.next_field()).await? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" if field.file_name().is_some() => {
                form.spooled = Some(spool_field(app, field, &mut clock).await?);
            }
            "file" => match spool_text_field(app, field, &mut clock).await? {
                TextFile::Url(url) => form.file_url = Some(url),
                TextFile::Spooled(spooled) => form.spooled = Some(spooled),
            },
            _ => {
                let value = read_text(field, &name, MAX_FIELD_BYTES, &mut clock).await?;
                match name.as_str() {
                    "publicKey" => form.signature.public_key = value,
                    "token" => form.signature.token = value,
                    "expire" => form.signature.expire = value,
                    "signature" => form.signature.signature = value,
                    _ => {
                        form.fields.insert(name, value);
                    }
                }
                if form.caller.is_none() && form.signature.is_complete() {
                    let now = pixelway_control::now_unix();
                    form.caller =
                        Some(auth::check_upload_signature(app, &form.signature, now).await?);
                    unknown_client = None;
                }
            }
        }
    }
    drop(unknown_client);
    Ok(form)
}

/// How long the rest of an upload body may take: no pause longer than
/// `limits.upload_read_timeout`, and the whole body no slower on average than
/// `server.min_body_rate` once that much time has passed. A body trickled a byte at a time,
/// which keeps every single read short, is cut off by the second rule.
struct BodyClock {
    started: std::time::Instant,
    received: u64,
    pause: Duration,
    min_rate: u64,
}

impl BodyClock {
    fn new(settings: &pixelway_delivery::Settings) -> Self {
        Self {
            started: std::time::Instant::now(),
            received: 0,
            pause: settings.upload_read_timeout,
            min_rate: settings.min_body_rate.max(1),
        }
    }

    /// The longest the next read may wait, or `None` when the body is already too slow.
    fn allowance(&self) -> Option<Duration> {
        let earned =
            self.pause + Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        let left = earned.checked_sub(self.started.elapsed())?;
        Some(left.min(self.pause))
    }

    /// One read of the body, within what the clock allows.
    async fn read<T>(
        &self,
        read: impl Future<Output = Result<T, MultipartError>>,
    ) -> Result<T, ApiError> {
        let too_slow = || {
            ApiError::Timeout(format!(
                "the request body arrived too slowly (a pause over {}s, limits.upload_read_timeout, \
                 or under {} bytes/s on average, server.min_body_rate)",
                self.pause.as_secs(),
                self.min_rate
            ))
        };
        let wait = self.allowance().ok_or_else(too_slow)?;
        tokio::time::timeout(wait, read)
            .await
            .map_err(|_| too_slow())?
            .map_err(multipart_error)
    }

    /// The next chunk of `field`, counted.
    async fn chunk(&mut self, field: &mut Field<'_>) -> Result<Option<Bytes>, ApiError> {
        let chunk = self.read(field.chunk()).await?;
        if let Some(bytes) = &chunk {
            self.received += bytes.len() as u64;
        }
        Ok(chunk)
    }
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
    clock: &mut BodyClock,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = clock.chunk(&mut field).await? {
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
            limit: app.settings().max_upload_bytes,
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

async fn spool_field(
    app: &App,
    mut field: Field<'_>,
    clock: &mut BodyClock,
) -> Result<Spooled, ApiError> {
    let mut writer = SpoolWriter::new(app)?;
    while let Some(chunk) = clock.chunk(&mut field).await? {
        writer.write(&chunk).await?;
    }
    writer.finish().await
}

/// `file` given as text: an http(s) URL (fetched once the caller is known), or base64
/// (optionally a `data:` URL), decoded into a spool file as it arrives.
enum TextFile {
    Url(String),
    Spooled(Spooled),
}

/// Longest URL accepted as `file`.
const MAX_URL_BYTES: usize = 8 * 1024;

async fn spool_text_field(
    app: &App,
    mut field: Field<'_>,
    clock: &mut BodyClock,
) -> Result<TextFile, ApiError> {
    // Enough of the start to tell a URL from base64 and to find a `data:` prefix.
    let mut head = Vec::new();
    let mut ended = false;
    while head.len() < MAX_URL_BYTES {
        match clock.chunk(&mut field).await? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => {
                ended = true;
                break;
            }
        }
    }
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let text = &head[start..];
    if text.starts_with(b"http://") || text.starts_with(b"https://") {
        if !ended && clock.chunk(&mut field).await?.is_some() {
            return Err(ApiError::bad(format!(
                "file: a URL may be at most {MAX_URL_BYTES} bytes"
            )));
        }
        let url = String::from_utf8(text.trim_ascii_end().to_vec())
            .map_err(|_| ApiError::bad("file: the URL is not UTF-8"))?;
        return Ok(TextFile::Url(url));
    }
    let encoded = match find(text, b";base64,") {
        Some(at) if text.starts_with(b"data:") => &text[at + b";base64,".len()..],
        _ => text,
    };
    let mut decoder = Base64Spool::new(SpoolWriter::new(app)?);
    decoder.push(encoded).await?;
    while !ended && let Some(chunk) = clock.chunk(&mut field).await? {
        decoder.push(&chunk).await?;
    }
    decoder.finish().await.map(TextFile::Spooled)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Base64 decoded into a spool file piece by piece: whole groups of four characters are
/// decoded as they arrive, white space is skipped, padding may only end the text.
struct Base64Spool {
    writer: SpoolWriter,
    carry: Vec<u8>,
}

impl Base64Spool {
    fn new(writer: SpoolWriter) -> Self {
        Self {
            writer,
            carry: Vec::new(),
        }
    }

    async fn push(&mut self, text: &[u8]) -> Result<(), ApiError> {
        self.carry
            .extend(text.iter().copied().filter(|b| !b.is_ascii_whitespace()));
        let whole = self.carry.len() / 4 * 4;
        // The last group may hold padding: keep it until the end is known.
        let ready = if whole == self.carry.len() {
            whole.saturating_sub(4)
        } else {
            whole
        };
        if ready > 0 {
            let bytes = decode_base64(&self.carry[..ready])?;
            self.writer.write(&bytes).await?;
            self.carry.drain(..ready);
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<Spooled, ApiError> {
        let bytes = decode_base64(&self.carry)?;
        self.writer.write(&bytes).await?;
        self.writer.finish().await
    }
}

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| {
            ApiError::bad("file: not a file, an http(s) URL or base64 (the base64 does not decode)")
        })
}

/// Fetches `url` through the outbound guard (the origins' own: the URL's literal address, every
/// DNS answer and every redirect checked; no credentials in the URL) into a spool file. Every
/// refusal and failure answers the same words, so the answer cannot tell a refused address from
/// a closed port or an error page (no port scanning through the upload); the log has the cause.
async fn spool_url(app: &App, url: &str) -> Result<Spooled, ApiError> {
    let parsed = url::Url::parse(url).map_err(|e| ApiError::bad(format!("file: bad URL: {e}")))?;
    let context = app.control.origin_context();
    let client = pixelway_origins::guard::GuardedClient::new(
        &context.address_policy,
        context.default_timeout,
    )
    .map_err(|e| ApiError::Internal(format!("HTTP client: {e}")))?;
    let failed = |cause: String| {
        tracing::info!(%cause, "upload by URL: the URL could not be fetched");
        ApiError::bad(URL_NOT_FETCHED)
    };
    let request = client.get(parsed).map_err(|blocked| failed(blocked.0))?;
    let response = request.send().await.map_err(|e| failed(fetch_reason(&e)))?;
    if !response.status().is_success() {
        return Err(failed(format!("answered {}", response.status())));
    }
    let mut writer = SpoolWriter::new(app)?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk: Bytes = chunk.map_err(|e| failed(fetch_reason(&e)))?;
        writer.write(&chunk).await?;
    }
    writer.finish().await
}

/// The one answer to an upload whose URL could not be fetched, whatever the cause.
const URL_NOT_FETCHED: &str = "file: the URL could not be fetched (it must be a public http(s) \
     URL without credentials that answers 200)";

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
        pixelway_control::validate::folder_path(fields.get("folder").map_or("/", String::as_str))?;
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
