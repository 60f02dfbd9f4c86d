//! [`OriginSpec`]: the declarative description of an origin, as config files, the store and the
//! API hold it, and [`OriginSpec::build`], which turns it into a live [`Origin`].
//!
//! Secret fields (keys, tokens) are [`Secret`]s: redacted in `Debug`, and split off by
//! [`OriginSpec::take_secrets`] so the store can encrypt them apart from the rest.

use crate::{Origin, guard::AddressPolicy, object, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A credential: read from config files and the API as a plain string; never shown by `Debug`
/// and never serialised. Writing a spec that still holds one fails: take the secrets out first
/// ([`OriginSpec::take_secrets`]), so no response, log or file can carry one by accident.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            return serializer.serialize_str("");
        }
        Err(serde::ser::Error::custom(
            "secrets are write-only: take them out (OriginSpec::take_secrets) before serialising",
        ))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The kinds of origin, as named in config files (`type = "s3"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    S3,
    Gcs,
    AzureBlob,
    WebFolder,
    WebProxy,
    LocalFolder,
}

/// One origin: its kind-specific fields plus the settings every kind shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OriginSpec {
    S3 {
        bucket: String,
        #[serde(default)]
        prefix: String,
        /// Empty for AWS; the base URL of an S3-compatible store otherwise.
        #[serde(default)]
        endpoint: String,
        #[serde(default = "default_region")]
        region: String,
        #[serde(default)]
        access_key_id: String,
        #[serde(default)]
        secret_access_key: Secret,
        #[serde(default)]
        allow_http: bool,
        #[serde(flatten)]
        settings: OriginSettings,
    },
    Gcs {
        bucket: String,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        client_email: String,
        /// The service account's PEM private key.
        #[serde(default)]
        private_key: Secret,
        /// Empty for Google; the base URL of an emulator otherwise (requests are then unsigned
        /// when no private key is given).
        #[serde(default)]
        endpoint: String,
        #[serde(flatten)]
        settings: OriginSettings,
    },
    AzureBlob {
        account_name: String,
        container: String,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        sas_token: Secret,
        /// Shared account key, as an alternative to a SAS token.
        #[serde(default)]
        access_key: Secret,
        /// Empty for Azure; the blob endpoint of an emulator (Azurite) otherwise.
        #[serde(default)]
        endpoint: String,
        #[serde(flatten)]
        settings: OriginSettings,
    },
    WebFolder {
        base_url: String,
        #[serde(flatten)]
        settings: OriginSettings,
    },
    WebProxy {
        /// When not empty, only these source hosts may be fetched.
        #[serde(default)]
        allowed_hosts: Vec<String>,
        #[serde(flatten)]
        settings: OriginSettings,
    },
    LocalFolder {
        path: String,
        #[serde(flatten)]
        settings: OriginSettings,
    },
}

/// Per-origin fetch behaviour. Explicit on purpose: library defaults (10 retries over 180 s in
/// `object_store`) let one bad origin stall every request behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]

pub struct OriginSettings {
    /// Bound on one attempt, including the body. `None`: `limits.origin_timeout`.
    #[serde(
        default,
        with = "opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Extra attempts after a refused connection, a timeout or a 5xx. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

impl OriginSettings {
    /// The longest attempt an origin may be given, and the most extra attempts: a request
    /// waits at most `(1 + retries) × timeout` on one origin before the next is tried.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(120);
    pub const MAX_RETRIES: u32 = 5;

    /// Both values within their bounds.
    pub fn check(&self) -> Result<(), SpecError> {
        if let Some(timeout) = self.timeout
            && (timeout < Duration::from_millis(10) || timeout > Self::MAX_TIMEOUT)
        {
            return Err(SpecError::Invalid {
                field: "timeout",
                message: format!(
                    "{} is out of range (10ms to {})",
                    humantime::format_duration(timeout),
                    humantime::format_duration(Self::MAX_TIMEOUT)
                ),
            });
        }
        match self.retries {
            Some(retries) if retries > Self::MAX_RETRIES => Err(SpecError::Invalid {
                field: "retries",
                message: format!("{retries} is more than {}", Self::MAX_RETRIES),
            }),
            _ => Ok(()),
        }
    }
}

/// Settings with the defaults filled in.
#[derive(Debug, Clone, Copy)]
pub struct EffectiveSettings {
    pub timeout: Duration,
    pub retries: u32,
}

/// What an origin needs from the server's limits to be built.
#[derive(Debug, Clone)]
pub struct BuildContext {
    pub default_timeout: Duration,
    pub address_policy: AddressPolicy,
}

/// Why a spec cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("origin field {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("origin client: {0}")]
    Client(String),
}

/// A bucket name as S3 and Google Cloud Storage take it: 3-63 lowercase letters, digits, dots
/// and hyphens, starting and ending with a letter or digit.
pub fn check_bucket_name(bucket: &str) -> Result<(), SpecError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if (3..=63).contains(&bucket.len())
        && bucket.chars().all(allowed)
        && edge(bucket.chars().next())
        && edge(bucket.chars().last())
        && !bucket.contains("..")
    {
        return Ok(());
    }
    Err(SpecError::Invalid {
        field: "bucket",
        message: format!(
            "{:?} is not a bucket name: use 3-63 lowercase letters, digits, dots and hyphens, \
             starting and ending with a letter or digit",
            bucket.chars().take(80).collect::<String>()
        ),
    })
}

/// An object store's endpoint: empty (the cloud's own), or an http(s) URL with a host.
fn check_endpoint(endpoint: &str) -> Result<(), SpecError> {
    if endpoint.is_empty() {
        return Ok(());
    }
    check_url("endpoint", endpoint)
}

/// An http(s) URL with a host and no query or fragment.
fn check_url(field: &'static str, value: &str) -> Result<(), SpecError> {
    let invalid = |why: &str| SpecError::Invalid {
        field,
        message: format!("{:?} {why}", value.chars().take(200).collect::<String>()),
    };
    let url = url::Url::parse(value)
        .map_err(|e| invalid(&format!("is not a URL ({e}); write it as http://host:port")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry credentials (user@host): give them in the origin's own fields",
        ));
    }
    Ok(())
}

/// A region name: letters, digits, hyphens and underscores (`us-east-1`, `garage`).
fn check_region(region: &str) -> Result<(), SpecError> {
    if (1..=64).contains(&region.len())
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Ok(());
    }
    Err(SpecError::Invalid {
        field: "region",
        message: format!("{region:?} is not a region name such as us-east-1"),
    })
}

fn default_region() -> String {
    "us-east-1".to_string()
}

impl OriginSpec {
    pub fn kind(&self) -> OriginKind {
        match self {
            OriginSpec::S3 { .. } => OriginKind::S3,
            OriginSpec::Gcs { .. } => OriginKind::Gcs,
            OriginSpec::AzureBlob { .. } => OriginKind::AzureBlob,
            OriginSpec::WebFolder { .. } => OriginKind::WebFolder,
            OriginSpec::WebProxy { .. } => OriginKind::WebProxy,
            OriginSpec::LocalFolder { .. } => OriginKind::LocalFolder,
        }
    }

    /// Where this origin's secret is sent (signatures made with it included): the endpoint,
    /// bucket or container, region and key id or account. A stored secret may only be kept
    /// through a change that leaves this as it is; `None` for kinds without a secret.
    pub fn secret_destination(&self) -> Option<Vec<&str>> {
        match self {
            OriginSpec::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                ..
            } => Some(vec![endpoint, bucket, region, access_key_id]),
            OriginSpec::Gcs {
                endpoint,
                bucket,
                client_email,
                ..
            } => Some(vec![endpoint, bucket, client_email]),
            OriginSpec::AzureBlob {
                endpoint,
                account_name,
                container,
                ..
            } => Some(vec![endpoint, account_name, container]),
            _ => None,
        }
    }

    pub fn settings(&self) -> &OriginSettings {
        match self {
            OriginSpec::S3 { settings, .. }
            | OriginSpec::Gcs { settings, .. }
            | OriginSpec::AzureBlob { settings, .. }
            | OriginSpec::WebFolder { settings, .. }
            | OriginSpec::WebProxy { settings, .. }
            | OriginSpec::LocalFolder { settings, .. } => settings,
        }
    }

    /// Checks every value without building a client or touching the network: URLs parse with
    /// an http(s) scheme and a host, bucket names and regions have their shape, a local folder
    /// exists. [`OriginSpec::build`] checks first, so no accepted spec reaches a client
    /// library with a value it would fail on later (object_store panics while signing a
    /// request to an endpoint without a scheme).
    pub fn check(&self) -> Result<(), SpecError> {
        self.settings().check()?;
        match self {
            OriginSpec::S3 {
                bucket,
                endpoint,
                region,
                ..
            } => {
                check_bucket_name(bucket)?;
                check_region(region)?;
                check_endpoint(endpoint)
            }
            OriginSpec::Gcs {
                bucket, endpoint, ..
            } => {
                check_bucket_name(bucket)?;
                check_endpoint(endpoint)
            }
            OriginSpec::AzureBlob {
                account_name,
                container,
                endpoint,
                ..
            } => {
                for (field, value) in [("account_name", account_name), ("container", container)] {
                    if value.is_empty()
                        || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        return Err(SpecError::Invalid {
                            field,
                            message: format!("{value:?} must be letters, digits and hyphens"),
                        });
                    }
                }
                check_endpoint(endpoint)
            }
            OriginSpec::WebFolder { base_url, .. } => check_url("base_url", base_url),
            OriginSpec::WebProxy { .. } => Ok(()),
            OriginSpec::LocalFolder { path, .. } => {
                if std::path::Path::new(path).is_dir() {
                    Ok(())
                } else {
                    Err(SpecError::Invalid {
                        field: "path",
                        message: format!("{path:?} is not a folder"),
                    })
                }
            }
        }
    }

    /// Why the outbound policy would refuse every request of this origin, found from its
    /// address alone (no DNS): a literal address or `localhost` the policy does not allow, named
    /// with the field the API gives it. A name that resolves to a refused address is still
    /// refused at each request, by the resolver.
    pub fn address_refusal(&self, policy: &crate::guard::AddressPolicy) -> Option<String> {
        let (field, address) = match self {
            OriginSpec::WebFolder { base_url, .. } => ("baseUrl", base_url),
            OriginSpec::S3 { endpoint, .. }
            | OriginSpec::Gcs { endpoint, .. }
            | OriginSpec::AzureBlob { endpoint, .. }
                if !endpoint.is_empty() =>
            {
                ("endpoint", endpoint)
            }
            _ => return None,
        };
        let mut url = url::Url::parse(address).ok()?;
        if url
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case("localhost"))
        {
            url.set_host(Some("127.0.0.1")).ok()?;
        }
        policy.check_url(&url).err().map(|why| {
            format!(
                "{field}: {address} cannot be reached: {why} (the server's outbound policy: \
                 limits.allow_private_origin_addresses, limits.allowed_origin_networks)"
            )
        })
    }

    /// Builds the live origin.
    pub fn build(&self, ctx: &BuildContext) -> Result<Arc<dyn Origin>, SpecError> {
        self.check()?;
        let settings = EffectiveSettings {
            timeout: self.settings().timeout.unwrap_or(ctx.default_timeout),
            retries: self.settings().retries.unwrap_or(0),
        };
        Ok(match self {
            OriginSpec::WebFolder { base_url, .. } => Arc::new(web::WebFolder::new(
                base_url,
                settings,
                &ctx.address_policy,
            )?),
            OriginSpec::WebProxy { allowed_hosts, .. } => Arc::new(web::WebProxy::new(
                allowed_hosts.clone(),
                settings,
                &ctx.address_policy,
            )?),
            OriginSpec::LocalFolder { path, .. } => Arc::new(crate::local::LocalFolder::new(path)),
            other => Arc::new(object::ObjectOrigin::from_spec(
                other,
                settings,
                &ctx.address_policy,
            )?),
        })
    }

    /// Removes the secret fields, returning them by name (for encryption at rest).
    pub fn take_secrets(&mut self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (name, secret) in self.secret_fields() {
            if !secret.is_empty() {
                out.insert(name.to_string(), std::mem::take(&mut secret.0));
            }
        }
        out
    }

    /// Puts secrets taken by [`OriginSpec::take_secrets`] back.
    pub fn put_secrets(&mut self, mut secrets: BTreeMap<String, String>) {
        for (name, secret) in self.secret_fields() {
            if let Some(value) = secrets.remove(name) {
                secret.0 = value;
            }
        }
    }

    fn secret_fields(&mut self) -> Vec<(&'static str, &mut Secret)> {
        match self {
            OriginSpec::S3 {
                secret_access_key, ..
            } => vec![("secret_access_key", secret_access_key)],
            OriginSpec::Gcs { private_key, .. } => vec![("private_key", private_key)],
            OriginSpec::AzureBlob {
                sas_token,
                access_key,
                ..
            } => vec![("sas_token", sas_token), ("access_key", access_key)],
            _ => vec![],
        }
    }
}

mod opt_duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| humantime::parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn addresses_the_policy_refuses_are_named_before_any_request() {
        let web = |base_url: &str| OriginSpec::WebFolder {
            base_url: base_url.into(),
            settings: OriginSettings::default(),
        };
        let strict = crate::guard::AddressPolicy::default();
        for refused in [
            "http://127.0.0.1:9/x",
            "http://localhost:9",
            "http://[::1]/",
            "http://10.1.2.3",
        ] {
            let why = web(refused).address_refusal(&strict).expect(refused);
            assert!(
                why.starts_with("baseUrl: ") && why.contains("cannot be reached"),
                "{why}"
            );
        }
        // Names are left to the resolver (no DNS here); public literals pass.
        assert_eq!(
            web("https://images.example.com/a").address_refusal(&strict),
            None
        );
        assert_eq!(web("http://93.184.216.34/").address_refusal(&strict), None);
        let loopback = crate::guard::AddressPolicy {
            allow_private: false,
            allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        };
        assert_eq!(web("http://127.0.0.1:9/x").address_refusal(&loopback), None);
        assert!(
            web("http://127.0.0.2:9/x")
                .address_refusal(&loopback)
                .is_some()
        );
        let s3 = OriginSpec::S3 {
            bucket: "photos".into(),
            prefix: String::new(),
            endpoint: "http://127.0.0.2:9000".into(),
            region: "us-east-1".into(),
            access_key_id: "k".into(),
            secret_access_key: Secret("s".into()),
            allow_http: true,
            settings: OriginSettings::default(),
        };
        let why = s3.address_refusal(&loopback).unwrap();
        assert!(why.starts_with("endpoint: "), "{why}");
    }

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        for good in ["abc", "product-images", "my.bucket-2", &"a".repeat(63)] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ab",
            "Not A Bucket!",
            "UPPER",
            "-edge",
            "edge-",
            "a..b",
            &"a".repeat(64),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_spec_holding_a_secret_cannot_be_serialised() {
        let spec: OriginSpec = serde_json::from_value(serde_json::json!({
            "type": "s3", "bucket": "b", "access_key_id": "AKIA", "secret_access_key": "TOPSECRET"
        }))
        .unwrap();
        let err = serde_json::to_string(&spec).unwrap_err().to_string();
        assert!(err.contains("write-only"), "{err}");
        assert!(!format!("{spec:?}").contains("TOPSECRET"));
        let mut public = spec.clone();
        let secrets = public.take_secrets();
        let json = serde_json::to_string(&public).unwrap();
        assert!(!json.contains("TOPSECRET"), "{json}");
        assert_eq!(secrets["secret_access_key"], "TOPSECRET");
    }
}
