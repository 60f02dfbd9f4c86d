//! The isolation sweep: two accounts with the same shapes (library, origin, endpoint, domain,
//! named transformation, private file, default image), and every surface asked for one
//! account's things with the other's prefix, domain, signature or key. Each must be refused,
//! also after the first account's originals and results are warm in the caches.
//!
//! New surfaces (management API, dashboard) add their rows to `SWEEP`.

mod common;

use pixelway_route::signature::{NEVER_EXPIRES, sign};
use pixelway_testkit::api::Auth;
use pixelway_testkit::{Pixelway, WebOrigin};
use reqwest::StatusCode;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

fn config(web: &WebOrigin) -> String {
    let account = |id: &str| {
        format!(
            r#"
[[account]]
id = "{id}"
private_key = "private_{id}"
public_key = "public_{id}"

  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "{web}/{id}"

  [[account.endpoint]]
  identifier = ""
  origins = ["site"]

  [[account.endpoint]]
  identifier = "shop"
  origins = ["site"]
  default_image = "fallback-{id}.jpg"

  [[account.endpoint]]
  identifier = "locked"
  origins = ["site"]
  signed_urls_only = true

[[account.named_transformation]]
name = "thumb-{id}"
transformation = "w-40"

[[custom_domain]]
host = "{id}.test"
account = "{id}"

[[custom_domain]]
host = "shop.{id}.test"
account = "{id}"
endpoint = "shop"
"#,
            web = web.base_url
        )
    };
    format!(
        "[server]\nadmin_token = \"operator-token\"\n[limits]\nallow_private_origin_addresses = true\n{}{}",
        account("acme"),
        account("rival")
    )
}

/// acme's things: library files (one private), origin files, a default image.
async fn start(dir: &Path, web: &WebOrigin) -> Pixelway {
    web.serve("/acme/origin-acme.jpg", CUPS);
    // The default endpoint's origin also has a file under `locked/`: only the `locked`
    // endpoint's policy stands between it and an unsigned URL that names that endpoint.
    web.serve("/acme/locked/origin-acme.jpg", CUPS);
    web.serve("/rival/origin-rival.jpg", CUPS);
    let config = config(web);
    let mut first = Pixelway::start_in(BIN, Some(&config), dir, &[]);
    for path in ["lib-acme.jpg", "fallback-acme.jpg"] {
        first.put_media("acme", path, CUPS);
    }
    first.kill();
    common::add_private_file(&first, "acme", "private-acme.jpg", CUPS).await;
    Pixelway::start_in(BIN, Some(&config), dir, &[])
}

/// A signed target (the part after the endpoint prefix), ImageKit's algorithm.
fn signed(key: &str, target: &str) -> String {
    let separator = if target.contains('?') { '&' } else { '?' };
    format!(
        "{target}{separator}ik-s={}",
        sign(key, target, NEVER_EXPIRES)
    )
}

struct Probe {
    what: &'static str,
    host: &'static str,
    target: String,
    /// Extra header (name, value).
    header: Option<(&'static str, &'static str)>,
}

fn probe(what: &'static str, host: &'static str, target: String) -> Probe {
    Probe {
        what,
        host,
        target,
        header: None,
    }
}

/// acme's own view of its things: each must answer 200 (so the refusals below are real).
fn acme_own() -> Vec<Probe> {
    vec![
        probe("library", "127.0.0.1", "/acme/lib-acme.jpg".into()),
        probe("origin", "127.0.0.1", "/acme/origin-acme.jpg".into()),
        probe(
            "endpoint",
            "127.0.0.1",
            "/acme/shop/tr:w-50/origin-acme.jpg".into(),
        ),
        probe("alias domain", "acme.test", "/lib-acme.jpg".into()),
        probe(
            "one-to-one domain",
            "shop.acme.test",
            "/origin-acme.jpg".into(),
        ),
        probe(
            "named transformation",
            "127.0.0.1",
            "/acme/tr:n-thumb-acme/lib-acme.jpg".into(),
        ),
        probe(
            "private file, signed",
            "127.0.0.1",
            format!("/acme/{}", signed("private_acme", "private-acme.jpg")),
        ),
        probe(
            "locked endpoint, signed",
            "127.0.0.1",
            format!("/acme/locked/{}", signed("private_acme", "origin-acme.jpg")),
        ),
        probe(
            "endpoint default image",
            "127.0.0.1",
            "/acme/shop/missing.jpg".into(),
        ),
    ]
}

