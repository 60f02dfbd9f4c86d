//! Web origins over HTTP(S): a web folder (base URL + path) and the web proxy (the path is an
//! absolute URL). Every connection goes through the address guard.

use crate::guard::{AddressPolicy, BlockedAddress, GuardedClient};
use crate::spec::{EffectiveSettings, SpecError};
use crate::{Body, Failure, Fetch, Miss, Object, Origin, find_in_chain, with_retries};
use futures::{StreamExt, TryStreamExt};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use url::Url;

/// Characters escaped in a path segment sent to a web origin (RFC 3986 `pchar` complement).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// `base_url` + "/" + path.
#[derive(Debug, Clone)]
pub struct WebFolder {
    base: Url,
    client: HttpClient,
}

/// The path is itself the absolute URL to fetch.
#[derive(Debug, Clone)]
pub struct WebProxy {
    allowed_hosts: Vec<String>,
    client: HttpClient,
}

impl WebFolder {
    pub fn new(
        base_url: &str,
        settings: EffectiveSettings,
        policy: &AddressPolicy,
    ) -> Result<Self, SpecError> {
        let base = Url::parse(base_url.trim_end_matches('/')).map_err(|e| SpecError::Invalid {
            field: "base_url",
            message: format!("{base_url:?}: {e}"),
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.query().is_some() {
            return Err(SpecError::Invalid {
                field: "base_url",
                message: format!("{base_url:?} must be an http(s) URL without a query"),
            });
        }
        Ok(Self {
            base,
            client: HttpClient::new(settings, policy.clone())?,
        })
    }

    fn url_for(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let encoded: Vec<String> = path
            .split('/')
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        let joined = format!("{}/{}", url.path().trim_end_matches('/'), encoded.join("/"));
        url.set_path(&joined);
        url
    }
}

#[async_trait::async_trait]
impl Origin for WebFolder {
    async fn fetch(&self, path: &str) -> Fetch {
        // URL parsing would resolve dot segments: refuse them here too, whatever routing did.
        let escapes = path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
        if escapes {
            return Fetch::NotHere(Miss::NotFound);
        }
        self.client.get(self.url_for(path)).await
    }
}

impl WebProxy {
    pub fn new(
        allowed_hosts: Vec<String>,
        settings: EffectiveSettings,
        policy: &AddressPolicy,
    ) -> Result<Self, SpecError> {
        Ok(Self {
            allowed_hosts: allowed_hosts
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            client: HttpClient::new(settings, policy.clone())?,
        })
    }

    fn host_allowed(&self, url: &Url) -> bool {
        self.allowed_hosts.is_empty()
            || url
                .host_str()
                .is_some_and(|h| self.allowed_hosts.iter().any(|a| a == h))
    }
}

#[async_trait::async_trait]
impl Origin for WebProxy {
    async fn fetch(&self, path: &str) -> Fetch {
        let Ok(url) = Url::parse(path) else {
            return Fetch::NotHere(Miss::NotFound);
        };
        if !self.host_allowed(&url) {
            let host = url.host_str().unwrap_or("").to_string();
            return Fetch::Failed(Failure::Blocked(format!("host {host:?} not allowed")));
        }
        self.client.get(url).await
    }
}

/// A guarded reqwest client plus the fetch settings.
#[derive(Debug, Clone)]
struct HttpClient {
    client: GuardedClient,
    settings: EffectiveSettings,
}

impl HttpClient {
    fn new(settings: EffectiveSettings, policy: AddressPolicy) -> Result<Self, SpecError> {
        let client = GuardedClient::new(&policy, settings.timeout)
            .map_err(|e| SpecError::Client(e.to_string()))?;
        Ok(Self { client, settings })
    }

    async fn get(&self, url: Url) -> Fetch {
        with_retries(&self.settings, || self.get_once(url.clone())).await
    }

    async fn get_once(&self, url: Url) -> Fetch {
        let request = match self.client.get(url) {
            Ok(request) => request,
            Err(blocked) => return Fetch::Failed(Failure::Blocked(blocked.0)),
        };
        let response = match request.header("x-req-from", "pixelway").send().await {
            Ok(response) => response,
            Err(e) => return Fetch::Failed(classify(&e)),
        };
        match response.status().as_u16() {
            200 => {
                let size = response.content_length();
                let last_modified = response
                    .headers()
                    .get(reqwest::header::LAST_MODIFIED)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| httpdate::parse_http_date(v).ok());
                let stream = response
                    .bytes_stream()
                    .map_err(|e| std::io::Error::other(classify(&e).to_string()))
                    .boxed();
                Fetch::Found(Object {
                    body: Body::Stream(stream),
                    size,
                    last_modified,
                })
            }
            404 | 410 => Fetch::NotHere(Miss::NotFound),
            401 | 403 => Fetch::NotHere(Miss::Forbidden),
            code => Fetch::Failed(Failure::Status(code)),
        }
    }
}

/// Maps a reqwest error to a failure, recognising the guard's refusals.
fn classify(e: &reqwest::Error) -> Failure {
    if let Some(blocked) = find_in_chain::<BlockedAddress>(e) {
        return Failure::Blocked(blocked.0.clone());
    }
    if find_in_chain::<std::io::Error>(e)
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    {
        return Failure::Refused;
    }
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Refused
    } else {
        Failure::other(e)
    }
}
