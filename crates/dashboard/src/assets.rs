//! The dashboard's style sheet, script and icon, embedded in the binary at build time and
//! served with a long cache lifetime: their URLs carry a hash of their content, so a changed
//! file is a new URL.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// (file name, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../assets/dashboard.css"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/dashboard.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../assets/icon.svg"),
    ),
];

/// Each asset's URL: `/dashboard/assets/<stem>.<hash>.<extension>`.
static URLS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|(name, _, body)| {
            let hash = &hex::encode(Sha256::digest(body.as_bytes()))[..12];
            let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
            format!("/dashboard/assets/{stem}.{hash}.{extension}")
        })
        .collect()
});

/// The URL of asset `name` (`dashboard.css`, `dashboard.js`, `icon.svg`).
pub fn url(name: &str) -> &'static str {
    ASSETS
        .iter()
        .position(|(asset, _, _)| *asset == name)
        .map_or("/dashboard/assets/missing", |i| URLS[i].as_str())
}

/// `GET /dashboard/assets/{name}`: the hashed name, or the plain one.
pub async fn serve(Path(name): Path<String>) -> Response {
    let requested = format!("/dashboard/assets/{name}");
    let found = ASSETS
        .iter()
        .zip(URLS.iter())
        .find(|((plain, _, _), hashed)| **hashed == requested || *plain == name);
    match found {
        Some(((_, content_type, body), _)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}