/// Every surface asked for acme's things by way of rival, with the status it must get.
fn sweep() -> Vec<(Probe, StatusCode)> {
    use StatusCode as S;
    vec![
        (
            probe(
                "library via rival's prefix",
                "127.0.0.1",
                "/rival/lib-acme.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "origin file via rival's prefix",
                "127.0.0.1",
                "/rival/origin-acme.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "rival's endpoint, acme's file",
                "127.0.0.1",
                "/rival/shop/origin-acme.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "warm result via rival",
                "127.0.0.1",
                "/rival/shop/tr:w-50/origin-acme.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe("rival's alias domain", "rival.test", "/lib-acme.jpg".into()),
            S::NOT_FOUND,
        ),
        (
            probe(
                "rival's one-to-one domain",
                "shop.rival.test",
                "/origin-acme.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "acme's identifier on rival's domain",
                "rival.test",
                "/shop/origin-acme.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "acme's named transformation on rival",
                "127.0.0.1",
                "/rival/tr:n-thumb-acme/origin-rival.jpg".into(),
            ),
            S::BAD_REQUEST,
        ),
        (
            probe(
                "acme's default image named by rival",
                "127.0.0.1",
                "/rival/tr:di-fallback-acme.jpg/missing.jpg".into(),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "private file unsigned",
                "127.0.0.1",
                "/acme/private-acme.jpg".into(),
            ),
            S::UNAUTHORIZED,
        ),
        (
            probe(
                "private file signed with rival's key",
                "127.0.0.1",
                format!("/acme/{}", signed("private_rival", "private-acme.jpg")),
            ),
            S::UNAUTHORIZED,
        ),
        (
            probe(
                "private file on rival's domain",
                "rival.test",
                format!("/{}", signed("private_rival", "private-acme.jpg")),
            ),
            S::NOT_FOUND,
        ),
        (
            probe(
                "locked endpoint signed with rival's key",
                "127.0.0.1",
                format!(
                    "/acme/locked/{}",
                    signed("private_rival", "origin-acme.jpg")
                ),
            ),
            S::UNAUTHORIZED,
        ),
        (
            probe(
                "rival's signature over acme's URL on rival's prefix",
                "127.0.0.1",
                format!(
                    "/rival/locked/{}",
                    signed("private_acme", "origin-rival.jpg")
                ),
            ),
            S::UNAUTHORIZED,
        ),
        (
            probe(
                "traversal into acme's library",
                "127.0.0.1",
                "/rival/..%2Facme/lib-acme.jpg".into(),
            ),
            S::BAD_REQUEST,
        ),
        (
            probe(
                "traversal by the alias domain",
                "rival.test",
                "/..%2Facme/lib-acme.jpg".into(),
            ),
            S::BAD_REQUEST,
        ),
        // An endpoint is chosen by its decoded identifier: an escaped spelling of `locked`
        // reaches `locked` (signature required), never the default endpoint's origin, which
        // holds a file at that path (security round 2, finding 7).
        (
            probe(
                "escaped identifier of a signed-only endpoint",
                "127.0.0.1",
                "/acme/%6Cocked/origin-acme.jpg".into(),
            ),
            S::UNAUTHORIZED,
        ),
        (
            probe(
                "escaped identifier on the alias domain",
                "acme.test",
                "/l%6f%63ked/origin-acme.jpg".into(),
            ),
            S::UNAUTHORIZED,
        ),
        (
            Probe {
                header: Some(("authorization", "Bearer private_rival")),
                ..probe(
                    "an account key is not the operator token",
                    "127.0.0.1",
                    "/rival/missing.jpg".into(),
                )
            },
            S::NOT_FOUND,
        ),
    ]
}

async fn send(server: &Pixelway, probe: &Probe) -> reqwest::Response {
    let mut request = pixelway_testkit::http_client()
        .get(server.url(&probe.target))
        .header("host", probe.host);
    if let Some((name, value)) = probe.header {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_surface_refuses_the_other_accounts_things() {
    let web = WebOrigin::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &web).await;
    // Warm acme's originals and results first: the caches must not leak either.
    for probe in acme_own() {
        let response = send(&server, &probe).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "acme's own {}",
            probe.what
        );
    }
    let origin_hits = web.hits("/acme/origin-acme.jpg");
    for (probe, expected) in sweep() {
        let response = send(&server, &probe).await;
        let status = response.status();
        assert!(
            response.headers().get("x-pixelway-trace").is_none(),
            "{}: trace leaked",
            probe.what
        );
        let body = response.bytes().await.unwrap();
        assert_eq!(
            status,
            expected,
            "{}: {}",
            probe.what,
            String::from_utf8_lossy(&body)
        );
        assert_ne!(&body[..], CUPS, "{}: acme's bytes served", probe.what);
    }
    assert_eq!(
        web.hits("/acme/origin-acme.jpg"),
        origin_hits,
        "rival's requests reached acme's origin"
    );
    // The operator token does unlock the trace (so the check above could fail).
    let traced = send(
        &server,
        &Probe {
            header: Some(("authorization", "Bearer operator-token")),
            ..probe("operator", "127.0.0.1", "/rival/missing.jpg".into())
        },
    )
    .await;
    assert!(traced.headers().get("x-pixelway-trace").is_some());
    // ...and an answer that carries it is for the operator alone: no shared cache keeps it.
    assert_eq!(
        traced.headers().get("cache-control").unwrap(),
        "private, no-store"
    );
}

async fn api(
    server: &Pixelway,
    key: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    server.api(Auth::Basic(key), method, path, body).await
}

/// The `id` of the item of `list` whose `field` is `value`.
fn id_of(list: &serde_json::Value, field: &str, value: &str) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no {value} in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The ids of acme's origin `site` and endpoint `shop`, as the API lists them.
async fn acme_site_and_shop(server: &Pixelway) -> (String, String) {
    let (_, origins) = api(server, "private_acme", "GET", "/v1/accounts/origins", "").await;
    let path = "/v1/accounts/url-endpoints";
    let (_, endpoints) = api(server, "private_acme", "GET", path, "").await;
    (
        id_of(&origins, "name", "site"),
        id_of(&endpoints, "urlPrefix", "shop"),
    )
}

/// acme uploads `path` (as `name` in `folder`) through the API; returns its file id.
async fn upload_as(server: &Pixelway, key: &str, folder: &str, name: &str, bytes: &[u8]) -> String {
    let form = pixelway_testkit::multipart::Form::new()
        .text("fileName", name)
        .text("folder", folder)
        .text("useUniqueFileName", "false")
        .text("tags", "mine")
        .file("file", name, bytes);
    let response = server.upload(key, form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    body["fileId"].as_str().unwrap().to_string()
}

/// Every management API route asked, with rival's key, for acme's things: nothing of acme's
/// is seen, changed, copied, purged or deleted.
#[tokio::test]
async fn the_management_api_refuses_the_other_accounts_things() {
    let web = WebOrigin::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &web).await;
    let id = upload_as(&server, "private_acme", "/vault", "secret.jpg", CUPS).await;
    let (status, purge) = api(
        &server,
        "private_acme",
        "POST",
        "/v1/files/purge",
        r#"{"url":"http://127.0.0.1/acme/vault/secret.jpg"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let purge_id = purge["requestId"].as_str().unwrap().to_string();
    let (status, job) = api(
        &server,
        "private_acme",
        "POST",
        "/v1/bulkJobs/copyFolder",
        r#"{"sourceFolderPath":"/vault","destinationPath":"/vault-copy"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job_id = job["jobId"].as_str().unwrap().to_string();

    let (origin, endpoint) = acme_site_and_shop(&server).await;
    let (_, named) = api(
        &server,
        "private_acme",
        "GET",
        "/v1/named-transformations",
        "",
    )
    .await;
    let named = id_of(&named, "name", "thumb-acme");

    use StatusCode as S;
    let rows: Vec<(&str, &str, String, String, StatusCode)> = vec![
        (
            "origin",
            "GET",
            format!("/v1/accounts/origins/{origin}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "origin update",
            "PUT",
            format!("/v1/accounts/origins/{origin}"),
            r#"{"type":"WEB_PROXY","name":"x"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "origin delete",
            "DELETE",
            format!("/v1/accounts/origins/{origin}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "endpoint",
            "GET",
            format!("/v1/accounts/url-endpoints/{endpoint}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "endpoint update",
            "PUT",
            format!("/v1/accounts/url-endpoints/{endpoint}"),
            r#"{"description":"x","urlPrefix":"shop"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "endpoint delete",
            "DELETE",
            format!("/v1/accounts/url-endpoints/{endpoint}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "an endpoint over acme's origin",
            "POST",
            "/v1/accounts/url-endpoints".into(),
            format!(r#"{{"description":"x","urlPrefix":"steal","origins":["{origin}"]}}"#),
            S::BAD_REQUEST,
        ),
        (
            "named transformation",
            "GET",
            format!("/v1/named-transformations/{named}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "named transformation update",
            "PATCH",
            format!("/v1/named-transformations/{named}"),
            r#"{"transformation":"w-1"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "named transformation delete",
            "DELETE",
            format!("/v1/named-transformations/{named}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "details",
            "GET",
            format!("/v1/files/{id}/details"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "update",
            "PATCH",
            format!("/v1/files/{id}/details"),
            r#"{"tags":["x"]}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "delete",
            "DELETE",
            format!("/v1/files/{id}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "bulk delete",
            "POST",
            "/v1/files/batch/deleteByFileIds".into(),
            format!(r#"{{"fileIds":["{id}"]}}"#),
            S::NOT_FOUND,
        ),
        (
            "add tags",
            "POST",
            "/v1/files/addTags".into(),
            format!(r#"{{"fileIds":["{id}"],"tags":["x"]}}"#),
            S::NOT_FOUND,
        ),
        (
            "remove tags",
            "POST",
            "/v1/files/removeTags".into(),
            format!(r#"{{"fileIds":["{id}"],"tags":["mine"]}}"#),
            S::NOT_FOUND,
        ),
        (
            "copy",
            "POST",
            "/v1/files/copy".into(),
            r#"{"sourceFilePath":"/vault/secret.jpg","destinationPath":"/stolen"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "move",
            "POST",
            "/v1/files/move".into(),
            r#"{"sourceFilePath":"/vault/secret.jpg","destinationPath":"/stolen"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "rename",
            "PUT",
            "/v1/files/rename".into(),
            r#"{"filePath":"/vault/secret.jpg","newFileName":"x.jpg"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "folder delete",
            "DELETE",
            "/v1/folder".into(),
            r#"{"folderPath":"/vault"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "purge",
            "POST",
            "/v1/files/purge".into(),
            r#"{"url":"http://127.0.0.1/acme/vault/secret.jpg"}"#.into(),
            S::FORBIDDEN,
        ),
        (
            "purge on acme's domain",
            "POST",
            "/v1/files/purge".into(),
            r#"{"url":"http://acme.test/vault/secret.jpg"}"#.into(),
            S::FORBIDDEN,
        ),
        (
            "purge status",
            "GET",
            format!("/v1/files/purge/{purge_id}"),
            String::new(),
            S::NOT_FOUND,
        ),
        (
            "folder copy",
            "POST",
            "/v1/bulkJobs/copyFolder".into(),
            r#"{"sourceFolderPath":"/vault","destinationPath":"/stolen"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "folder move",
            "POST",
            "/v1/bulkJobs/moveFolder".into(),
            r#"{"sourceFolderPath":"/vault","destinationPath":"/stolen"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "folder rename",
            "POST",
            "/v1/bulkJobs/renameFolder".into(),
            r#"{"folderPath":"/vault","newFolderName":"x"}"#.into(),
            S::NOT_FOUND,
        ),
        (
            "folder job status",
            "GET",
            format!("/v1/bulkJobs/{job_id}"),
            String::new(),
            S::NOT_FOUND,
        ),
    ];
    for (what, method, path, body, expected) in rows {
        let (status, answer) = api(&server, "private_rival", method, &path, &body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert!(
            answer["message"].is_string(),
            "{what}: not ImageKit's error shape"
        );
    }
    let (status, listing) = api(&server, "private_rival", "GET", "/v1/files?type=all", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listing,
        serde_json::json!([]),
        "rival sees acme's files or folders"
    );
    let (_, found) = api(
        &server,
        "private_rival",
        "GET",
        "/v1/files?searchQuery=name%20%3D%20%22secret.jpg%22",
        "",
    )
    .await;
    assert_eq!(found, serde_json::json!([]));
    // rival's upload to the same path lands in rival's library only.
    upload_as(
        &server,
        "private_rival",
        "/vault",
        "secret.jpg",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"2\" height=\"2\"/>",
    )
    .await;
    // The API is not on custom domains: there the path is delivery's.
    let on_domain = send(
        &server,
        &Probe {
            header: Some(("authorization", "Basic cHJpdmF0ZV9hY21lOg==")),
            ..probe("API on a custom domain", "acme.test", "/v1/files".into())
        },
    )
    .await;
    assert_eq!(on_domain.status(), StatusCode::NOT_FOUND);
    assert!(
        on_domain.headers().get("ik-error").is_some(),
        "answered by the API, not delivery"
    );
    // acme's file is untouched.
    let served = send(
        &server,
        &probe(
            "acme's upload",
            "127.0.0.1",
            "/acme/vault/secret.jpg".into(),
        ),
    )
    .await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(&served.bytes().await.unwrap()[..], CUPS);
    let (status, details) = api(
        &server,
        "private_acme",
        "GET",
        &format!("/v1/files/{id}/details"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(details["tags"], serde_json::json!(["mine"]));
    assert_eq!(details["filePath"], "/vault/secret.jpg");
}

/// The dashboard, signed in as rival, asked for acme's things by id, by URL and by domain:
/// every page and action answers as if they did not exist, and no origin of acme's is asked.
#[tokio::test]
async fn the_dashboard_refuses_the_other_accounts_things() {
    let web = WebOrigin::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &web).await;
    let file = upload_as(&server, "private_acme", "/vault", "secret.jpg", CUPS).await;
    let (origin, endpoint) = acme_site_and_shop(&server).await;

    let rival = server
        .sign_in(Some("rival"), "private_rival")
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String| {
        client
            .get(server.url(&path))
            .header("cookie", &rival.cookie)
            .send()
    };
    for path in [
        format!("/dashboard/endpoints/{endpoint}"),
        format!("/dashboard/origins/{origin}"),
        format!("/dashboard/library/files/{file}"),
    ] {
        let response = get(path.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let test = client
        .post(server.url(&format!("/dashboard/origins/{origin}/test")))
        .header("cookie", &rival.cookie)
        .header("x-csrf-token", &rival.csrf)
        .header("content-type", "application/json")
        .body(r#"{"path":"origin-acme.jpg"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        test.status(),
        StatusCode::NOT_FOUND,
        "testing acme's origin"
    );

    // The URL tester refuses acme's URLs before any origin is asked, by prefix or by domain.
    let hits_before = web.hits("/acme/origin-missing.jpg");
    for url in [
        "http://127.0.0.1/acme/origin-missing.jpg",
        "http://acme.test/origin-missing.jpg",
        "http://shop.acme.test/origin-missing.jpg",
    ] {
        let page = get(format!("/dashboard/tester?url={}", urlencode(url)))
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let text = page.text().await.unwrap();
        assert!(text.contains("not one of your account"), "{url}: {text}");
        assert!(!text.contains("tester-report"), "{url}: no report");
    }
    assert_eq!(
        web.hits("/acme/origin-missing.jpg"),
        hits_before,
        "no origin of acme's was asked"
    );

    // Lists show rival's own things only.
    let library = get("/dashboard/library?folder=/vault/".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!library.contains("secret.jpg"), "{library}");
    let domains = get("/dashboard/domains".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        domains.contains("rival.test") && !domains.contains("acme.test"),
        "{domains}"
    );
    let listed = get("/dashboard/endpoints".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&endpoint), "{listed}");

    // The API behind the pages, with rival's session: acme's things are not there.
    for (method, path) in [
        ("GET", format!("/v1/accounts/origins/{origin}")),
        ("DELETE", format!("/v1/accounts/url-endpoints/{endpoint}")),
        ("DELETE", format!("/v1/files/{file}")),
    ] {
        let (status, _) = server
            .api(Auth::Session(&rival, Some(&rival.csrf)), method, &path, "")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (status, _) = api(
        &server,
        "private_acme",
        "GET",
        &format!("/v1/files/{file}/details"),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "acme's file is still there");
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
