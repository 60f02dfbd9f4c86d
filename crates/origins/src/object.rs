//! Origins that `object_store` speaks: S3 and S3-compatible stores, Google Cloud Storage and Azure
//! Blob Storage. A Media Library held in a bucket is one of these too.

use crate::guard::{AddressPolicy, BlockedAddress, GuardedConnector};
use crate::spec::{EffectiveSettings, OriginSpec, SpecError};
use crate::{Body, Failure, Fetch, Miss, Object, Origin, find_in_chain};
use futures::{StreamExt, TryStreamExt};
use object_store::client::HttpErrorKind;
use object_store::path::Path as StorePath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use std::sync::Arc;

/// Size of a multipart upload's parts (S3 wants at least 5 MiB but the last).
pub const MULTIPART_PART: usize = 8 << 20;

/// An origin backed by any `object_store` store, with an optional key prefix.
#[derive(Debug, Clone)]
pub struct ObjectOrigin {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    settings: EffectiveSettings,
    /// Why the endpoint may not be reached (a literal address the guard refuses).
    blocked: Option<String>,
}

impl ObjectOrigin {
    /// Wraps an existing store (used for the Media Library).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str, settings: EffectiveSettings) -> Self {
        Self {
            store,
            prefix: prefix.trim_matches('/').to_string(),
            settings,
            blocked: None,
        }
    }

    /// Builds the store an object-kind spec describes; every connection it makes goes through
    /// the address guard.
    pub fn from_spec(
        spec: &OriginSpec,
        settings: EffectiveSettings,
        policy: &AddressPolicy,
    ) -> Result<Self, SpecError> {
        let connector = |allow_http: bool| GuardedConnector {
            policy: policy.clone(),
            timeout: settings.timeout,
            allow_http,
        };
        let (store, prefix, endpoint): (Arc<dyn ObjectStore>, &str, &str) = match spec {
            OriginSpec::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
                allow_http,
                ..
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_allow_http(*allow_http)
                    .with_retry(no_retries(settings))
                    .with_client_options(client_options(settings, *allow_http))
                    .with_http_connector(connector(*allow_http));
                if !endpoint.is_empty() {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if access_key_id.is_empty() {
                    builder = builder.with_skip_signature(true);
                } else {
                    builder = builder
                        .with_access_key_id(access_key_id)
                        .with_secret_access_key(secret_access_key.expose());
                }
                (
                    Arc::new(builder.build().map_err(client_error)?),
                    prefix,
                    endpoint,
                )
            }
            OriginSpec::Gcs {
                bucket,
                prefix,
                client_email,
                private_key,
                endpoint,
                ..
            } => {
                let mut builder = object_store::gcp::GoogleCloudStorageBuilder::new()
                    .with_bucket_name(bucket)
                    .with_retry(no_retries(settings))
                    .with_client_options(client_options(settings, !endpoint.is_empty()))
                    .with_http_connector(connector(!endpoint.is_empty()));
                if !endpoint.is_empty() {
                    builder = builder.with_base_url(endpoint);
                }
                if private_key.is_empty() {
                    builder = builder.with_skip_signature(true);
                } else {
                    let key = serde_json::json!({
                        "type": "service_account",
                        "client_email": client_email,
                        "private_key": private_key.expose(),
                    });
                    builder = builder.with_service_account_key(key.to_string());
                }
                (
                    Arc::new(builder.build().map_err(client_error)?),
                    prefix,
                    endpoint,
                )
            }
            OriginSpec::AzureBlob {
                account_name,
                container,
                prefix,
                sas_token,
                access_key,
                endpoint,
                ..
            } => {
                let mut builder = object_store::azure::MicrosoftAzureBuilder::new()
                    .with_account(account_name)
                    .with_container_name(container)
                    .with_retry(no_retries(settings))
                    .with_client_options(client_options(settings, !endpoint.is_empty()))
                    .with_http_connector(connector(!endpoint.is_empty()));
                if !endpoint.is_empty() {
                    builder = builder
                        .with_endpoint(endpoint.clone())
                        .with_allow_http(true);
                }
                if !sas_token.is_empty() {
                    builder = builder.with_sas_authorization(sas_pairs(sas_token.expose()));
                } else if !access_key.is_empty() {
                    builder = builder.with_access_key(access_key.expose());
                } else {
                    builder = builder.with_skip_signature(true);
                }
                (
                    Arc::new(builder.build().map_err(client_error)?),
                    prefix,
                    endpoint,
                )
            }
            OriginSpec::WebFolder { .. }
            | OriginSpec::WebProxy { .. }
            | OriginSpec::LocalFolder { .. } => {
                return Err(SpecError::Invalid {
                    field: "type",
                    message: "not an object store".into(),
                });
            }
        };
        let mut origin = Self::new(store, prefix, settings);
        origin.blocked = literal_endpoint_refusal(endpoint, policy);
        Ok(origin)
    }

    fn key(&self, path: &str) -> Result<StorePath, Failure> {
        let full = if self.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}/{}", self.prefix, path)
        };
        // `parse` refuses empty, "." and ".." parts: a second line of defence after routing.
        StorePath::parse(&full).map_err(|e| Failure::other(format!("bad object key: {e}")))
    }

    async fn fetch_once(&self, key: &StorePath) -> Fetch {
        match self.store.get(key).await {
            Ok(result) => {
                let size = Some(result.meta.size);
                let last_modified = Some(result.meta.last_modified.into());
                let body =
                    Body::Stream(result.into_stream().map_err(std::io::Error::other).boxed());
                Fetch::Found(Object {
                    body,
                    size,
                    last_modified,
                })
            }
            Err(e) => classify(&e),
        }
    }
}

