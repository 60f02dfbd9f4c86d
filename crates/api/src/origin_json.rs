//! Origins as ImageKit's API writes them (`{"type": "S3_COMPATIBLE", "bucket", "accessKey", …}`)
//! and pixelway's [`OriginSpec`], both ways. Secrets (`accessKey`'s partner `secretKey`,
//! `privateKey`, `sasToken`) are write-only: read from requests, never written into a response.
//! Local folders are the operator's (config file only) and have no API type.

use super::error::ApiError;
use super::json::ManagedBy;
use pixelway_origins::spec::Secret;
use pixelway_origins::{OriginSettings, OriginSpec};
use pixelway_store::OriginRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// An origin as a create or update request sends it: `type` and `name`, then the fields of
/// that type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OriginRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    bucket: Option<String>,
    prefix: Option<String>,
    endpoint: Option<String>,
    /// pixelway's addition: the bucket's region (default `us-east-1`).
    region: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
    s3_force_path_style: Option<bool>,
    #[serde(rename = "useIAMRole")]
    use_iam_role: Option<bool>,
    base_url: Option<String>,
    forward_host_header_to_origin: Option<bool>,
    client_email: Option<String>,
    private_key: Option<String>,
    account_name: Option<String>,
    container: Option<String>,
    sas_token: Option<String>,
    include_canonical_header: Option<bool>,
    base_url_for_canonical_header: Option<String>,
    /// pixelway's addition: web proxy source hosts allowed (empty: any public host).
    allowed_hosts: Option<Vec<String>>,
    /// pixelway's addition: bound on one attempt, as `2s` or `1500ms` (default: the server's
    /// `limits.origin_timeout`; 10ms to 2m).
    timeout: Option<String>,
    /// pixelway's addition: extra attempts after a refused connection, a timeout or a 5xx
    /// (default 0, at most 5).
    retries: Option<u32>,
}

fn required(value: Option<String>, field: &str, kind: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad(format!("{field} is required for a {kind} origin")))
}

/// The origin types pixelway serves, as ImageKit names them.
const SUPPORTED: &[&str] = &[
    "S3",
    "S3_COMPATIBLE",
    "WEB_FOLDER",
    "WEB_PROXY",
    "GCS",
    "AZURE_BLOB",
];

