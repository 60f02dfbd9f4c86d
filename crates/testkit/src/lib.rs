//! The one place where pixelway's tests start servers, all on 127.0.0.1 with random ports:
//! the real `pixelway` binary ([`Pixelway`]), an S3-protocol server ([`Moto`]), HTTP origins
//! with scripted behaviour ([`WebOrigin`]), the GCS and Azure emulators ([`GcsEmulator`],
//! [`Azurite`]), a throwaway PostgreSQL ([`Postgres`]), nginx as a load balancer ([`Nginx`]),
//! and headless Chromium for the dashboard
//! ([`run_browser`]). Every child process dies with the test process.

pub mod api;
mod browser;
mod emulators;
mod moto;
pub mod multipart;
mod nginx;
mod pixelway;
mod postgres;
mod process;
mod relay;
mod sdk;
mod web;

pub use browser::{run_browser, screenshot_dir};
pub use emulators::{Azurite, GcsEmulator};
pub use moto::Moto;
pub use nginx::Nginx;
pub use pixelway::Pixelway;
pub use postgres::Postgres;
pub use process::{closed_port, free_port};
pub use sdk::{Sdk, UrlRequest, build_all, imagekit_url, run_management};
pub use web::{Behaviour, WebOrigin};

/// A tool a test needs is missing: the message says how to install it.
pub fn require_tool(name: &str, install: &str) -> std::path::PathBuf {
    which(name)
        .unwrap_or_else(|| panic!("{name} not found on PATH; run scripts/test.sh or `{install}`"))
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The path of one of the sample images pixelway ships (`crates/pixelway/assets/samples/`).
pub fn sample_path(name: &str) -> String {
    repo_root()
        .join("crates/pixelway/assets/samples")
        .join(name)
        .display()
        .to_string()
}

/// The repository root (for tools installed under `.tools/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit is two levels below the root")
        .to_path_buf()
}

/// The HTTP client tests use against pixelway and origins: no proxy from the environment.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}
