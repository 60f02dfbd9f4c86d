//! Commands that talk to a running pixelway over its HTTP API, as any client would:
//! `pixelway import` (the management API with an account's private key) and `pixelway account`
//! / `pixelway domain` (the operator API with the admin token).

pub mod admin;
pub mod import;

use anyhow::{Context, bail};
use serde_json::Value;

/// Where the server is and how to sign in.
#[derive(Debug, Clone)]
pub struct Server {
    pub base_url: String,
    pub http: reqwest::Client,
}

impl Server {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("pixelway-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("HTTP client")?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// The JSON of a successful answer, or an error with the server's message.
pub async fn json_of(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let bytes = response.bytes().await.context("reading the answer")?;
    let value: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    if !status.is_success() {
        let message = value["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string());
        bail!("{status}: {message}");
    }
    Ok(value)
}
