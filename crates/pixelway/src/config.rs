//! The config file (`pixelway.toml`, every key in `docs/pixelway.example.toml`), layered:
//! built-in defaults → the file → `PIXELWAY_SECTION__KEY` environment variables. Unknown keys
//! and bad values are errors that name the key.

use anyhow::{Context, bail};
use bytesize::ByteSize;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use pixelway_control::validate;
use pixelway_origins::OriginSpec;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub limits: LimitsConfig,
    pub delivery: DeliveryConfig,
    #[serde(rename = "account")]
    pub accounts: Vec<AccountConfig>,
    #[serde(rename = "custom_domain")]
    pub custom_domains: Vec<DomainConfig>,
    /// SHA-256 of the declared entities (accounts, custom domains) as loaded, secrets
    /// included: a start whose fingerprint the store has applied already skips re-applying.
    #[serde(skip)]
    pub declared_fingerprint: String,
    /// The file's entities not read yet ([`Config::load_settings`]).
    #[serde(skip)]
    pending: Option<Box<PendingEntities>>,
}

/// What [`Config::read_declared`] reads the entities from.
#[derive(Debug, Clone)]
struct PendingEntities {
    /// The file's name, for messages.
    source: String,
    /// The file's text (its `${…}` references replaced).
    text: String,
    /// The settings as [`Config::load_settings`] read them.
    settings: toml::Table,
    /// The entities when the whole file had to be parsed already.
    entities: Option<(Option<toml::Value>, Option<toml::Value>)>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Hosts serving `/{account}/…`; empty accepts any host.
    pub public_hosts: Vec<String>,
    /// Operator token; empty disables operator features.
    pub admin_token: String,
    /// Base of the URLs the management API hands out (`https://img.example.com`); empty:
    /// `http://` + the request's host.
    pub public_url: String,
    /// Time an HTTP/1 client has to send a request head, counted from when the connection is
    /// ready for it (so also the longest an idle keep-alive connection stays open).
    #[serde(with = "duration")]
    pub header_read_timeout: Duration,
    /// A connection (HTTP/1 or HTTP/2) with no request in flight this long is closed.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// Connections open at once; more clients wait until one closes.
    pub max_connections: usize,
    /// `text` (default) or `json`: one JSON object per log line.
    pub log_format: LogFormat,
    /// Proxies (CIDRs) whose `Forwarded` / `X-Forwarded-Host` / `X-Forwarded-For` headers are
    /// believed; from any other peer they are ignored. Empty (default): believed from no one.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Slowest an upload body may arrive on average (per second), once
    /// `limits.upload_read_timeout` has passed; slower: 408.
    pub min_body_rate: ByteSize,
    /// Upload bodies read at once before their client is known (a client-side signature may
    /// follow the file); more: 503 with Retry-After.
    pub max_unauthenticated_uploads: usize,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// Default: `sqlite://{data_dir}/pixelway.db`.
    pub database_url: Option<String>,
    /// Default: `file://{data_dir}/media`; or `s3://bucket/prefix` with `[storage.s3]`.
    pub media_library: Option<String>,
    /// Default: `{data_dir}/cache`.
    pub cache_dir: Option<PathBuf>,
    pub cache_max_bytes: ByteSize,
    /// The memory tier in front of the disk caches; unset: an eighth of the machine's memory,
    /// at most 2 GiB; 0 turns it off.
    pub memory_cache_bytes: Option<ByteSize>,
    /// Larger answers stay on disk only.
    pub memory_cache_max_object: ByteSize,
    #[serde(with = "duration")]
    pub original_ttl: Duration,
    /// Base64 32-byte key; empty: generated into `{data_dir}/secrets.key`.
    pub secrets_key: String,
    /// Keep transformed results in the Media Library's bucket too, for every node (needs
    /// `media_library = "s3://…"`).
    pub shared_results: bool,
    pub s3: S3Config,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub allow_http: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_input_pixels: u64,
    pub max_output_side: u32,
    pub max_origin_bytes: ByteSize,
    #[serde(with = "duration")]
    pub origin_timeout: Duration,
    pub allow_private_origin_addresses: bool,
    /// Non-public networks origins may reach although `allow_private_origin_addresses` is off,
    /// in CIDR form (`["10.20.0.0/16"]`): an internal image server without opening everything.
    pub allowed_origin_networks: Vec<ipnet::IpNet>,
    pub transform_workers: usize,
    /// Animated inputs with more frames are refused before decoding.
    pub max_frames: u32,
    /// Wall time one transformation may take before it is abandoned (400 ELIMIT).
    #[serde(with = "duration")]
    pub transform_time_budget: Duration,
    /// Pixels one transformation may hold in memory at once, estimated before each canvas is
    /// allocated (400 ELIMIT past it). Workers × this is the transformations' memory ceiling.
    pub transform_memory: ByteSize,
    /// Longest request header section (all names and values), in bytes; beyond: 431.
    pub max_header_bytes: ByteSize,
    /// Largest request body any API accepts; beyond: 413.
    pub max_request_body: ByteSize,
    /// Largest file the upload API stores; beyond: 413.
    pub max_upload_bytes: ByteSize,
    /// Longest an upload's body may pause between two pieces; beyond: 408.
    #[serde(with = "duration")]
    pub upload_read_timeout: Duration,
    /// Transformations that may wait for a worker; beyond that: 503. Default 16 per worker.
    pub transform_queue: Option<usize>,
    /// Longest a transformation waits for a worker before the request gets 503.
    #[serde(with = "duration")]
    pub transform_queue_wait: Duration,
}

