//! `pixelway account …` and `pixelway domain …`: the operator API from the command line.

use super::{Server, json_of};
use anyhow::Context;
use serde_json::{Value, json};

/// What to do with accounts.
#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// List accounts (ids and public keys).
    List,
    /// Create an account; prints its keys (the private key is shown this once).
    Create { id: String },
    /// Give an account new keys; URLs signed with the old private key stop working.
    RotateKeys { id: String },
    /// Delete an account with everything it has (entities, files, library bytes).
    Delete { id: String },
}

/// What to do with custom domains.
#[derive(Debug, clap::Subcommand)]
pub enum DomainCommand {
    /// List custom domains.
    List,
    /// Map a host to an account's default endpoint, or with --endpoint to one endpoint.
    Map {
        host: String,
        #[arg(long)]
        account: String,
        /// The endpoint's identifier (URL prefix); without it: the default endpoint.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Remove a custom domain.
    Unmap { host: String },
}

async fn call(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut request = server
        .http
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {}", server.base_url))?;
    json_of(response).await
}

fn print(value: &Value) {
    match value {
        Value::Null => {}
        other => println!(
            "{}",
            serde_json::to_string_pretty(other).unwrap_or_default()
        ),
    }
}

pub async fn account(server: &Server, token: &str, command: AccountCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    let answer = match command {
        AccountCommand::List => {
            call(server, token, Method::GET, "/v1/operator/accounts", None).await?
        }
        AccountCommand::Create { id } => {
            call(
                server,
                token,
                Method::POST,
                "/v1/operator/accounts",
                Some(json!({ "id": id })),
            )
            .await?
        }
        AccountCommand::RotateKeys { id } => {
            call(
                server,
                token,
                Method::POST,
                &format!("/v1/operator/accounts/{id}/keys"),
                None,
            )
            .await?
        }
        AccountCommand::Delete { id } => {
            call(
                server,
                token,
                Method::DELETE,
                &format!("/v1/operator/accounts/{id}"),
                None,
            )
            .await?;
            println!("account {id:?} deleted");
            Value::Null
        }
    };
    print(&answer);
    Ok(())
}

pub async fn domain(server: &Server, token: &str, command: DomainCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    let answer = match command {
        DomainCommand::List => {
            call(
                server,
                token,
                Method::GET,
                "/v1/operator/custom-domains",
                None,
            )
            .await?
        }
        DomainCommand::Map {
            host,
            account,
            endpoint,
        } => {
            let body = json!({ "accountId": account, "urlPrefix": endpoint });
            let mapped = call(
                server,
                token,
                Method::PUT,
                &format!("/v1/operator/custom-domains/{host}"),
                Some(body),
            )
            .await?;
            println!(
                "create this DNS record: {} {} → {}",
                mapped["dnsRecord"]["type"].as_str().unwrap_or("CNAME"),
                mapped["dnsRecord"]["name"].as_str().unwrap_or(&host),
                mapped["dnsRecord"]["value"].as_str().unwrap_or("?")
            );
            mapped
        }
        DomainCommand::Unmap { host } => {
            call(
                server,
                token,
                Method::DELETE,
                &format!("/v1/operator/custom-domains/{host}"),
                None,
            )
            .await?;
            println!("custom domain {host:?} removed");
            Value::Null
        }
    };
    print(&answer);
    Ok(())
}