#[async_trait::async_trait]
impl Origin for ObjectOrigin {
    async fn fetch(&self, path: &str) -> Fetch {
        if let Some(why) = &self.blocked {
            return Fetch::Failed(Failure::Blocked(why.clone()));
        }
        let key = match self.key(path) {
            Ok(key) => key,
            Err(_) => return Fetch::NotHere(Miss::NotFound),
        };
        crate::with_retries(&self.settings, || self.fetch_once(&key)).await
    }

    /// Lists (at most) one key under the prefix: a missing bucket or container answers 404 to a
    /// listing, where a missing file alone would not tell.
    async fn probe(&self) -> crate::Reach {
        use crate::Reach;
        if let Some(why) = &self.blocked {
            return Reach::Failed(Failure::Blocked(why.clone()));
        }
        let prefix = (!self.prefix.is_empty()).then(|| StorePath::from(self.prefix.as_str()));
        match self.store.list_with_delimiter(prefix.as_ref()).await {
            Ok(_) => Reach::Reachable,
            Err(e) => match classify(&e) {
                Fetch::NotHere(Miss::NotFound) => Reach::Missing,
                Fetch::NotHere(Miss::Forbidden) => Reach::CredentialsRefused,
                Fetch::Failed(failure) => Reach::Failed(failure),
                Fetch::Found(_) => Reach::Reachable,
            },
        }
    }
}

/// Names are checked when they are resolved; an endpoint given as a literal address is checked
/// here, since no resolver sees it.
fn literal_endpoint_refusal(endpoint: &str, policy: &AddressPolicy) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    policy
        .check_url(&url)
        .err()
        .map(|why| format!("endpoint {endpoint}: {why}"))
}

/// Retries are done by [`crate::with_retries`], uniformly for all kinds.
fn no_retries(settings: EffectiveSettings) -> RetryConfig {
    RetryConfig {
        max_retries: 0,
        retry_timeout: settings.timeout,
        ..RetryConfig::default()
    }
}

fn client_options(settings: EffectiveSettings, allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_timeout(settings.timeout)
        .with_connect_timeout(settings.timeout)
        .with_allow_http(allow_http)
}

fn client_error(e: object_store::Error) -> SpecError {
    SpecError::Client(e.to_string())
}