impl OriginRequest {
    /// Reads a request body: its `type` first (an unsupported one is named before its fields
    /// are looked at), then the fields of that type.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = super::json::parse_body(body)?;
        match value.get("type").and_then(Value::as_str) {
            None => return Err(ApiError::bad("type is required")),
            Some(kind) if !SUPPORTED.contains(&kind) => {
                let known = matches!(kind, "CLOUDINARY_BACKUP" | "AKENEO_PIM");
                return Err(ApiError::bad(format!(
                    "type {kind:?} is {} (supported: {})",
                    if known {
                        "not supported by pixelway"
                    } else {
                        "not an origin type"
                    },
                    SUPPORTED.join(", ")
                )));
            }
            Some(_) => {}
        }
        serde_json::from_value(value).map_err(|e| ApiError::bad(format!("request body: {e}")))
    }

    /// An update's body laid over the stored origin: while the type stays, fields left out keep
    /// their stored values (secrets are kept by [`Self::into_spec`]); a new type keeps only the
    /// name.
    pub fn parse_update(current: &OriginRecord, body: &[u8]) -> Result<Self, ApiError> {
        let stored = origin(current);
        let given: Value = super::json::parse_body(body)?;
        let same_type = match given.get("type") {
            None | Some(Value::Null) => true,
            Some(kind) => kind.as_str() == Some(stored.kind.as_str()),
        };
        let base = if same_type {
            let mut base = serde_json::to_value(&stored)
                .map_err(|e| ApiError::Internal(format!("origin as JSON: {e}")))?;
            if let Value::Object(fields) = &mut base {
                fields.remove("id");
                fields.remove("managedBy");
            }
            base
        } else {
            serde_json::json!({ "name": stored.name })
        };
        let merged = super::json::merge_onto(base, body, &["type", "name"])?;
        Self::parse(merged.to_string().as_bytes())
    }

    /// The spec this request describes. Secrets left empty are taken from `current` (an
    /// update need not send them again).
    pub fn into_spec(self, current: Option<&OriginSpec>) -> Result<OriginSpec, ApiError> {
        if self.include_canonical_header == Some(true) {
            return Err(ApiError::bad(
                "includeCanonicalHeader is not supported by pixelway yet",
            ));
        }
        if self.forward_host_header_to_origin == Some(true) {
            return Err(ApiError::bad(
                "forwardHostHeaderToOrigin is not supported by pixelway",
            ));
        }
        if self.use_iam_role == Some(true) {
            return Err(ApiError::bad(
                "useIAMRole is not supported by pixelway: give accessKey and secretKey",
            ));
        }
        let _ = self.base_url_for_canonical_header;
        let kind = self.kind.clone();
        let settings = OriginSettings {
            timeout: self
                .timeout
                .as_deref()
                .map(humantime::parse_duration)
                .transpose()
                .map_err(|e| ApiError::bad(format!("timeout: {e} (write it as 2s or 1500ms)")))?,
            retries: self.retries,
        };
        // Secret fields left out keep the stored value (the SDKs never see secrets to send them
        // back), but only where the secret still goes to the same place: checked below.
        let kept = std::cell::RefCell::new(Vec::new());
        let keep = |given: Option<String>, field: &'static str| -> Secret {
            match given.filter(|v| !v.is_empty()) {
                Some(value) => Secret(value),
                None => {
                    let stored = current.map(|c| secret_of(c, field)).unwrap_or_default();
                    if !stored.is_empty() {
                        kept.borrow_mut().push(field);
                    }
                    stored
                }
            }
        };
        let spec = match kind.as_str() {
            "S3" | "S3_COMPATIBLE" => {
                let endpoint = if kind == "S3" {
                    String::new()
                } else {
                    required(self.endpoint, "endpoint", &kind)?
                };
                let secret_access_key = keep(self.secret_key, "secretKey");
                if secret_access_key.is_empty() {
                    return Err(ApiError::bad(format!(
                        "secretKey is required for a {kind} origin"
                    )));
                }
                let _ = self.s3_force_path_style;
                OriginSpec::S3 {
                    bucket: required(self.bucket, "bucket", &kind)?,
                    prefix: self
                        .prefix
                        .unwrap_or_default()
                        .trim_matches('/')
                        .to_string(),
                    allow_http: endpoint.starts_with("http://"),
                    endpoint,
                    region: self.region.unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: required(self.access_key, "accessKey", &kind)?,
                    secret_access_key,
                    settings,
                }
            }
            "WEB_FOLDER" => {
                let base_url = required(self.base_url, "baseUrl", &kind)?;
                url::Url::parse(&base_url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        ApiError::bad(format!("baseUrl must be an http(s) URL, not {base_url:?}"))
                    })?;
                OriginSpec::WebFolder { base_url, settings }
            }
            "WEB_PROXY" => OriginSpec::WebProxy {
                allowed_hosts: self.allowed_hosts.unwrap_or_default(),
                settings,
            },
            "GCS" => OriginSpec::Gcs {
                bucket: required(self.bucket, "bucket", &kind)?,
                prefix: self
                    .prefix
                    .unwrap_or_default()
                    .trim_matches('/')
                    .to_string(),
                client_email: self.client_email.unwrap_or_default(),
                private_key: keep(self.private_key, "privateKey"),
                endpoint: self.endpoint.unwrap_or_default(),
                settings,
            },
            "AZURE_BLOB" => OriginSpec::AzureBlob {
                account_name: required(self.account_name, "accountName", &kind)?,
                container: required(self.container, "container", &kind)?,
                prefix: self
                    .prefix
                    .unwrap_or_default()
                    .trim_matches('/')
                    .to_string(),
                sas_token: keep(self.sas_token, "sasToken"),
                access_key: Secret::default(),
                endpoint: self.endpoint.unwrap_or_default(),
                settings,
            },
            other => return Err(ApiError::bad(format!("type {other:?} is not supported"))),
        };
        let kept = kept.into_inner();
        if let (Some(field), Some(current)) = (kept.first(), current)
            && current.secret_destination() != spec.secret_destination()
        {
            return Err(ApiError::bad(format!(
                "{field} is required again: this change sends the origin's requests somewhere \
                 else (endpoint, bucket or container, region, account or key id), and a stored \
                 secret is never sent to a new place"
            )));
        }
        Ok(spec)
    }
}

