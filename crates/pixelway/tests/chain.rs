//! The origin chain end to end, through the real binary against real origins: an S3-protocol
//! server (moto) and HTTP servers. Preference order, S3 prefixes, fall-through on 404, 500,
//! refused connections and hanging origins, the default image, `ik-error` causes, the trace
//! header, coalescing of cold misses and the size limit.

use futures::future::join_all;
use pixelway_testkit::{Behaviour, Moto, Pixelway, WebOrigin, closed_port, http_client as client};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const ADMIN: &str = "chain-test-admin-token";

/// Account `acme`: endpoint `product-images` = [S3 "products" (prefix catalog), S3 "backup"],
/// endpoint `web` = [500-answering, refused, hanging, healthy web folders], endpoint `limited`
/// whose default image is in the Media Library.
async fn start(moto: &Moto, web: &WebOrigin, bucket: &str) -> Pixelway {
    moto.create_bucket(&format!("{bucket}-products")).await;
    moto.create_bucket(&format!("{bucket}-backup")).await;
    let config = format!(
        r#"
[server]
admin_token = "{ADMIN}"

[limits]
origin_timeout = "1s"
allow_private_origin_addresses = true
max_origin_bytes = "64KiB"

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "products"
  {products}
  [[account.origin]]
  name = "backup"
  {backup}
  [[account.origin]]
  name = "broken"
  type = "web_folder"
  base_url = "{web}/broken"

  [[account.origin]]
  name = "refusing"
  type = "web_folder"
  base_url = "http://127.0.0.1:{closed}/x"

  [[account.origin]]
  name = "hanging"
  type = "web_folder"
  base_url = "{web}/hanging"

  [[account.origin]]
  name = "healthy"
  type = "web_folder"
  base_url = "{web}/healthy"

  [[account.endpoint]]
  identifier = "product-images"
  origins = ["products", "backup"]
  default_image = "defaults/missing.jpg"

  [[account.endpoint]]
  identifier = "web"
  origins = ["broken", "refusing", "hanging", "healthy"]

  [[account.endpoint]]
  identifier = "refused-only"
  origins = ["refusing"]

  [[account.endpoint]]
  identifier = "hanging-only"
  origins = ["hanging"]
"#,
        products = moto.origin_toml(&format!("{bucket}-products"), "catalog"),
        backup = moto.origin_toml(&format!("{bucket}-backup"), ""),
        web = web.base_url,
        closed = closed_port(),
    );
    let server = Pixelway::start(BIN, Some(&config));
    let default = server.data_dir.join("media/acme/defaults/missing.jpg");
    std::fs::create_dir_all(default.parent().unwrap()).unwrap();
    std::fs::write(default, b"\xFF\xD8\xFF\xE0 default image").unwrap();
    server
}

