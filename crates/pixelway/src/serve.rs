//! `pixelway serve`: load config, open the store and caches, apply declared entities, build the
//! catalog and serve HTTP until SIGINT/SIGTERM.

use crate::config::{Config, StorageConfig};
use crate::{apply, media, seed};
use anyhow::Context;
use pixelway_control::{Control, Parts};
use pixelway_delivery::{Delivery, LocalCaches, Settings, Workers};
use pixelway_origins::BuildContext;
use pixelway_origins::guard::AddressPolicy;
use pixelway_server::Node;
use pixelway_store::{SecretBox, Store};
use pixelway_transform::pipeline::Limits;
use std::path::PathBuf;
use std::sync::Arc;

pub async fn run(config_file: Option<PathBuf>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The file's entities are read only when the store has not applied this file yet.
    let mut config = Config::load_settings(config_file.as_deref())?;
    config.validate_settings()?;
    crate::init_logging(config.server.log_format);
    tracing::info!(took = ?started.elapsed(), "config settings loaded");
    let embedded = config_file.is_none();
    if embedded {
        seed::add_demo_account(&mut config);
    }
    let mut settings = settings(&config);
    let storage = &config.storage;
    // Originals and transformed results share storage.cache_max_bytes half and half.
    let half = storage.cache_max_bytes.as_u64() / 2;
    let originals = pixelway_cache::DiskCache::open(storage.cache_dir().join("originals"), half)
        .await
        .context("storage.cache_dir")?;
    let results = pixelway_cache::DiskCache::open(storage.cache_dir().join("results"), half)
        .await
        .context("storage.cache_dir")?;
    let caches = Arc::new(LocalCaches::new(originals, &settings));
    let control = Arc::new(open_control(&config, caches.clone()).await?);
    apply_declared(&mut config, &control).await?;
    // The declared entities are in the store now; the catalog is built from there.
    drop(std::mem::take(&mut config.accounts));
    drop(std::mem::take(&mut config.custom_domains));
    release_freed_memory();
    let building = std::time::Instant::now();
    control.start().await?;
    tracing::info!(took = ?building.elapsed(), "catalog built");
    if embedded {
        seed::seed_samples(&control)
            .await
            .context("seeding the demo account")?;
    }
    let mut account_ids: Vec<String> = control
        .catalog()
        .accounts()
        .map(|a| a.record.id.clone())
        .collect();
    account_ids.sort();
    pixelway_delivery::set_memory_release(release_freed_memory);
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("server.listen = {}", config.server.listen))?;
    let address = listener.local_addr()?;
    let base = public_base(&config, address);
    // URLs handed out (upload answers, the dashboard) use the first public host unless
    // server.public_url says otherwise: the host a client happened to call may be unknown.
    control.set_own_hosts(own_hosts(address));
    if !config.server.public_hosts.is_empty() {
        settings.public_url.get_or_insert_with(|| base.clone());
        tracing::warn!(
            listen = %address,
            public_url = %base,
            "URLs are handed out on the public URL, not the listen address; purges of URLs on \
             the listen address are taken as URLs on the first public host"
        );
    }
    let mut delivery = Delivery::new(
        Arc::clone(&control),
        caches,
        results,
        workers(&config),
        settings,
    );
    if config.storage.shared_results
        && let Some(folder) = control.media().shared_results_folder()
    {
        let folder = folder.context("storage.shared_results")?;
        delivery = delivery.with_shared_results(pixelway_delivery::SharedResults::new(folder));
    }
    let delivery = Arc::new(delivery);
    let node = Node::new(Arc::clone(&control), delivery);
    let checking = Arc::clone(&control);
    tokio::spawn(async move { pixelway_control::readiness::check_origins(&checking).await });
    // On a shared store (PostgreSQL), the changes other nodes make.
    tokio::spawn(Arc::clone(&control).follow_changes());
    let connections = connection_limits(&config);
    // The config file's parsed tree and the start-up snapshot are gone; hand the memory they
    // held back to the system (with many tenants, most of the start-up peak).
    release_freed_memory();
    announce(address, &base, embedded, &account_ids);
    drop(account_ids);
    warn_missing_default_images(&control).await;
    pixelway_server::listen::serve(
        listener,
        Arc::new(node.edge()),
        connections,
        shutdown_signal(),
    )
    .await;
    Ok(())
}

