//! The `pixelway` binary: command line, logging, and the `serve` command.

mod apply;
mod config;
mod media;
mod seed;
mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve { config: None }) {
        Command::Serve { config } => runtime.block_on(serve::run(config)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; level from PIXELWAY_LOG (e.g. `debug`, `pixelway=debug,tower_http=debug`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PIXELWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