/// The current value of a secret field of `spec`, to keep it on an update that leaves it out.
fn secret_of(spec: &OriginSpec, field: &str) -> Secret {
    match (spec, field) {
        (
            OriginSpec::S3 {
                secret_access_key, ..
            },
            "secretKey",
        ) => secret_access_key.clone(),
        (OriginSpec::Gcs { private_key, .. }, "privateKey") => private_key.clone(),
        (OriginSpec::AzureBlob { sas_token, .. }, "sasToken") => sas_token.clone(),
        _ => Secret::default(),
    }
}

/// An origin as answers show it: no secret, ever.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OriginObject {
    pub id: String,
    /// `S3`, `S3_COMPATIBLE`, `WEB_FOLDER`, `WEB_PROXY`, `GCS`, `AZURE_BLOB` (or
    /// `LOCAL_FOLDER`, which only the config file makes).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_force_path_style: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_host_header_to_origin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub include_canonical_header: bool,
    /// pixelway's addition: bound on one attempt (absent: the server's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// pixelway's addition: extra attempts (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Set when the config file manages the origin.
    pub managed_by: Option<ManagedBy>,
}

/// An origin as answers show it.
pub fn origin(record: &OriginRecord) -> OriginObject {
    let settings = record.spec.settings();
    let base = OriginObject {
        id: record.id.clone(),
        name: record.name.clone(),
        timeout: settings
            .timeout
            .map(|t| humantime::format_duration(t).to_string()),
        retries: settings.retries,
        managed_by: ManagedBy::of(record.managed_by.as_deref()),
        ..OriginObject::default()
    };
    let text = |s: &String| Some(s.clone());
    match &record.spec {
        OriginSpec::S3 {
            bucket,
            prefix,
            endpoint,
            region,
            access_key_id,
            ..
        } => OriginObject {
            kind: if endpoint.is_empty() {
                "S3"
            } else {
                "S3_COMPATIBLE"
            }
            .into(),
            bucket: text(bucket),
            prefix: text(prefix),
            region: text(region),
            access_key: text(access_key_id),
            endpoint: (!endpoint.is_empty()).then(|| endpoint.clone()),
            s3_force_path_style: (!endpoint.is_empty()).then_some(true),
            ..base
        },
        OriginSpec::Gcs {
            bucket,
            prefix,
            client_email,
            ..
        } => OriginObject {
            kind: "GCS".into(),
            bucket: text(bucket),
            prefix: text(prefix),
            client_email: text(client_email),
            ..base
        },
        OriginSpec::AzureBlob {
            account_name,
            container,
            prefix,
            ..
        } => OriginObject {
            kind: "AZURE_BLOB".into(),
            account_name: text(account_name),
            container: text(container),
            prefix: text(prefix),
            ..base
        },
        OriginSpec::WebFolder { base_url, .. } => OriginObject {
            kind: "WEB_FOLDER".into(),
            base_url: text(base_url),
            forward_host_header_to_origin: Some(false),
            ..base
        },
        OriginSpec::WebProxy { allowed_hosts, .. } => OriginObject {
            kind: "WEB_PROXY".into(),
            allowed_hosts: Some(allowed_hosts.clone()),
            ..base
        },
        OriginSpec::LocalFolder { .. } => OriginObject {
            kind: "LOCAL_FOLDER".into(),
            ..base
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcs_request(endpoint: &str, private_key: Option<&str>) -> OriginRequest {
        let mut body = serde_json::json!({"type": "GCS", "name": "gcs", "bucket": "photos",
            "clientEmail": "a@b.iam.gserviceaccount.com", "endpoint": endpoint});
        if let Some(key) = private_key {
            body["privateKey"] = key.into();
        }
        OriginRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_gcs_key_is_kept_only_for_the_same_destination() {
        let current = gcs_request("http://127.0.0.1:4443", Some("the-key"))
            .into_spec(None)
            .unwrap();
        let same = gcs_request("http://127.0.0.1:4443", None)
            .into_spec(Some(&current))
            .unwrap();
        assert!(matches!(&same, OriginSpec::Gcs { private_key, .. } if private_key.0 == "the-key"));
        let moved = gcs_request("http://127.0.0.1:4444", None).into_spec(Some(&current));
        let message = moved.unwrap_err().to_string();
        assert!(
            message.contains("privateKey is required again"),
            "{message}"
        );
        let given = gcs_request("http://127.0.0.1:4444", Some("new-key")).into_spec(Some(&current));
        assert!(given.is_ok());
    }
}