/// Response caching lifetimes (pixelway's extension of the example shape).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    #[serde(with = "duration")]
    pub cache_max_age: Duration,
    #[serde(with = "duration")]
    pub default_image_max_age: Duration,
    #[serde(with = "duration")]
    pub not_found_max_age: Duration,
    /// Pick WebP (or AVIF) from `Accept` when a transformation names no format.
    pub use_best_format: bool,
    /// Let automatic format choices pick AVIF.
    pub auto_avif: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    pub private_key: String,
    pub public_key: String,
    #[serde(default)]
    pub hide_origin_header: bool,
    /// "Use best format" for this account; unset: `[delivery] use_best_format`.
    #[serde(default)]
    pub use_best_format: Option<bool>,
    /// Automatic AVIF for this account; unset: `[delivery] auto_avif`.
    #[serde(default)]
    pub auto_avif: Option<bool>,
    #[serde(default, rename = "origin")]
    pub origins: Vec<NamedOrigin>,
    #[serde(default, rename = "endpoint")]
    pub endpoints: Vec<EndpointConfig>,
    #[serde(default, rename = "named_transformation")]
    pub named_transformations: Vec<NamedTransformationConfig>,
}

/// `[[account.origin]]`: a name and an origin spec. Read by hand, because serde cannot refuse
/// unknown keys in a tagged, flattened shape: a typo such as `prefx` or `timout` is an error
/// naming the key and the origin, not silently ignored.
#[derive(Debug, Clone)]
pub struct NamedOrigin {
    pub name: String,
    pub spec: OriginSpec,
}