/// Reads the config file's entities and applies them to the store — unless the store has
/// applied this very file already (same fingerprint), when they are not even read.
async fn apply_declared(config: &mut Config, control: &Control) -> anyhow::Result<()> {
    let applied = control.store().applied_fingerprint().await?;
    if applied.as_deref() == Some(config.declared_fingerprint.as_str()) {
        tracing::info!("the config file's entities are unchanged since they were applied");
        return Ok(());
    }
    let reading = std::time::Instant::now();
    config.read_declared()?;
    tracing::info!(took = ?reading.elapsed(), accounts = config.accounts.len(), "config file's entities loaded");
    let applying = std::time::Instant::now();
    for folder in config.public_local_folders() {
        tracing::warn!("{folder}");
    }
    apply::apply(config, control)
        .await
        .context("applying the config file's entities")?;
    tracing::info!(took = ?applying.elapsed(), "config file applied to the store");
    Ok(())
}

/// The control plane of a tool that changes or reads the store without serving (no caches).
pub async fn tool_control(config: &Config) -> anyhow::Result<Control> {
    open_control(config, Arc::new(pixelway_control::NoCaches)).await
}

/// The control plane over the store and Media Library `[storage]` names.
async fn open_control(
    config: &Config,
    caches: Arc<dyn pixelway_control::NodeCaches>,
) -> anyhow::Result<Control> {
    let storage = &config.storage;
    let store = open_store(storage).await?;
    let ctx = origin_context(config);
    // The Media Library is the operator's own storage ([storage.s3]), not an account's origin:
    // the address guard does not apply to it.
    let media_ctx = BuildContext {
        address_policy: AddressPolicy {
            allow_private: true,
            ..AddressPolicy::default()
        },
        ..ctx.clone()
    };
    let media = media::from_config(storage, media_ctx)?;
    Ok(Control::new(Parts {
        store,
        media,
        origins: ctx,
        public_hosts: config.server.public_hosts.clone(),
        caches,
    }))
}

/// The transformation workers `[limits]` asks for.
fn workers(config: &Config) -> Workers {
    let limits = &config.limits;
    let workers = match limits.transform_workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let queue = limits.transform_queue.unwrap_or(workers * 16);
    Workers::new(
        workers,
        queue,
        limits.transform_queue_wait,
        Limits {
            max_input_pixels: limits.max_input_pixels,
            max_output_side: limits.max_output_side,
            max_frames: limits.max_frames,
            time_budget: limits.transform_time_budget,
            max_memory: limits.transform_memory.as_u64(),
        },
    )
}

/// The settings delivery and the management API read, from the config file.
fn settings(config: &Config) -> Settings {
    let storage = &config.storage;
    Settings {
        max_origin_bytes: config.limits.max_origin_bytes.as_u64(),
        original_ttl: storage.original_ttl,
        admin_token: config.server.admin_token.clone(),
        cache_max_age: config.delivery.cache_max_age,
        default_image_max_age: config.delivery.default_image_max_age,
        not_found_max_age: config.delivery.not_found_max_age,
        best_format: config.delivery.use_best_format,
        auto_avif: config.delivery.auto_avif,
        max_header_bytes: config.limits.max_header_bytes.as_u64() as usize,
        max_request_body: config.limits.max_request_body.as_u64() as usize,
        max_upload_bytes: config.limits.max_upload_bytes.as_u64(),
        upload_read_timeout: config.limits.upload_read_timeout,
        min_body_rate: config.server.min_body_rate.as_u64(),
        max_unauthenticated_uploads: config.server.max_unauthenticated_uploads,
        public_url: Some(config.server.public_url.clone()).filter(|u| !u.is_empty()),
        trusted_proxies: config.server.trusted_proxies.clone(),
        memory_cache_bytes: storage.memory_cache_bytes(),
        memory_cache_max_object: storage.memory_cache_max_object.as_u64(),
    }
}

/// How origins are built: the default timeout and the outbound address policy of `[limits]`.
pub fn origin_context(config: &Config) -> BuildContext {
    BuildContext {
        default_timeout: config.limits.origin_timeout,
        address_policy: AddressPolicy {
            allow_private: config.limits.allow_private_origin_addresses,
            allowed_networks: config.limits.allowed_origin_networks.clone(),
        },
    }
}

/// Opens (creating) the store `[storage]` names, with its secrets key.
pub async fn open_store(storage: &StorageConfig) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("storage.data_dir: creating {}", storage.data_dir.display()))?;
    let secrets = if storage.secrets_key.is_empty() {
        SecretBox::from_key_file(&storage.data_dir.join("secrets.key"))?
    } else {
        SecretBox::from_base64(&storage.secrets_key).context("storage.secrets_key")?
    };
    Store::open(&storage.database_url(), secrets)
        .await
        .context("storage.database_url")
}