/// Splits a SAS token (`sv=…&sig=…`, with or without a leading `?`) into query pairs.
fn sas_pairs(token: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(token.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Maps an `object_store` error to the three-way answer.
fn classify(e: &object_store::Error) -> Fetch {
    match e {
        object_store::Error::NotFound { .. } => return Fetch::NotHere(Miss::NotFound),
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => return Fetch::NotHere(Miss::Forbidden),
        _ => {}
    }
    // 5xx, timeouts and refused connections all arrive as `Generic`: look at the cause chain.
    if let Some(blocked) = find_in_chain::<BlockedAddress>(e) {
        return Fetch::Failed(Failure::Blocked(blocked.0.clone()));
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(http) = err.downcast_ref::<object_store::client::HttpError>() {
            match http.kind() {
                HttpErrorKind::Connect => return Fetch::Failed(Failure::Refused),
                HttpErrorKind::Timeout => return Fetch::Failed(Failure::Timeout),
                _ => {}
            }
        }
        // object_store's retry error type is private; its message carries the status.
        if let Some(status) = status_in_message(&err.to_string()) {
            return match status {
                404 | 410 => Fetch::NotHere(Miss::NotFound),
                401 | 403 => Fetch::NotHere(Miss::Forbidden),
                code => Fetch::Failed(Failure::Status(code)),
            };
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Fetch::Failed(Failure::Refused),
                std::io::ErrorKind::TimedOut => return Fetch::Failed(Failure::Timeout),
                _ => {}
            }
        }
        source = err.source();
    }
    Fetch::Failed(Failure::other(e))
}

/// The HTTP status in an `object_store` request error message ("…non-2xx status code: 500 …").
fn status_in_message(message: &str) -> Option<u16> {
    let (_, after) = message.split_once("status code: ")?;
    after.get(..3)?.parse().ok()
}

impl ObjectOrigin {
    /// Writes an object (used to fill a Media Library held in a bucket).
    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        let key = self.key(path).map_err(|e| e.to_string())?;
        self.store
            .put(&key, bytes.into())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Stores the file at `file` as `path`, streamed from disk: one PUT up to
    /// [`MULTIPART_PART`], a multipart upload of such parts (two in flight) above it. Memory
    /// stays at a few parts whatever the file's size; the object exists only once complete.
    pub async fn put_file(&self, path: &str, file: &std::path::Path) -> Result<(), String> {
        use tokio::io::AsyncReadExt;
        let key = self.key(path).map_err(|e| e.to_string())?;
        let size = tokio::fs::metadata(file)
            .await
            .map_err(|e| e.to_string())?
            .len();
        if size <= MULTIPART_PART as u64 {
            let bytes = tokio::fs::read(file).await.map_err(|e| e.to_string())?;
            return self.put(path, bytes).await;
        }
        let upload = self
            .store
            .put_multipart(&key)
            .await
            .map_err(|e| e.to_string())?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, MULTIPART_PART);
        let mut source = tokio::fs::File::open(file)
            .await
            .map_err(|e| e.to_string())?;
        let mut buffer = vec![0; 1 << 20];
        loop {
            let read = match source.read(&mut buffer).await {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.to_string());
                }
            };
            if let Err(e) = writer.wait_for_capacity(2).await {
                let _ = writer.abort().await;
                return Err(e.to_string());
            }
            writer.write(&buffer[..read]);
        }
        writer.finish().await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Writes object `path` into the file at `file`, streamed (a Media Library file being
    /// copied).
    pub async fn get_into(&self, path: &str, file: &std::path::Path) -> Result<(), String> {
        use tokio::io::AsyncWriteExt;
        let key = self.key(path).map_err(|e| e.to_string())?;
        let object = self.store.get(&key).await.map_err(|e| e.to_string())?;
        let mut target = tokio::fs::File::create(file)
            .await
            .map_err(|e| e.to_string())?;
        let mut stream = object.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            target.write_all(&chunk).await.map_err(|e| e.to_string())?;
        }
        target.flush().await.map_err(|e| e.to_string())
    }

    /// Every object under this origin's prefix: its path relative to the prefix, and its size
    /// (a backup of a Media Library held in a bucket).
    pub async fn list_all(&self) -> Result<Vec<(String, u64)>, String> {
        let prefix = (!self.prefix.is_empty()).then(|| StorePath::from(self.prefix.as_str()));
        let mut listing = self.store.list(prefix.as_ref());
        let mut found = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| e.to_string())?;
            let key = meta.location.as_ref();
            let relative = match &prefix {
                Some(prefix) => key
                    .strip_prefix(prefix.as_ref())
                    .map(|rest| rest.trim_start_matches('/'))
                    .unwrap_or(key),
                None => key,
            };
            found.push((relative.to_string(), meta.size));
        }
        Ok(found)
    }

    /// Deletes every object under this origin's prefix (an account's whole library).
    pub async fn delete_all(&self) -> Result<(), String> {
        use futures::StreamExt;
        let prefix = (!self.prefix.is_empty()).then(|| StorePath::from(self.prefix.as_str()));
        let mut listing = self.store.list(prefix.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| e.to_string())?;
            match self.store.delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, path: &str) -> Result<(), String> {
        let key = self.key(path).map_err(|e| e.to_string())?;
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