impl<'de> Deserialize<'de> for NamedOrigin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let name = match table.remove("name") {
            Some(serde_json::Value::String(name)) => name,
            Some(_) => return Err(D::Error::custom("origin `name` must be a string")),
            None => return Err(D::Error::missing_field("name")),
        };
        let keys: Vec<String> = table.keys().cloned().collect();
        let spec: OriginSpec = serde_json::from_value(serde_json::Value::Object(table))
            .map_err(|e| D::Error::custom(format!("origin {name:?}: {e}")))?;
        // The keys this type knows: its fields as it writes them (secrets taken out first,
        // which leaves them empty but present), and the optional fetch settings.
        let mut public = spec.clone();
        public.take_secrets();
        let known = match serde_json::to_value(&public) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        };
        for key in keys {
            if !known.contains_key(&key) && !matches!(key.as_str(), "timeout" | "retries") {
                let mut names: Vec<&str> = known.keys().map(String::as_str).collect();
                names.extend(["name", "timeout", "retries"]);
                names.sort_unstable();
                return Err(D::Error::custom(format!(
                    "origin {name:?}: unknown key `{key}` (this type takes: {})",
                    names.join(", ")
                )));
            }
        }
        Ok(Self { name, spec })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    pub identifier: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub origins: Vec<String>,
    pub default_image: Option<String>,
    #[serde(default)]
    pub signed_urls_only: bool,
    #[serde(default)]
    pub named_transformations_only: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTransformationConfig {
    pub name: String,
    pub transformation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    pub host: String,
    pub account: String,
    pub endpoint: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            public_hosts: Vec::new(),
            admin_token: String::new(),
            public_url: String::new(),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
            min_body_rate: ByteSize::kib(16),
            max_unauthenticated_uploads: 32,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./pixelway-data"),
            database_url: None,
            media_library: None,
            cache_dir: None,
            cache_max_bytes: ByteSize::gib(10),
            memory_cache_bytes: None,
            memory_cache_max_object: ByteSize::mib(1),
            original_ttl: Duration::from_secs(7 * 24 * 3600),
            secrets_key: String::new(),
            shared_results: false,
            s3: S3Config::default(),
        }
    }
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".to_string(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            allow_http: false,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_input_pixels: 100_000_000,
            max_output_side: 8192,
            max_origin_bytes: ByteSize::mib(50),
            origin_timeout: Duration::from_secs(10),
            allow_private_origin_addresses: false,
            allowed_origin_networks: Vec::new(),
            transform_workers: 0,
            max_frames: 1000,
            transform_time_budget: Duration::from_secs(20),
            transform_memory: ByteSize::b(pixelway_transform::pipeline::DEFAULT_MAX_MEMORY),
            max_header_bytes: ByteSize::kib(16),
            max_request_body: ByteSize::mib(50),
            max_upload_bytes: ByteSize::mib(50),
            upload_read_timeout: Duration::from_secs(30),
            transform_queue: None,
            transform_queue_wait: Duration::from_secs(10),
        }
    }
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            cache_max_age: Duration::from_secs(365 * 24 * 3600),
            default_image_max_age: Duration::from_secs(60),
            not_found_max_age: Duration::from_secs(10),
            use_best_format: true,
            auto_avif: false,
        }
    }
}

impl StorageConfig {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("pixelway.db").display()))
    }

    pub fn media_library(&self) -> String {
        self.media_library
            .clone()
            .unwrap_or_else(|| format!("file://{}", self.data_dir.join("media").display()))
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache"))
    }

    /// The memory tier's budget: as set, else an eighth of the machine's memory (at most
    /// 2 GiB; 256 MiB when the machine's memory cannot be read).
    pub fn memory_cache_bytes(&self) -> u64 {
        if let Some(set) = self.memory_cache_bytes {
            return set.as_u64();
        }
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kib * 1024)
            });
        total.map_or(256 << 20, |bytes| (bytes / 8).min(2 << 30))
    }
}

