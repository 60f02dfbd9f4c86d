//! The `pixelway` binary: command line, logging, the `serve` command, and the client commands
//! (`import`, `account`, `domain`) that talk to a running server.

mod apply;
mod backup;
mod check;
mod client;
mod config;
mod config_parse;
mod export;
mod media;
mod seed;
mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// mimalloc instead of glibc's allocator: the server allocates small, short-lived objects per
/// request and millions of them at a many-tenant start-up, where glibc's malloc took a quarter
/// of the time (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// pixelway: a self-hosted image CDN.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve images (the default command). Without --config: the embedded default, with a demo
    /// account and sample images under ./pixelway-data.
    Serve {
        /// The config file (TOML); PIXELWAY_SECTION__KEY variables override its keys.
        #[arg(long, env = "PIXELWAY_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a config file as `serve` would, without serving; with --reach, also ask each origin
    /// whether it can be used. Exits non-zero on a problem.
    Check {
        /// The config file to check.
        #[arg(long, env = "PIXELWAY_CONFIG")]
        config: PathBuf,
        /// Also reach every origin (bucket there, credentials accepted), shown as a table.
        #[arg(long)]
        reach: bool,
    },
    /// Upload a folder tree into an account's Media Library through the management API
    /// (parallel, resumable: files already there with the same content are skipped).
    Import {
        /// The folder to upload (its sub-folders become library folders).
        dir: PathBuf,
        /// The account the private key belongs to.
        #[arg(long)]
        account: String,
        /// The account's private key.
        #[arg(long, env = "PIXELWAY_PRIVATE_KEY", hide_env_values = true)]
        private_key: String,
        /// The library folder to import under.
        #[arg(long, default_value = "/")]
        folder: String,
        /// Uploads at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Back up a node into a new or empty folder: the store (a consistent snapshot, taken while
    /// the node serves), the Media Library's files, the config file and the store's secrets
    /// key, the last two sealed with the backup key.
    Backup {
        /// The node's config file (its [storage] names what is backed up).
        #[arg(long, env = "PIXELWAY_CONFIG")]
        config: Option<PathBuf>,
        /// The folder to write (new or empty), or s3://BUCKET/PREFIX with [storage.s3]'s
        /// credentials.
        #[arg(long)]
        to: PathBuf,
        /// 32 random bytes in base64 (`openssl rand -base64 32`); keep it apart from the backup.
        #[arg(long, env = "PIXELWAY_BACKUP_KEY", hide_env_values = true)]
        key: String,
    },
    /// Restore a backup into a new or empty data folder.
    Restore {
        /// A folder or s3://BUCKET/PREFIX `pixelway backup` wrote.
        #[arg(long)]
        from: PathBuf,
        /// The new node's data folder (new or empty).
        #[arg(long)]
        data_dir: PathBuf,
        /// Where the backed-up config file is written (default: pixelway.toml inside the data
        /// folder).
        #[arg(long)]
        config_out: Option<PathBuf>,
        /// A config file whose [storage.s3] reads a backup in a bucket (the environment's
        /// PIXELWAY_STORAGE__S3__* work too).
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// The key the backup was made with.
        #[arg(long, env = "PIXELWAY_BACKUP_KEY", hide_env_values = true)]
        key: String,
    },
    /// Print the store's entities as a config file (secrets as ${ENV} references).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage accounts (operator API; needs the admin token).
    Account {
        #[command(subcommand)]
        command: client::admin::AccountCommand,
        #[command(flatten)]
        server: ServerArg,
        #[command(flatten)]
        token: AdminToken,
    },
    /// Manage custom domains (operator API; needs the admin token).
    Domain {
        #[command(subcommand)]
        command: client::admin::DomainCommand,
        #[command(flatten)]
        server: ServerArg,
        #[command(flatten)]
        token: AdminToken,
    },
}

/// What to do with the config.
#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the accounts, origins, URL endpoints, named transformations and custom domains the
    /// store holds as config sections that `serve --config` reproduces them from; the
    /// environment variables for their secrets are listed on standard error.
    Export {
        /// The config file whose [storage] names the store (default: the embedded default's).
        #[arg(long, env = "PIXELWAY_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// The running server a client command talks to.
#[derive(Debug, clap::Args)]
struct ServerArg {
    /// Base URL of the running pixelway.
    #[arg(
        long = "server",
        env = "PIXELWAY_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
}

/// The operator's token (`server.admin_token`).
#[derive(Debug, clap::Args)]
struct AdminToken {
    /// The operator's token, as `server.admin_token` in the server's config (needed by the
    /// account and domain commands)
    #[arg(
        long = "admin-token",
        value_name = "TOKEN",
        env = "PIXELWAY_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    value: Option<String>,
}

impl AdminToken {
    fn get(&self) -> anyhow::Result<&str> {
        self.value.as_deref().ok_or_else(|| {
            anyhow::anyhow!("give the admin token: --admin-token or PIXELWAY_ADMIN_TOKEN")
        })
    }
}

/// Threads of the runtime's blocking pool.
const MAX_BLOCKING_THREADS: usize = 64;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // File reads and image work run on the blocking pool (image work is bounded further by
        // limits.transform_workers); a cap keeps its threads, and their allocator caches, few.
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve { config: None });
    // `serve` starts logging once its config (and `server.log_format`) is read.
    if !matches!(command, Command::Serve { .. }) {
        init_logging(config::LogFormat::Text);
    }
    let result = match command {
        Command::Serve { config } => runtime.block_on(serve::run(config)),
        Command::Check { config, reach } => match runtime.block_on(check::run(&config, reach)) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Import {
            dir,
            account,
            private_key,
            folder,
            jobs,
            server,
        } => runtime.block_on(import(dir, account, private_key, folder, jobs, server)),
        Command::Config {
            command: ConfigCommand::Export { config },
        } => runtime.block_on(export_config(config)),
        Command::Backup { config, to, key } => runtime.block_on(async {
            let manifest = backup::backup(config.as_deref(), &to, &key).await?;
            println!(
                "backed up into {}: the store, {} Media Library files ({} bytes){}",
                to.display(),
                manifest.media_files,
                manifest.media_bytes,
                if manifest.config.is_some() {
                    ", the config file and the secrets key (sealed)"
                } else {
                    " and the secrets key (sealed)"
                }
            );
            Ok(())
        }),
        Command::Restore {
            from,
            data_dir,
            config_out,
            credentials,
            key,
        } => runtime.block_on(async {
            let config_out = config_out.unwrap_or_else(|| data_dir.join("pixelway.toml"));
            let manifest =
                backup::restore(&from, credentials.as_deref(), &data_dir, &config_out, &key)
                    .await?;
            println!(
                "restored into {}: the store and {} Media Library files",
                data_dir.display(),
                manifest.media_files
            );
            let config = match manifest.config {
                Some(_) => format!(" --config {}", config_out.display()),
                None => String::new(),
            };
            println!(
                "serve it with: PIXELWAY_STORAGE__DATA_DIR={} pixelway serve{config}",
                data_dir.display()
            );
            Ok(())
        }),
        Command::Account {
            command,
            server,
            token,
        } => runtime.block_on(async {
            let server = client::Server::new(&server.url)?;
            client::admin::account(&server, token.get()?, command).await
        }),
        Command::Domain {
            command,
            server,
            token,
        } => runtime.block_on(async {
            let server = client::Server::new(&server.url)?;
            client::admin::domain(&server, token.get()?, command).await
        }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn export_config(config: Option<PathBuf>) -> anyhow::Result<()> {
    let config = config::Config::load(config.as_deref())?;
    let store = serve::open_store(&config.storage).await?;
    let exported = export::export(&store).await?;
    print!("{}", exported.toml);
    eprintln!(
        "set these before serving from the exported file (their values are not written):\n  {}",
        exported.secret_variables.join("\n  ")
    );
    Ok(())
}

async fn import(
    dir: PathBuf,
    account: String,
    private_key: String,
    folder: String,
    jobs: usize,
    server: ServerArg,
) -> anyhow::Result<()> {
    let folder = pixelway_control::validate::folder_path(&folder)?;
    let server = client::Server::new(&server.url)?;
    let import = client::import::Import {
        dir,
        account,
        private_key,
        folder,
        jobs,
    };
    let summary = client::import::run(&server, &import).await?;
    println!("{}", summary.report(&import));
    if !summary.failed.is_empty() {
        anyhow::bail!("{} files failed", summary.failed.len());
    }
    Ok(())
}

/// Logs to stderr; level from PIXELWAY_LOG (e.g. `debug`, `pixelway=debug,tower_http=debug`).
/// Logs go to standard error, filtered by `PIXELWAY_LOG` (default `info`; SQL statements only
/// when `PIXELWAY_LOG` names `sqlx`), as text (coloured on a terminal) or JSON lines.
pub fn init_logging(format: config::LogFormat) {
    use std::io::IsTerminal;
    let directives = std::env::var("PIXELWAY_LOG").unwrap_or_else(|_| "info".to_string());
    let directives = if directives.contains("sqlx") {
        directives
    } else {
        format!("{directives},sqlx=warn")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Json => builder.json().flatten_event(true).try_init(),
        config::LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}
