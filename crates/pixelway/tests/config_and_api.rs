//! The config file and the management API side by side: entities the file declares are shown
//! as managed by it and refused by the API (409 naming the file's key); entities made through
//! the API persist across restarts and are never touched by the file; entities the file stops
//! declaring are removed at the next start.

use pixelway_testkit::{Pixelway, WebOrigin};
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

fn config(web: &WebOrigin, with_catalog_endpoint: bool) -> String {
    let endpoint = if with_catalog_endpoint {
        r#"
  [[account.endpoint]]
  identifier = "catalog"
  origins = ["site"]
"#
    } else {
        ""
    };
    format!(
        r#"
[limits]
allowed_origin_networks = ["127.0.0.1/32"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "{}"
{endpoint}
[[account.named_transformation]]
name = "small"
transformation = "w-20"
"#,
        web.base_url
    )
}

async fn api(server: &Pixelway, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let response = pixelway_testkit::http_client()
        .request(method.parse().unwrap(), server.url(path))
        .basic_auth("private_acme", Some(""))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn status_of(server: &Pixelway, path: &str) -> StatusCode {
    pixelway_testkit::http_client()
        .get(server.url(path))
        .send()
        .await
        .unwrap()
        .status()
}

fn find<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no {field} = {value:?} in {list}"))
}

#[tokio::test]
async fn the_config_file_and_the_api_manage_their_own_entities() {
    let web = WebOrigin::start();
    web.serve("/a.jpg", CUPS);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Pixelway::start_in(BIN, Some(&config(&web, true)), dir.path(), &[]);

    // What the file declares is shown as its own, and refused.
    let (_, endpoints) = api(&server, "GET", "/v1/accounts/url-endpoints", "").await;
    let catalog = find(&endpoints, "urlPrefix", "catalog").clone();
    assert_eq!(
        catalog["managedBy"]["config"],
        r#"[[account]] id = "acme" › [[account.endpoint]] identifier = "catalog""#
    );
    let (_, origins) = api(&server, "GET", "/v1/accounts/origins", "").await;
    let site = find(&origins, "name", "site").clone();
    let site_id = site["id"].as_str().unwrap();
    let (status, body) = api(
        &server,
        "PUT",
        &format!(
            "/v1/accounts/url-endpoints/{}",
            catalog["id"].as_str().unwrap()
        ),
        r#"{"description":"mine now","urlPrefix":"catalog"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("[[account.endpoint]] identifier = \"catalog\""),
        "{body}"
    );
    let (status, body) = api(
        &server,
        "DELETE",
        &format!("/v1/accounts/origins/{site_id}"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, named) = api(&server, "GET", "/v1/named-transformations", "").await;
    let small = find(&named, "name", "small");
    assert!(
        small["managedBy"]["config"]
            .as_str()
            .unwrap()
            .contains("named_transformation")
    );
    let (status, _) = api(
        &server,
        "DELETE",
        &format!(
            "/v1/named-transformations/{}",
            small["id"].as_str().unwrap()
        ),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // What the API makes is the API's: it may use the file's origin, and survives restarts.
    let (status, made) = api(
        &server,
        "POST",
        "/v1/accounts/url-endpoints",
        &format!(
            r#"{{"description":"made by the API","urlPrefix":"api-made","origins":["{site_id}"]}}"#
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(made["managedBy"].is_null());
    assert_eq!(
        status_of(&server, "/acme/api-made/a.jpg").await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&server, "/acme/catalog/a.jpg").await,
        StatusCode::OK
    );

    // Restart with the file no longer declaring `catalog`: it stops serving; the API's stays.
    server.kill();
    let server = Pixelway::start_in(BIN, Some(&config(&web, false)), dir.path(), &[]);
    assert_eq!(
        status_of(&server, "/acme/catalog/a.jpg").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(&server, "/acme/api-made/a.jpg").await,
        StatusCode::OK
    );
    let (_, endpoints) = api(&server, "GET", "/v1/accounts/url-endpoints", "").await;
    let prefixes: Vec<&str> = endpoints
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["urlPrefix"].as_str().unwrap())
        .collect();
    assert_eq!(prefixes, ["", "api-made"]);
    assert_eq!(
        find(&endpoints, "urlPrefix", "api-made")["description"],
        "made by the API"
    );
}