impl Config {
    /// Loads defaults, then `file` (when given), then the environment; the file's entities
    /// are read and checked too.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = Self::load_settings(file)?;
        config.read_declared()?;
        Ok(config)
    }

    /// Loads the settings like [`Config::load`] but leaves the file's entities (accounts,
    /// custom domains) unread until [`Config::read_declared`]: a start whose file the store has
    /// applied already (same [`Config::declared_fingerprint`]) never needs them, and with a
    /// hundred thousand tenants reading them is most of loading the file. Nothing is checked
    /// yet: [`Config::validate_settings`] checks the settings alone, `read_declared` everything.
    pub fn load_settings(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::new();
        let mut file_fingerprint = None;
        let mut pending = None;
        if let Some(file) = file {
            if !file.exists() {
                bail!("config file {} does not exist", file.display());
            }
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let text = expand_env(&text, |name| std::env::var(name).ok())
                .with_context(|| format!("config file {}", file.display()))?;
            let invalid = |e: toml::de::Error| {
                anyhow::anyhow!("invalid configuration ({}): {e}", file.display())
            };
            // The settings apart from the entities when they can be told apart line by line,
            // else the whole file parsed now.
            let (settings, entities) = match crate::config_parse::settings_only(&text) {
                Some(settings_text) => (settings_text.parse().map_err(invalid)?, None),
                None => {
                    let mut table = crate::config_parse::parse(&text).map_err(invalid)?;
                    let entities = (table.remove("account"), table.remove("custom_domain"));
                    (table, Some(entities))
                }
            };
            figment = figment.merge(Toml::string(
                &toml::to_string(&settings).context("config file settings")?,
            ));
            file_fingerprint = Some(fingerprint(&text));
            pending = Some(Box::new(PendingEntities {
                source: file.display().to_string(),
                text,
                settings,
                entities,
            }));
        }
        figment = figment.merge(
            Env::prefixed("PIXELWAY_")
                .ignore(&["config", "log"])
                // PIXELWAY_SECRET_*: values for `${…}` references in the file, not keys.
                .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("secret_"))
                .split("__"),
        );
        let source = file.map_or("environment".to_string(), |f| f.display().to_string());
        let mut config: Config = figment.extract().map_err(|e| describe_errors(e, &source))?;
        config.declared_fingerprint = file_fingerprint.unwrap_or_else(|| fingerprint(""));
        config.pending = pending;
        Ok(config)
    }

    /// Reads the file's entities (left unread by [`Config::load_settings`]) and checks the
    /// whole configuration.
    pub fn read_declared(&mut self) -> anyhow::Result<()> {
        let Some(pending) = self.pending.take() else {
            return self.validate();
        };
        let PendingEntities {
            source,
            text,
            settings,
            entities,
        } = *pending;
        let source = &source;
        // The quick way when the whole file reads that way and its settings are the ones taken.
        if entities.is_none()
            && let Some(read) = crate::config_parse::entities(&text)
            && read.rest == settings
        {
            self.accounts = read.accounts;
            self.custom_domains = read.domains;
            return self.validate();
        }
        let (account, custom_domain) = match entities {
            Some(entities) => entities,
            None => {
                let mut table = crate::config_parse::parse(&text)
                    .map_err(|e| anyhow::anyhow!("invalid configuration ({source}): {e}"))?;
                let entities = (table.remove("account"), table.remove("custom_domain"));
                // What was taken for the settings must be what the whole file says.
                if table != settings {
                    bail!(
                        "invalid configuration ({source}): the settings could not be told apart \
                         from the [[account]] and [[custom_domain]] tables; put the settings' \
                         tables before them"
                    );
                }
                entities
            }
        };
        self.accounts = read_entities(account, "account", source)?;
        self.custom_domains = read_entities(custom_domain, "custom_domain", source)?;
        self.validate()
    }

    /// Adds `part` to the declared fingerprint (entities added after loading, such as the
    /// embedded default's demo account).
    pub fn extend_fingerprint(&mut self, part: &str) {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.declared_fingerprint.as_bytes());
        hasher.update(part.as_bytes());
        self.declared_fingerprint = hex::encode(hasher.finalize());
    }

    /// Every problem of the file at once (a file with three mistakes is fixed in one round,
    /// not three), each naming its place.
    fn validate(&self) -> anyhow::Result<()> {
        let mut problems = Problems::default();
        self.settings_problems(&mut problems);
        problems.note(self.refuse_duplicates());
        for account in &self.accounts {
            problems.note(validate::account_id(&account.id).context("account.id"));
            problems.note(account.parse_named_transformations());
            for origin in &account.origins {
                problems.note(
                    validate::origin_name(&origin.name)
                        .with_context(|| format!("account {:?}: origin.name", account.id)),
                );
                // Every value is checked now: a bad one stops start-up instead of dropping the
                // origin (or failing each request through it) later.
                problems.note(origin.spec.check().map_err(|e| {
                    anyhow::anyhow!("account {:?}: origin {:?}: {e}", account.id, origin.name)
                }));
            }
            for named in &account.named_transformations {
                problems.note(validate::transformation_name(&named.name).with_context(|| {
                    format!("account {:?}: named_transformation.name", account.id)
                }));
            }
            for endpoint in &account.endpoints {
                problems.note(
                    validate::endpoint_identifier(&endpoint.identifier)
                        .with_context(|| format!("account {:?}: endpoint.identifier", account.id)),
                );
                for origin in &endpoint.origins {
                    if !account.origins.iter().any(|o| &o.name == origin) {
                        problems.say(format!(
                            "account {:?}: endpoint {:?} names origin {origin:?}, which account.origin does not declare",
                            account.id, endpoint.identifier
                        ));
                    }
                }
            }
        }
        for domain in &self.custom_domains {
            problems.note(self.validate_domain(domain));
        }
        problems.into_result()
    }

    /// Checks the settings alone (what needs no entity), every problem at once.
    pub fn validate_settings(&self) -> anyhow::Result<()> {
        let mut problems = Problems::default();
        self.settings_problems(&mut problems);
        problems.into_result()
    }

    fn settings_problems(&self, problems: &mut Problems) {
        problems.note(self.validate_connection_limits());
        if self.storage.shared_results && !self.storage.media_library().starts_with("s3://") {
            problems.say(
                "storage.shared_results = true needs the Media Library in a bucket \
                 (storage.media_library = \"s3://bucket/prefix\"): the results are shared there"
                    .to_string(),
            );
        }
    }

    fn validate_domain(&self, domain: &DomainConfig) -> anyhow::Result<()> {
        validate::domain_host(&domain.host).context("custom_domain.host")?;
        let host = pixelway_route::normalise_host(&domain.host);
        if let Some(public) = self
            .server
            .public_hosts
            .iter()
            .find(|h| pixelway_route::normalise_host(h) == host)
        {
            bail!(
                "custom_domain {:?} is also in server.public_hosts ({public:?}): a host either serves /{{account}}/ URLs or one account's domain",
                domain.host
            );
        }
        let Some(account) = self.accounts.iter().find(|a| a.id == domain.account) else {
            bail!(
                "custom_domain {:?}: account {:?} is not declared",
                domain.host,
                domain.account
            );
        };
        if let Some(endpoint) = &domain.endpoint
            && !account.endpoints.iter().any(|e| &e.identifier == endpoint)
        {
            bail!(
                "custom_domain {:?}: endpoint {endpoint:?} is not declared",
                domain.host
            );
        }
        Ok(())
    }
}

