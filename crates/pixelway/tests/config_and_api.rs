//! The config file and the management API side by side: entities the file declares are shown
//! as managed by it and refused by the API (409 naming the file's key); entities made through
//! the API persist across restarts and are never touched by the file; entities the file stops
//! declaring are removed at the next start.

use pixelway_testkit::api::Auth;
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
    server
        .api(Auth::Basic("private_acme"), method, path, body)
        .await
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

    // Restart with the same file: its entities are not even read (the store has them), and
    // everything serves as before.
    server.kill();
    let mut server = Pixelway::start_in(BIN, Some(&config(&web, true)), dir.path(), &[]);
    assert!(
        server
            .wait_for_output("entities are unchanged since they were applied")
            .is_some()
    );
    assert!(
        !server
            .output()
            .iter()
            .any(|line| line.contains("entities loaded")),
        "not read"
    );
    for path in ["/acme/catalog/a.jpg", "/acme/api-made/a.jpg"] {
        assert_eq!(status_of(&server, path).await, StatusCode::OK, "{path}");
    }

    // Restart with the file no longer declaring `catalog`: it stops serving; the API's stays.
    server.kill();
    let server = Pixelway::start_in(BIN, Some(&config(&web, false)), dir.path(), &[]);
    assert!(server.wait_for_output("entities loaded").is_some(), "read");
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

