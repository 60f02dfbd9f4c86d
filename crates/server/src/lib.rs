//! The node: composes the surfaces into one HTTP server. Everything else lives in the crate of
//! its surface:
//!
//! - `pixelway-control`: the one change path, the catalog, purges (no HTTP types)
//! - `pixelway-delivery`: the front door ([`pixelway_delivery::edge`]) and the delivery path
//! - `pixelway-api`: the management API, sign-in and sessions
//! - `pixelway-dashboard`: the dashboard's pages
//!
//! This crate puts their routers together ([`app`]) and accepts connections ([`listen`]).
//! docs/architecture.md lists which crate may use which; a test holds them to it.

pub mod app;
pub mod listen;

pub use app::{Node, for_router, router};