/// The problems found in a config file, gathered so all are reported together.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn note(&mut self, result: anyhow::Result<()>) {
        if let Err(e) = result {
            self.0.push(format!("{e:#}"));
        }
    }

    fn say(&mut self, problem: String) {
        self.0.push(problem);
    }

    /// One problem as itself; several as a count and one per line.
    fn into_result(self) -> anyhow::Result<()> {
        match self.0.as_slice() {
            [] => Ok(()),
            [one] => bail!("{one}"),
            many => bail!("{} problems:\n  {}", many.len(), many.join("\n  ")),
        }
    }
}

impl AccountConfig {
    /// Named transformations are parsed at start, so a bad one stops start-up naming it
    /// instead of answering 400 to the public with its text.
    fn parse_named_transformations(&self) -> anyhow::Result<()> {
        let named = |name: &str| {
            self.named_transformations
                .iter()
                .find(|n| n.name == name)
                .map(|n| n.transformation.clone())
        };
        for entry in &self.named_transformations {
            pixelway_transform::Transformation::parse(&entry.transformation, &named).map_err(
                |e| {
                    anyhow::anyhow!(
                        "account {:?}: named_transformation {:?}: {e}",
                        self.id,
                        entry.name
                    )
                },
            )?;
        }
        Ok(())
    }
}

/// The first name that appears twice in `names`, with both positions (counted from 1).
fn first_duplicate<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, usize, usize)> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (position, name) in names.into_iter().enumerate() {
        if let Some(first) = seen.insert(name, position + 1) {
            return Some((name, first, position + 1));
        }
    }
    None
}

/// A `local_folder` origin served through an account's default endpoint: every file in the
/// folder is public at `/{account}/…`. Said at start and by `pixelway check`, because the seed's
/// rule (the first origin joins the default endpoint) makes it so without an endpoint naming it.
#[derive(Debug, PartialEq)]
pub struct PublicFolder<'a> {
    pub account: &'a str,
    pub origin: &'a str,
    pub path: &'a str,
    /// Joined as the account's first origin, not named by a declared default endpoint.
    pub as_first_origin: bool,
}

impl std::fmt::Display for PublicFolder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "account {:?}: local folder origin {:?} ({}) is public at /{}/ through the default \
             endpoint{}",
            self.account,
            self.origin,
            self.path,
            self.account,
            if self.as_first_origin {
                " (it is the account's first origin, which joins the default endpoint)"
            } else {
                ""
            }
        )
    }
}