/// `pixelway config export` prints what the store holds — the file's entities and the API's —
/// as config sections with secrets as `${ENV}` references; served from that file (with the
/// variables set) a fresh server has the same accounts, origins (secrets included), endpoints,
/// named transformations and custom domains.
#[tokio::test]
async fn an_exported_config_reproduces_the_store() {
    let moto = pixelway_testkit::Moto::shared();
    moto.create_bucket("export-bucket").await;
    moto.put("export-bucket", "in-bucket.jpg", CUPS).await;
    let web = WebOrigin::start();
    web.serve("/a.jpg", CUPS);
    let settings = r#"
[server]
admin_token = "operator-secret"

[limits]
allowed_origin_networks = ["127.0.0.1/32"]
"#;
    let original = format!(
        r#"{settings}
[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "bucket"
  type = "s3"
  bucket = "export-bucket"
  endpoint = "{}"
  access_key_id = "moto-key"
  secret_access_key = "moto-secret-value"
  allow_http = true

  [[account.endpoint]]
  identifier = "cfg"
  origins = ["bucket"]
"#,
        moto.endpoint
    );
    let dir = tempfile::tempdir().unwrap();
    let mut first = Pixelway::start_in(BIN, Some(&original), dir.path(), &[]);
    let (status, web_origin) = api(
        &first,
        "POST",
        "/v1/accounts/origins",
        &format!(
            r#"{{"type":"WEB_FOLDER","name":"web","baseUrl":"{}"}}"#,
            web.base_url
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let web_id = web_origin["id"].as_str().unwrap();
    let (status, _) = api(&first, "POST", "/v1/accounts/url-endpoints",
        &format!(r#"{{"description":"from the API","urlPrefix":"api-made","origins":["{web_id}"],"signedUrlsOnly":false}}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api(
        &first,
        "POST",
        "/v1/named-transformations",
        r#"{"name":"thumb","transformation":"w-40"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mapped = pixelway_testkit::http_client()
        .put(first.url("/v1/operator/custom-domains/shop.acme.test"))
        .bearer_auth("operator-secret")
        .body(r#"{"accountId":"acme","urlPrefix":"api-made"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(mapped.status(), StatusCode::OK);
    first.kill();

    let output = std::process::Command::new(BIN)
        .args(["config", "export", "--config"])
        .arg(dir.path().join("pixelway.toml"))
        .env("PIXELWAY_STORAGE__DATA_DIR", &first.data_dir)
        .output()
        .unwrap();
    let exported = String::from_utf8(output.stdout).unwrap();
    let listed = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{listed}");
    assert!(
        !exported.contains("moto-secret-value") && !exported.contains("private_acme"),
        "{exported}"
    );
    assert!(!listed.contains("moto-secret-value"), "{listed}");
    for variable in [
        "PIXELWAY_SECRET_ACME_PRIVATE_KEY",
        "PIXELWAY_SECRET_ACME_BUCKET_SECRET_ACCESS_KEY",
    ] {
        assert!(exported.contains(&format!("${{{variable}}}")), "{exported}");
        assert!(listed.contains(variable), "{listed}");
    }

    let fresh = tempfile::tempdir().unwrap();
    let env = [
        ("PIXELWAY_SECRET_ACME_PRIVATE_KEY", "private_acme"),
        (
            "PIXELWAY_SECRET_ACME_BUCKET_SECRET_ACCESS_KEY",
            "moto-secret-value",
        ),
    ];
    let second = Pixelway::start_in(
        BIN,
        Some(&format!("{settings}\n{exported}")),
        fresh.path(),
        &env,
    );
    assert_eq!(
        status_of(&second, "/acme/cfg/in-bucket.jpg").await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&second, "/acme/api-made/a.jpg").await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&second, "/acme/api-made/tr:n-thumb/a.jpg").await,
        StatusCode::OK
    );
    let on_domain = pixelway_testkit::http_client()
        .get(second.url("/a.jpg"))
        .header("host", "shop.acme.test")
        .send()
        .await
        .unwrap();
    assert_eq!(on_domain.status(), StatusCode::OK);
    let (_, endpoints) = api(&second, "GET", "/v1/accounts/url-endpoints", "").await;
    assert_eq!(
        find(&endpoints, "urlPrefix", "api-made")["description"],
        "from the API"
    );
    // The secret came back through the environment, not through the file.
    second_store_secret(&second.data_dir, "moto-secret-value").await;
}

/// The bucket origin's secret in a server's store equals `expected`.
async fn second_store_secret(data_dir: &std::path::Path, expected: &str) {
    use pixelway_store::{SecretBox, Store};
    let secrets = SecretBox::from_key_file(&data_dir.join("secrets.key")).unwrap();
    let url = format!("sqlite://{}", data_dir.join("pixelway.db").display());
    let store = Store::open(&url, secrets).await.unwrap();
    let origin = store
        .origins_of("acme")
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "bucket")
        .unwrap();
    let mut spec = origin.spec;
    let secrets = spec.take_secrets();
    assert_eq!(
        secrets.get("secret_access_key").map(String::as_str),
        Some(expected)
    );
}

/// When the file declares what the API made, it takes it over: `pixelway check` says so (and
/// what a restart would remove) beforehand without changing anything, and the restart logs it at
/// warn. Keys of a file-declared account are the file's: a rotation says what to change.
#[tokio::test]
async fn takeovers_are_previewed_by_check_and_logged_at_restart() {
    let web = WebOrigin::start();
    web.serve("/a.jpg", CUPS);
    let dir = tempfile::tempdir().unwrap();
    let with_token =
        |text: String| text.replace("[limits]", "[server]\nadmin_token = \"op\"\n\n[limits]");
    let mut server =
        Pixelway::start_in(BIN, Some(&with_token(config(&web, false))), dir.path(), &[]);
    let (_, origins) = api(&server, "GET", "/v1/accounts/origins", "").await;
    let site_id = find(&origins, "name", "site")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body =
        format!(r#"{{"description":"the API's","urlPrefix":"catalog","origins":["{site_id}"]}}"#);
    let (status, _) = api(&server, "POST", "/v1/accounts/url-endpoints", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let rotate = pixelway_testkit::http_client()
        .post(server.url("/v1/operator/accounts/acme/keys"))
        .bearer_auth("op")
        .send()
        .await
        .unwrap();
    assert_eq!(rotate.status(), StatusCode::CONFLICT);
    let message = rotate.text().await.unwrap();
    assert!(
        message.contains("private_key and public_key") && message.contains("restart"),
        "{message}"
    );
    server.kill();

    // The next file declares `catalog` and no longer `small`.
    let next = with_token(config(&web, true)).replace(
        "[[account.named_transformation]]\nname = \"small\"\ntransformation = \"w-20\"\n",
        "",
    );
    let file = dir.path().join("next.toml");
    std::fs::write(&file, &next).unwrap();
    let data_dir = dir.path().join("data");
    let output = std::process::Command::new(BIN)
        .args(["check", "--config"])
        .arg(&file)
        .env("PIXELWAY_STORAGE__DATA_DIR", &data_dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        out.contains("a restart takes over: endpoint \"catalog\" of account \"acme\" was made through the API"),
        "{out}"
    );
    assert!(
        out.contains("a restart removes: [[account]] id = \"acme\" › [[account.named_transformation]] name = \"small\""),
        "{out}"
    );
    // Nothing changed: the endpoint is still the API's, `small` still there.
    let server = Pixelway::start_in(BIN, Some(&with_token(config(&web, false))), dir.path(), &[]);
    let (_, endpoints) = api(&server, "GET", "/v1/accounts/url-endpoints", "").await;
    assert!(find(&endpoints, "urlPrefix", "catalog")["managedBy"].is_null());
    drop(server);

    // The restart with the next file takes it over and says so.
    let server = Pixelway::start_in(BIN, Some(&next), dir.path(), &[]);
    let line = server
        .wait_for_output("was made through the API; the config file now manages it")
        .expect("the takeover is logged");
    assert!(
        line.contains("WARN") && line.contains("\"catalog\""),
        "{line}"
    );
    let (_, endpoints) = api(&server, "GET", "/v1/accounts/url-endpoints", "").await;
    assert!(!find(&endpoints, "urlPrefix", "catalog")["managedBy"].is_null());
}
