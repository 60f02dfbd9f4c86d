//! Routing end to end, through the real binary: the embedded default, public hosts, endpoint
//! identifiers, custom domains (alias and one-to-one), unknown hosts and bad input. (Account
//! isolation has its own sweep: tests/isolation.rs.)

use pixelway_testkit::{Pixelway, WebOrigin, http_client as client};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

async fn get(url: &str, host: Option<&str>) -> reqwest::Response {
    let mut request = client().get(url);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn embedded_default_serves_the_demo_samples() {
    let server = Pixelway::start(BIN, None);
    let response = get(&server.url("/demo/samples/cups.jpg"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.headers()["x-pixelway-origin"], "media-library");
    assert!(response.headers().contains_key("x-request-id"));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
    assert_eq!(bytes.len(), 91750);
    let missing = get(&server.url("/demo/samples/none.jpg"), None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        missing.headers()["ik-error"]
            .to_str()
            .unwrap()
            .starts_with("ENOENT")
    );
    assert!(missing.headers().contains_key("x-request-id"));
}

/// Two accounts, one with an identifier endpoint over a web origin, and two custom domains.
fn two_accounts(web: &WebOrigin) -> String {
    format!(
        r#"
[server]
public_hosts = ["img.example.com", "127.0.0.1"]

[limits]
allow_private_origin_addresses = true

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "{web}/acme"

  [[account.endpoint]]
  identifier = "product-images"
  origins = ["site"]

[[account]]
id = "globex"
private_key = "private_globex"
public_key = "public_globex"

  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "{web}/globex"

[[custom_domain]]
host = "images.acme.test"
account = "acme"

[[custom_domain]]
host = "products.acme.test"
account = "acme"
endpoint = "product-images"
"#,
        web = web.base_url
    )
}

#[tokio::test]
async fn identifiers_custom_domains_and_unknown_hosts() {
    let web = WebOrigin::start();
    web.serve("/acme/shoes/red.jpg", b"acme red shoe");
    let server = Pixelway::start(BIN, Some(&two_accounts(&web)));
    server.put_media("acme", "logo.png", b"acme library logo");
    let port = server.addr.port();
    let public = Some("img.example.com");

    // Identifier endpoint on the public host; with a port in Host.
    let via_identifier = get(
        &server.url("/acme/product-images/shoes/red.jpg"),
        Some(&format!("img.example.com:{port}")),
    )
    .await;
    assert_eq!(via_identifier.status(), StatusCode::OK);
    assert_eq!(via_identifier.text().await.unwrap(), "acme red shoe");
    // The first origin an account adds joins its default endpoint.
    let via_default = get(&server.url("/acme/shoes/red.jpg"), public).await;
    assert_eq!(via_default.status(), StatusCode::OK);
    // Alias domain: default endpoint, identifiers still work, Media Library first.
    assert_eq!(
        get(&server.url("/logo.png"), Some("images.acme.test"))
            .await
            .text()
            .await
            .unwrap(),
        "acme library logo"
    );
    assert_eq!(
        get(
            &server.url("/product-images/shoes/red.jpg"),
            Some("IMAGES.acme.test:443")
        )
        .await
        .status(),
        StatusCode::OK
    );
    // One-to-one domain: no identifier in the URL.
    let one_to_one = get(&server.url("/shoes/red.jpg"), Some("products.acme.test")).await;
    assert_eq!(one_to_one.status(), StatusCode::OK);
    assert_eq!(one_to_one.text().await.unwrap(), "acme red shoe");
    // Unknown host and unknown account.
    assert_eq!(
        get(&server.url("/acme/shoes/red.jpg"), Some("evil.test"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&server.url("/nobody/shoes/red.jpg"), public)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&server.url("/product-images/shoes/red.jpg"), public)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_message() {
    let server = Pixelway::start(BIN, None);
    let cases = [
        ("/demo/../secrets.key", StatusCode::BAD_REQUEST, "'..'"),
        ("/demo/%2e%2e/secrets.key", StatusCode::BAD_REQUEST, "'..'"),
        (
            "/demo/%2E%2E%2Fsecrets.key",
            StatusCode::BAD_REQUEST,
            "'..'",
        ),
        (
            "/demo/%252e%252e/secrets.key",
            StatusCode::BAD_REQUEST,
            "'..'",
        ),
        (
            "/demo/samples%2f..%2f..%2fsecrets.key",
            StatusCode::BAD_REQUEST,
            "'..'",
        ),
        (
            "/demo/..%5c..%5csecrets.key",
            StatusCode::BAD_REQUEST,
            "backslash",
        ),
        (
            "/demo//etc/passwd",
            StatusCode::BAD_REQUEST,
            "empty path segment",
        ),
        ("/demo/a%00.jpg", StatusCode::BAD_REQUEST, "control"),
        ("/demo/a%zz.jpg", StatusCode::BAD_REQUEST, "%zz"),
        ("/demo/%c0%ae%c0%ae/x.jpg", StatusCode::BAD_REQUEST, "UTF-8"),
        ("/demo/a.jpg?tr=w-1%g", StatusCode::BAD_REQUEST, "query"),
        ("/demo/tr:/a.jpg", StatusCode::BAD_REQUEST, "tr:"),
    ];
    let client = client();
    for (target, status, needle) in cases {
        // reqwest would normalise some of these; send the raw target over a socket instead.
        let (got, body) = raw_get(&server, target).await;
        assert_eq!(got, status.as_u16(), "{target}: {body}");
        assert!(
            body.contains(needle),
            "{target}: {body:?} should mention {needle:?}"
        );
    }
    let long = format!("/demo/{}.jpg", "a".repeat(5000));
    assert_eq!(
        client.get(server.url(&long)).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let post = client
        .post(server.url("/demo/samples/cups.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The server is still up and serving.
    assert_eq!(
        client
            .get(server.url("/demo/samples/cups.jpg"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

/// Sends `GET target` exactly as given and returns (status, body).
async fn raw_get(server: &Pixelway, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Sends raw request bytes and returns the status line.
fn raw_status(server: &Pixelway, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// RFC 9110/9112 edges: two Host headers are refused; an absolute-form target is routed by its
/// own authority, not by the Host header; X-Forwarded-Host is never read.
#[tokio::test]
async fn host_header_edges() {
    let web = WebOrigin::start();
    web.serve("/acme/shoes/red.jpg", b"acme red shoe");
    let server = Pixelway::start(BIN, Some(&two_accounts(&web)));
    let two_hosts = "GET /acme/shoes/red.jpg HTTP/1.1\r\nHost: img.example.com\r\nHost: evil.test\r\nConnection: close\r\n\r\n";
    assert!(
        raw_status(&server, two_hosts).contains(" 400 "),
        "two Host headers"
    );
    // Absolute form: the one-to-one domain in the target wins over the public host in Host.
    let absolute = "GET http://products.acme.test/shoes/red.jpg HTTP/1.1\r\nHost: img.example.com\r\nConnection: close\r\n\r\n";
    assert!(
        raw_status(&server, absolute).contains(" 200 "),
        "absolute form"
    );
    let absolute_unknown = "GET http://evil.test/acme/shoes/red.jpg HTTP/1.1\r\nHost: img.example.com\r\nConnection: close\r\n\r\n";
    assert!(
        raw_status(&server, absolute_unknown).contains(" 404 "),
        "absolute form, unknown host"
    );
    // A forwarded host is not a way to pick a custom domain.
    let forwarded = "GET /shoes/red.jpg HTTP/1.1\r\nHost: evil.test\r\nX-Forwarded-Host: products.acme.test\r\nForwarded: host=products.acme.test\r\nConnection: close\r\n\r\n";
    assert!(
        raw_status(&server, forwarded).contains(" 404 "),
        "forwarded host ignored"
    );
}

/// Behind a proxy listed in `server.trusted_proxies`, the proxy's forwarded host routes the
/// request (the same request from anyone else was ignored in `host_header_edges`).
#[tokio::test]
async fn a_trusted_proxy_names_the_host() {
    let web = WebOrigin::start();
    web.serve("/acme/shoes/red.jpg", b"acme red shoe");
    let config = two_accounts(&web).replace(
        "[server]\n",
        "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    );
    let server = Pixelway::start(BIN, Some(&config));
    for header in [
        "X-Forwarded-Host: products.acme.test",
        "Forwarded: for=203.0.113.9;host=products.acme.test;proto=https",
    ] {
        let request = format!(
            "GET /shoes/red.jpg HTTP/1.1\r\nHost: evil.test\r\n{header}\r\nConnection: close\r\n\r\n"
        );
        assert!(raw_status(&server, &request).contains(" 200 "), "{header}");
    }
    // Still one Host header at most, proxy or not.
    let two_hosts =
        "GET /shoes/red.jpg HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n";
    assert!(raw_status(&server, two_hosts).contains(" 400 "));
}

/// With `server.public_hosts` set, the start-up banner prints URLs on a public host (another
/// host would answer "unknown host"), and the dashboard's address; a default image missing from
/// the Media Library is warned about.
#[test]
fn the_banner_uses_a_public_host() {
    let web = WebOrigin::start();
    let config = two_accounts(&web).replace(
        "identifier = \"product-images\"\n",
        "identifier = \"product-images\"\n  default_image = \"no-such-default.jpg\"\n",
    );
    let server = Pixelway::start(BIN, Some(&config));
    let port = server.addr.port();
    // A default image that is not in the Media Library is named at start.
    let warning = server
        .wait_for_output("default image is not in the Media Library")
        .expect("a warning about the missing default image");
    assert!(
        warning.contains("no-such-default.jpg") && warning.contains("account=acme"),
        "{warning}"
    );
    let line = server
        .wait_for_output("account \"acme\"")
        .expect("the banner names acme");
    assert_eq!(
        line,
        format!("account \"acme\": http://img.example.com:{port}/acme/<path>")
    );
    let dashboard = server.wait_for_output("dashboard:").unwrap();
    assert_eq!(
        dashboard,
        format!("dashboard: http://img.example.com:{port}/dashboard")
    );
}

/// With `public_hosts` set and no `server.public_url`, the URLs pixelway hands out use the
/// first public host (not the host the client happened to call, which would answer "unknown
/// host"), and a purge of a URL on the listen address is taken as the same URL on that host.
#[tokio::test]
async fn handed_out_urls_work_and_the_listen_address_is_an_alias_for_purges() {
    let config = r#"
[server]
public_hosts = ["img.test"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#;
    let server = Pixelway::start(BIN, Some(config));
    let port = server.addr.port();
    let client = client();
    let (content_type, body) = pixelway_testkit::multipart::Form::new()
        .text("fileName", "cup.jpg")
        .text("useUniqueFileName", "false")
        .file(
            "file",
            "cup.jpg",
            include_bytes!("../assets/samples/cups.jpg"),
        )
        .finish();
    let uploaded: serde_json::Value = client
        .post(server.url("/api/v1/files/upload"))
        .basic_auth("private_acme", Some(""))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|body| serde_json::from_slice(&body).unwrap())
        .unwrap();
    let url = uploaded["url"].as_str().unwrap();
    assert_eq!(url, format!("http://img.test:{port}/acme/cup.jpg"));
    // The URL works when its host reaches the server.
    let request =
        format!("GET /acme/cup.jpg HTTP/1.1\r\nHost: img.test:{port}\r\nConnection: close\r\n\r\n");
    assert!(raw_status(&server, &request).contains(" 200 "));
    // The listen address is not a public host for delivery…
    assert_eq!(
        client
            .get(server.url("/acme/cup.jpg"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // …but a purge of a URL on it means the URL on the public host.
    let purge = client
        .post(server.url("/v1/files/purge"))
        .basic_auth("private_acme", Some(""))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "url": server.url("/acme/cup.jpg") }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        purge.status(),
        StatusCode::CREATED,
        "{:?}",
        purge.text().await
    );
    assert!(
        server
            .wait_for_output("URLs are handed out on the public URL")
            .is_some()
    );
}