impl Config {
    /// The local folders the file makes public through a default endpoint (see
    /// [`PublicFolder`]).
    pub fn public_local_folders(&self) -> Vec<PublicFolder<'_>> {
        let mut public = Vec::new();
        for account in &self.accounts {
            let declared = account.endpoints.iter().find(|e| e.identifier.is_empty());
            let names: Vec<&str> = match declared {
                Some(endpoint) => endpoint.origins.iter().map(String::as_str).collect(),
                None => account
                    .origins
                    .first()
                    .map(|o| o.name.as_str())
                    .into_iter()
                    .collect(),
            };
            for name in names {
                let found = account.origins.iter().find(|o| o.name == name);
                if let Some(NamedOrigin {
                    spec: OriginSpec::LocalFolder { path, .. },
                    ..
                }) = found
                {
                    public.push(PublicFolder {
                        account: &account.id,
                        origin: name,
                        path,
                        as_first_origin: declared.is_none(),
                    });
                }
            }
        }
        public
    }

    /// Every name is declared once: a second declaration would silently replace or merge
    /// into the first.
    fn refuse_duplicates(&self) -> anyhow::Result<()> {
        let folded: Vec<String> = self
            .accounts
            .iter()
            .map(|a| a.id.to_ascii_lowercase())
            .collect();
        if let Some((_, a, b)) = first_duplicate(folded.iter().map(String::as_str)) {
            let (first, second) = (&self.accounts[a - 1].id, &self.accounts[b - 1].id);
            if first == second {
                bail!("account.id {first:?} is declared twice ([[account]] #{a} and #{b})");
            }
            bail!(
                "account.id {second:?} is declared twice ([[account]] #{a} {first:?} and #{b}; \
                 account ids are unique regardless of case)"
            );
        }
        for account in &self.accounts {
            let lists: [(&str, Vec<&str>); 3] = [
                (
                    "origin.name",
                    account.origins.iter().map(|o| o.name.as_str()).collect(),
                ),
                (
                    "endpoint.identifier",
                    account
                        .endpoints
                        .iter()
                        .map(|e| e.identifier.as_str())
                        .collect(),
                ),
                (
                    "named_transformation.name",
                    account
                        .named_transformations
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect(),
                ),
            ];
            for (key, names) in lists {
                if let Some((name, a, b)) = first_duplicate(names) {
                    bail!(
                        "account {:?}: {key} {name:?} is declared twice (#{a} and #{b})",
                        account.id
                    );
                }
            }
        }
        let hosts: Vec<String> = self
            .custom_domains
            .iter()
            .map(|d| pixelway_route::normalise_host(&d.host).into_owned())
            .collect();
        if let Some((host, a, b)) = first_duplicate(hosts.iter().map(String::as_str)) {
            bail!("custom_domain {host:?} is declared twice ([[custom_domain]] #{a} and #{b})");
        }
        Ok(())
    }

    /// Zero would close every connection at once, or accept none.
    fn validate_connection_limits(&self) -> anyhow::Result<()> {
        let server = &self.server;
        for (key, value) in [
            ("server.header_read_timeout", server.header_read_timeout),
            ("server.idle_timeout", server.idle_timeout),
            (
                "limits.transform_queue_wait",
                self.limits.transform_queue_wait,
            ),
        ] {
            if value.is_zero() {
                bail!("{key} must be longer than zero");
            }
        }
        if server.max_connections == 0 {
            bail!("server.max_connections must be at least 1");
        }
        Ok(())
    }
}