async fn get(server: &Pixelway, path: &str) -> reqwest::Response {
    client().get(server.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn preference_order_prefix_and_fallthrough_to_backup() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let server = start(moto, &web, "order").await;
    moto.put("order-products", "catalog/shoes/red.jpg", b"from products")
        .await;
    moto.put("order-backup", "shoes/red.jpg", b"from backup")
        .await;
    moto.put("order-backup", "shoes/blue.jpg", b"only in backup")
        .await;
    moto.put("order-products", "shoes/green.jpg", b"outside the prefix")
        .await;

    let first = get(&server, "/acme/product-images/shoes/red.jpg").await;
    assert_eq!(first.headers()["x-pixelway-origin"], "products");
    assert_eq!(first.text().await.unwrap(), "from products");
    let fallback = get(&server, "/acme/product-images/shoes/blue.jpg").await;
    assert_eq!(fallback.headers()["x-pixelway-origin"], "backup");
    assert_eq!(fallback.text().await.unwrap(), "only in backup");
    // The prefix is honoured: a key outside it is not served.
    let outside = get(&server, "/acme/product-images/shoes/green.jpg").await;
    assert_eq!(outside.headers()["x-pixelway-default-image"], "true");
    // The Media Library always comes first.
    let library = server.data_dir.join("media/acme/shoes/red.jpg");
    std::fs::create_dir_all(library.parent().unwrap()).unwrap();
    std::fs::write(library, b"from the library").unwrap();
    // Written behind pixelway's back (not through the API, which would say so): until its URL
    // is purged, the answer held in memory is still the products bucket's.
    let held = get(&server, "/acme/product-images/shoes/red.jpg").await;
    assert_eq!(held.headers()["x-pixelway-origin"], "products");
    let url = server.url("/acme/product-images/shoes/red.jpg");
    let (status, _) = server
        .api(
            pixelway_testkit::api::Auth::Basic("private_acme"),
            "POST",
            "/v1/files/purge",
            &serde_json::json!({ "url": url }).to_string(),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let preferred = get(&server, "/acme/product-images/shoes/red.jpg").await;
    assert_eq!(preferred.headers()["x-pixelway-origin"], "media-library");
    assert_eq!(preferred.text().await.unwrap(), "from the library");
}

#[tokio::test]
async fn falls_through_500_refused_and_hanging_origins_within_the_timeout() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let server = start(moto, &web, "fall").await;
    web.set("/broken/a.jpg", Behaviour::Status(500));
    web.set("/hanging/a.jpg", Behaviour::Hang);
    web.serve("/healthy/a.jpg", b"healthy bytes");
    let started = Instant::now();
    let response = client()
        .get(server.url("/acme/web/a.jpg"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-pixelway-origin"], "healthy");
    let trace = response.headers()["x-pixelway-trace"]
        .to_str()
        .unwrap()
        .to_string();
    // The operator's view of the origins is never kept by a shared cache.
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    assert_eq!(response.text().await.unwrap(), "healthy bytes");
    assert!(
        elapsed < Duration::from_secs(4),
        "took {elapsed:?} with a 1 s origin timeout"
    );
    for expected in [
        "media-library=ENOENT",
        "broken=UNIDENTIFIED",
        "refusing=ECONNREFUSED",
        "hanging=ETIMEDOUT",
        "healthy=found",
    ] {
        assert!(trace.contains(expected), "{trace:?} lacks {expected:?}");
    }
    assert_eq!(web.hits("/broken/a.jpg"), 1, "no retries by default");
    // Without the admin token there is no trace, and the answer is cacheable as usual.
    let plain = get(&server, "/acme/web/a.jpg").await;
    assert!(!plain.headers().contains_key("x-pixelway-trace"));
    assert!(
        plain.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
}

#[tokio::test]
async fn not_found_names_the_most_specific_cause() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let server = start(moto, &web, "cause").await;
    web.set("/broken/forbidden.jpg", Behaviour::Status(403));
    let cases = [
        ("/acme/web/nowhere.jpg", "ECONNREFUSED"),
        ("/acme/refused-only/a.jpg", "ECONNREFUSED"),
        ("/acme/hanging-only/nothing.jpg", "ENOENT"),
        ("/acme/missing.jpg", "ENOENT"),
    ];
    web.set("/hanging/slow.jpg", Behaviour::Hang);
    for (path, code) in cases {
        let response = get(&server, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let ik_error = response.headers()["ik-error"].to_str().unwrap();
        assert!(ik_error.starts_with(code), "{path}: {ik_error}");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=10")
        );
    }
    let timed_out = get(&server, "/acme/hanging-only/slow.jpg").await;
    assert!(
        timed_out.headers()["ik-error"]
            .to_str()
            .unwrap()
            .starts_with("ETIMEDOUT")
    );
    let forbidden = get(&server, "/acme/web/forbidden.jpg").await;
    assert!(
        forbidden.headers()["ik-error"]
            .to_str()
            .unwrap()
            .starts_with("EACCES")
    );
}

#[tokio::test]
async fn default_image_when_no_origin_has_the_file() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let server = start(moto, &web, "default").await;
    let response = get(&server, "/acme/product-images/no/such/file.jpg").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-pixelway-default-image"], "true");
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert!(response.text().await.unwrap().ends_with("default image"));
    // Endpoints without a default image answer 404.
    assert_eq!(
        get(&server, "/acme/web-nothing.jpg").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn concurrent_cold_requests_cause_one_origin_fetch() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let server = start(moto, &web, "coalesce").await;
    let bytes: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    web.set(
        "/healthy/cold.jpg",
        Behaviour::Serve {
            bytes: bytes.clone(),
            delay: Duration::from_millis(300),
        },
    );
    let client = client();
    let requests = (0..100).map(|_| {
        let client = client.clone();
        let url = server.url("/acme/web/cold.jpg");
        async move { client.get(url).send().await.unwrap().bytes().await.unwrap() }
    });
    let bodies = join_all(requests).await;
    assert!(
        bodies.iter().all(|b| b[..] == bytes[..]),
        "every client got the whole file"
    );
    assert_eq!(
        web.hits("/healthy/cold.jpg"),
        1,
        "exactly one origin request"
    );
    // Later requests are served from the cache of originals.
    assert_eq!(
        get(&server, "/acme/web/cold.jpg")
            .await
            .bytes()
            .await
            .unwrap()[..],
        bytes[..]
    );
    assert_eq!(web.hits("/healthy/cold.jpg"), 1);
}

#[tokio::test]
async fn originals_over_the_limit_or_truncated_are_never_served_or_cached() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let server = start(moto, &web, "limits").await;
    web.serve("/healthy/huge.jpg", &vec![7u8; 100 * 1024]);
    let huge = get(&server, "/acme/web/huge.jpg").await;
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
    assert!(
        huge.headers()["ik-error"]
            .to_str()
            .unwrap()
            .starts_with("ELIMIT")
    );

    web.set("/healthy/cut.jpg", Behaviour::Truncated(vec![1u8; 20_000]));
    let cut = get(&server, "/acme/web/cut.jpg").await;
    assert_ne!(cut.status(), StatusCode::OK);
    // Once the origin serves it whole, the whole file is served (nothing partial was cached).
    web.serve("/healthy/cut.jpg", &[2u8; 20_000]);
    let whole = get(&server, "/acme/web/cut.jpg").await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.bytes().await.unwrap().len(), 20_000);
}

#[tokio::test]
async fn cached_originals_survive_an_origin_outage_and_a_restart() {
    let moto = Moto::shared();
    let web = WebOrigin::start();
    let mut server = start(moto, &web, "outage").await;
    web.serve("/healthy/kept.jpg", b"kept bytes");
    assert_eq!(
        get(&server, "/acme/web/kept.jpg")
            .await
            .text()
            .await
            .unwrap(),
        "kept bytes"
    );
    web.set("/healthy/kept.jpg", Behaviour::Status(503));
    assert_eq!(
        get(&server, "/acme/web/kept.jpg")
            .await
            .text()
            .await
            .unwrap(),
        "kept bytes"
    );
    // Crash and restart over the same data directory: the cache index is rebuilt from disk.
    let dir = server.data_dir.parent().unwrap().to_path_buf();
    let config = std::fs::read_to_string(dir.join("pixelway.toml")).unwrap();
    server.kill();
    let restarted = Pixelway::start_in(BIN, Some(&config), &dir, &[]);
    let again = get(&restarted, "/acme/web/kept.jpg").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.text().await.unwrap(), "kept bytes");
    assert_eq!(web.hits("/healthy/kept.jpg"), 1);
}

