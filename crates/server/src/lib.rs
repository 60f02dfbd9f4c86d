//! pixelway's HTTP surfaces: delivery (`/{account}/…` and custom domains), the management API
//! ([`api`]) and the dashboard ([`dashboard`]). Delivery errors are mapped to HTTP in [`error`].

pub mod access_log;
pub mod api;
pub mod app;
pub mod auth;
pub mod cache_keys;
pub mod catalog;
pub mod control;
pub mod dashboard;
pub mod delivery;
pub mod edge;
pub mod error;
pub mod forwarded;
pub mod listen;
pub mod metrics;
pub mod private_files;
pub mod purge;
pub mod readiness;

pub use app::{App, Settings, router};
pub use catalog::{Catalog, MediaLibraryFactory};
pub use control::{Control, ControlError, MediaLibrary};

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