/// Replaces every `${NAME}` (NAME: upper-case letters, digits, `_`) inside a double-quoted
/// value with that environment variable's value, escaped for a TOML basic string: secrets stay
/// out of config files (`pixelway config export` writes them so). Comments and everything
/// outside double quotes are left as they are. An unset variable is an error naming it and its
/// line.
pub fn expand_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<String> {
    #[derive(PartialEq)]
    enum At {
        Plain,
        Comment,
        Basic,
        Literal,
    }
    let mut out = String::with_capacity(text.len());
    let mut at = At::Plain;
    let mut line = 1;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().expect("not at the end");
        match (&at, c) {
            (_, '\n') => {
                line += 1;
                if at == At::Comment {
                    at = At::Plain;
                }
            }
            (At::Plain, '#') => at = At::Comment,
            (At::Plain, '"') => at = At::Basic,
            (At::Plain, '\'') => at = At::Literal,
            (At::Basic, '"') | (At::Literal, '\'') => at = At::Plain,
            (At::Basic, '\\') => {
                // An escape: copy it with the character it escapes.
                let escaped: String = rest.chars().take(2).collect();
                out.push_str(&escaped);
                i += escaped.len();
                continue;
            }
            (At::Basic, '$') if rest.starts_with("${") => {
                let after = &rest[2..];
                let name_len = after
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(after.len());
                if name_len > 0 && after[name_len..].starts_with('}') {
                    let name = &after[..name_len];
                    let value = lookup(name).ok_or_else(|| {
                        anyhow::anyhow!(
                            "line {line}: environment variable {name} is not set (named as ${{{name}}})"
                        )
                    })?;
                    let escaped = serde_json::to_string(&value).expect("a string serialises");
                    out.push_str(&escaped[1..escaped.len() - 1]);
                    i += 2 + name_len + 1;
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        i += c.len_utf8();
    }
    Ok(out)
}

/// The `[[name]]` tables of the file, each read on its own so an error names the one it is in
/// (by its `id` or `host`); a long list is read in one slice per core at once.
fn read_entities<T: serde::de::DeserializeOwned + Send>(
    value: Option<toml::Value>,
    name: &str,
    source: &str,
) -> anyhow::Result<Vec<T>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let toml::Value::Array(items) = value else {
        bail!("invalid configuration ({source}): `{name}` must be an array of tables ([[{name}]])");
    };
    let read = |(index, item): (usize, toml::Value)| {
        let label = ["id", "host"]
            .iter()
            .find_map(|key| item.get(*key).and_then(|v| v.as_str()))
            .map_or_else(|| format!("#{}", index + 1), |id| format!("{id:?}"));
        T::deserialize(item).map_err(|e| {
            anyhow::anyhow!("invalid configuration ({source}): [[{name}]] {label}: {e}")
        })
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < 2000 || cores < 2 {
        return items.into_iter().enumerate().map(read).collect();
    }
    let per_slice = items.len().div_ceil(cores);
    let mut slices: Vec<Vec<(usize, toml::Value)>> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        if index % per_slice == 0 {
            slices.push(Vec::with_capacity(per_slice));
        }
        slices.last_mut().expect("a slice").push((index, item));
    }
    let read = &read;
    let parts: Vec<anyhow::Result<Vec<T>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = slices
            .into_iter()
            .map(|slice| scope.spawn(move || slice.into_iter().map(read).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a reader thread panicked"))
            .collect()
    });
    let mut all = Vec::new();
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

fn describe_errors(errors: figment::Error, source_label: &str) -> anyhow::Error {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .map(|m| m.name.to_string())
                .unwrap_or_default()
                .replace("TOML source string", source_label);
            if key.is_empty() {
                format!("{} ({source})", e.kind)
            } else {
                format!("key `{key}`: {} ({source})", e.kind)
            }
        })
        .collect();
    anyhow::anyhow!("invalid configuration:\n  {}", lines.join("\n  "))
}

/// Durations as humantime strings ("10s", "7d").
mod duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration: {e}")))
    }
}

#[cfg(test)]
mod tests;

/// How a config file's entities are turned into store rows; counted up when that changes, so
/// a new version re-applies an unchanged file.
const APPLY_VERSION: &str = "apply-v1";

/// SHA-256 of what can declare entities: the file's text (its `${…}` references expanded, so
/// a changed secret counts) and the environment variables that override `account` or
/// `custom_domain` keys. Hashing the text, not the parsed tree, keeps this cheap with a
/// hundred thousand accounts; a change elsewhere in the file only costs one re-apply.
fn fingerprint(file_text: &str) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(APPLY_VERSION.as_bytes());
    hasher.update(file_text.as_bytes());
    let mut overrides: Vec<(String, String)> = std::env::vars()
        .filter(|(key, _)| {
            let key = key.to_ascii_lowercase();
            key.starts_with("pixelway_account") || key.starts_with("pixelway_custom_domain")
        })
        .collect();
    overrides.sort();
    for (key, value) in overrides {
        hasher.update(b"\0");
        hasher.update(key.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
    }
    hex::encode(hasher.finalize())
}