/// Returns freed heap memory to the system (the allocators keep some otherwise): Rust's
/// (mimalloc), and the C library's, which SQLite allocates from (a config apply's page cache
/// of 256 MB stayed in the process after it was let go).
fn release_freed_memory() {
    // SAFETY: mi_collect only walks the allocator's own free lists.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    // SAFETY: malloc_trim only returns the C library's free memory to the system.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `[server]`'s connection limits, with the connection cap kept below the file-descriptor limit
/// (raised to its hard limit first) so that origins, caches and the store always have some.
fn connection_limits(config: &Config) -> pixelway_server::listen::ConnectionLimits {
    const RESERVED_DESCRIPTORS: u64 = 256;
    let server = &config.server;
    let mut max_connections = server.max_connections.max(1);
    if let Some(fds) = pixelway_server::listen::raise_fd_limit() {
        let room = fds.saturating_sub(RESERVED_DESCRIPTORS).max(16) as usize;
        if room < max_connections {
            tracing::warn!(
                fds,
                max_connections = room,
                "server.max_connections lowered to fit the file-descriptor limit"
            );
            max_connections = room;
        }
    }
    pixelway_server::listen::ConnectionLimits {
        header_read_timeout: server.header_read_timeout,
        idle_timeout: server.idle_timeout,
        max_connections,
        drain: std::time::Duration::from_secs(10),
    }
}

/// The base of the URLs the banner prints: `server.public_url`, else the first public host (with
/// the listening port unless it is 80), else the listening address.
fn public_base(config: &Config, address: std::net::SocketAddr) -> String {
    if !config.server.public_url.is_empty() {
        return config.server.public_url.trim_end_matches('/').to_string();
    }
    match config.server.public_hosts.first() {
        Some(host) if host.contains(':') || address.port() == 80 => format!("http://{host}"),
        Some(host) => format!("http://{host}:{}", address.port()),
        None => format!("http://{address}"),
    }
}

/// The hosts a client on this machine may call the node by: the listen address, and for an
/// unspecified or loopback one, `127.0.0.1`, `[::1]` and `localhost` with its port.
fn own_hosts(address: std::net::SocketAddr) -> Vec<String> {
    let mut hosts = vec![address.to_string()];
    if address.ip().is_unspecified() || address.ip().is_loopback() {
        let port = address.port();
        hosts.extend([
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
            format!("localhost:{port}"),
        ]);
    }
    hosts
}

/// Prints where pixelway listens (tests read the first line) and URLs that work right away, on
/// a public host when there is one (another host would answer "unknown host").
fn announce(address: std::net::SocketAddr, base: &str, embedded: bool, account_ids: &[String]) {
    println!("pixelway listening on http://{address}");
    if embedded {
        println!(
            "embedded default: account {:?} with sample images; try",
            seed::DEMO_ACCOUNT
        );
        for (path, _) in seed::SAMPLES {
            println!("  {base}/{}/{path}", seed::DEMO_ACCOUNT);
        }
        println!(
            "  {base}/{}/tr:w-300,h-200,f-webp/samples/fresh-flower.jpg   (transformed)",
            seed::DEMO_ACCOUNT
        );
        println!(
            "dashboard: {base}/dashboard (account {:?}, private key {:?})",
            seed::DEMO_ACCOUNT,
            seed::DEMO_PRIVATE_KEY
        );
    } else {
        // A summary, not a list: an operator with thousands of tenants needs the first lines.
        const LISTED: usize = 5;
        for account in account_ids.iter().take(LISTED) {
            println!("account {account:?}: {base}/{account}/<path>");
        }
        if account_ids.len() > LISTED {
            println!("… and {} more accounts", account_ids.len() - LISTED);
        }
        println!("dashboard: {base}/dashboard");
    }
}

/// Warns about endpoints whose default image is not in the account's Media Library (it would
/// never be served). Looked up for the first endpoints only, so a start with many tenants stays
/// fast.
async fn warn_missing_default_images(control: &Control) {
    const CHECKED: usize = 1000;
    let catalog = control.catalog_full();
    let endpoints = catalog.accounts().flat_map(|account| {
        account
            .endpoints
            .values()
            .filter_map(move |e| Some((account, e, e.record.default_image.as_deref()?)))
    });
    for (account, endpoint, path) in endpoints.take(CHECKED) {
        let path = path.trim_start_matches('/');
        if let pixelway_origins::Fetch::NotHere(_) = account.media_library.origin.fetch(path).await
        {
            tracing::warn!(
                account = %account.record.id,
                endpoint = %endpoint.record.identifier,
                default_image = %path,
                "the endpoint's default image is not in the Media Library: it will not be served"
            );
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!(signal = "SIGINT", "shutting down: no new connections, open ones drain"),
        _ = terminate => tracing::info!(signal = "SIGTERM", "shutting down: no new connections, open ones drain"),
    }
}
