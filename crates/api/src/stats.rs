//! `GET /metrics` (operator token): what the caches hold and how they are used, in
//! Prometheus' text exposition format, for a scraper or a look by hand. The memory tier's
//! bytes never exceed its budget; hits and misses say how well it fits the traffic.

use super::operator::Operator;
use crate::App;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;
use std::sync::Arc;

pub async fn metrics(_operator: Operator, State(app): State<Arc<App>>) -> impl IntoResponse {
    let memory = app.delivery.memory().stats();
    let mut text = String::new();
    let mut figure = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            text,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    figure(
        "pixelway_memory_cache_bytes",
        "gauge",
        "Bytes held by the memory tier (answers' sizes plus a fixed overhead each).",
        memory.bytes,
    );
    figure(
        "pixelway_memory_cache_budget_bytes",
        "gauge",
        "The memory tier's budget (storage.memory_cache_bytes).",
        memory.budget,
    );
    figure(
        "pixelway_memory_cache_entries",
        "gauge",
        "Answers held by the memory tier.",
        memory.entries,
    );
    figure(
        "pixelway_memory_cache_hits_total",
        "counter",
        "Requests answered from the memory tier.",
        memory.hits,
    );
    figure(
        "pixelway_memory_cache_misses_total",
        "counter",
        "Requests the memory tier could not answer.",
        memory.misses,
    );
    figure(
        "pixelway_memory_cache_too_large_total",
        "counter",
        "Answers left on disk for being above storage.memory_cache_max_object.",
        memory.too_large,
    );
    let _ = writeln!(
        text,
        "# HELP pixelway_disk_cache_bytes Bytes held by a disk cache.\n\
         # TYPE pixelway_disk_cache_bytes gauge\n\
         pixelway_disk_cache_bytes{{cache=\"originals\"}} {}\n\
         pixelway_disk_cache_bytes{{cache=\"results\"}} {}",
        app.delivery.originals().total_bytes(),
        app.delivery.results.total_bytes()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