#[tokio::test]
async fn per_origin_retries_and_hidden_origin_header() {
    let web = WebOrigin::start();
    web.set("/flaky/a.jpg", Behaviour::Status(502));
    web.serve("/quiet/b.jpg", b"quiet");
    let config = format!(
        r#"
[limits]
allow_private_origin_addresses = true

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
hide_origin_header = true

  [[account.origin]]
  name = "flaky"
  type = "web_folder"
  base_url = "{web}/flaky"
  retries = 2
  timeout = "500ms"

  [[account.origin]]
  name = "quiet"
  type = "web_folder"
  base_url = "{web}/quiet"

  [[account.endpoint]]
  identifier = ""
  origins = ["flaky", "quiet"]
"#,
        web = web.base_url
    );
    let server = Pixelway::start(BIN, Some(&config));
    let failed = get(&server, "/acme/a.jpg").await;
    assert_eq!(failed.status(), StatusCode::NOT_FOUND);
    assert!(
        failed.headers()["ik-error"]
            .to_str()
            .unwrap()
            .starts_with("UNIDENTIFIED")
    );
    assert_eq!(web.hits("/flaky/a.jpg"), 3, "one attempt plus two retries");
    let served = get(&server, "/acme/b.jpg").await;
    assert_eq!(served.status(), StatusCode::OK);
    assert!(
        !served.headers().contains_key("x-pixelway-origin"),
        "the account hides it"
    );
}
