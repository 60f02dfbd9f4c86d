//! Signed URLs end to end, built by ImageKit's official Python and Node SDKs: with and without
//! expiry, extra query parameters, path and query transformations, on the public host and on
//! custom domains (both identifier splits); altered, expired, unsigned-where-required and
//! foreign-key URLs answer 401. Private Media Library files need a signature, also as a default
//! image.

mod common;

use pixelway_testkit::{Pixelway, Sdk, UrlRequest, build_all};
use pixelway_transform::pipeline::probe;
use reqwest::StatusCode;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_demo_key";

const CONFIG: &str = r#"
[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"

  [[account.endpoint]]
  identifier = "locked"
  signed_urls_only = true

[[account]]
id = "other"
private_key = "private_other_key"
public_key = "public_other_key"

[[custom_domain]]
host = "alias.test"
account = "demo"

[[custom_domain]]
host = "locked.test"
account = "demo"
endpoint = "locked"
"#;

const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg"); // 400x250

/// A server with `samples/cups.jpg` public and `private/secret.jpg` private in demo's library
/// (and `img1`, `img11`, `img12`: names that differ in a last digit). The private flag is set on
/// the file record, as the upload API does, before the server starts.
async fn start(dir: &Path) -> Pixelway {
    let mut first = Pixelway::start_in(BIN, Some(CONFIG), dir, &[]);
    first.put_media("demo", "samples/cups.jpg", CUPS);
    for name in ["img1", "img11", "img12"] {
        first.put_media("demo", name, CUPS);
    }
    first.kill();
    common::add_private_file(&first, "demo", "private/secret.jpg", CUPS).await;
    Pixelway::start_in(BIN, Some(CONFIG), dir, &[])
}

/// A client that sends the custom domains to the server, so SDK URLs are fetched as built.
fn client(server: &Pixelway) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .resolve("alias.test", server.addr)
        .resolve("locked.test", server.addr)
        .build()
        .unwrap()
}

async fn status(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// Every way of writing a URL to the `locked` endpoint (signature required).
fn locked_cases(server: &Pixelway) -> Vec<(String, &'static str, &'static str, &'static str)> {
    let port = server.addr.port();
    let public = format!("{}/demo/locked", server.base_url);
    let public_account_only = format!("{}/demo", server.base_url);
    let one_to_one = format!("http://locked.test:{port}");
    let alias = format!("http://alias.test:{port}");
    vec![
        // (url_endpoint, src, transformation, position)
        (public.clone(), "/samples/cups.jpg", "[]", "path"),
        (
            public.clone(),
            "/samples/cups.jpg",
            r#"[{"width":100}]"#,
            "path",
        ),
        (public, "/samples/cups.jpg", r#"[{"width":100}]"#, "query"),
        (one_to_one.clone(), "/samples/cups.jpg", "[]", "path"),
        (
            one_to_one,
            "/samples/cups.jpg",
            r#"[{"width":100}]"#,
            "query",
        ),
        // The identifier in `src`, not in the endpoint: the signature covers it. (A path
        // transformation would land in front of the identifier, which selects no endpoint, as
        // on ImageKit; so query form here.)
        (
            alias,
            "/locked/samples/cups.jpg",
            r#"[{"width":100}]"#,
            "query",
        ),
        (
            public_account_only,
            "/locked/samples/cups.jpg",
            "[]",
            "query",
        ),
    ]
}

#[tokio::test]
async fn sdk_signed_urls_pass_and_altered_ones_fail() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = client(&server);
    let cases = locked_cases(&server);
    // Per case: signed (no expiry), signed with expiry and extra query parameters, unsigned,
    // signed with another account's key. The SDKs sign whenever an expiry is given.
    let mut requests = Vec::new();
    for (endpoint, src, transformation, position) in &cases {
        let base = UrlRequest {
            transformation,
            position,
            ..UrlRequest::new(endpoint, src)
        };
        requests.push(UrlRequest {
            signing_key: Some(KEY),
            ..base.clone()
        });
        requests.push(UrlRequest {
            signing_key: Some(KEY),
            expires_in: 600,
            query_parameters: r#"{"v":"1","b":"x y"}"#,
            ..base.clone()
        });
        requests.push(base.clone());
        requests.push(UrlRequest {
            signing_key: Some("private_other_key"),
            ..base
        });
    }
    for sdk in [Sdk::Python, Sdk::Node] {
        let urls = build_all(sdk, &requests);
        for case in urls.chunks(4) {
            let [signed, expiring, unsigned, foreign] = case else {
                unreachable!()
            };
            for url in [signed, expiring] {
                let (code, body) = status(&client, url).await;
                assert_eq!(code, StatusCode::OK, "{sdk:?} {url}: {body}");
                check_altered(&client, sdk, url).await;
            }
            let (code, body) = status(&client, unsigned).await;
            assert_eq!(code, StatusCode::UNAUTHORIZED, "{unsigned}");
            assert!(body.contains("must be signed"), "{body}");
            assert_eq!(
                status(&client, foreign).await.0,
                StatusCode::UNAUTHORIZED,
                "signed with another account's key: {foreign}"
            );
        }
    }
}

/// Each single alteration of a valid signed URL is refused.
async fn check_altered(client: &reqwest::Client, sdk: Sdk, url: &str) {
    let mut altered = vec![
        url.replacen("cups.jpg", "cupz.jpg", 1),
        url.replacen("ik-s=", "ik-s=0", 1),
        url.split("ik-s=")
            .next()
            .unwrap()
            .trim_end_matches(['&', '?'])
            .to_string(),
    ];
    if url.contains("w-100") {
        altered.push(url.replacen("w-100", "w-101", 1));
    }
    if url.contains("v=1") {
        altered.push(url.replacen("v=1", "v=2", 1));
    }
    if let Some(t) = url.split("ik-t=").nth(1) {
        let expiry: u64 = t.split('&').next().unwrap().parse().unwrap();
        altered.push(url.replacen(&expiry.to_string(), &(expiry + 3600).to_string(), 1));
    }
    for bad in altered {
        let (code, body) = status(client, &bad).await;
        assert_eq!(
            code,
            StatusCode::UNAUTHORIZED,
            "{sdk:?} altered {bad}: {body}"
        );
    }
}

#[tokio::test]
async fn expiry_unsigned_and_invalid_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = client(&server);
    let endpoint = format!("{}/demo", server.base_url);
    // The default endpoint does not require a signature, but one that is given must be valid.
    let plain = UrlRequest::new(&endpoint, "/samples/cups.jpg").build(Sdk::Python);
    assert_eq!(status(&client, &plain).await.0, StatusCode::OK);
    let (code, body) = status(&client, &format!("{plain}?ik-s=00ff")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(body.contains("does not match"), "{body}");
    let (code, body) = status(&client, &format!("{plain}?ik-t=99")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(body.contains("ik-t"), "{body}");

    let short = UrlRequest {
        signing_key: Some(KEY),
        expires_in: 1,
        ..UrlRequest::new(&endpoint, "/samples/cups.jpg")
    }
    .build(Sdk::Node);
    assert!(short.contains("ik-t="), "{short}");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (code, body) = status(&client, &short).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{short}");
    assert!(body.contains("expired"), "{body}");
}

#[tokio::test]
async fn private_files_need_a_signature() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = client(&server);
    let endpoint = format!("{}/demo", server.base_url);
    let unsigned = UrlRequest::new(&endpoint, "/private/secret.jpg");
    let (code, body) = status(&client, &unsigned.build(Sdk::Python)).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    let signed = UrlRequest {
        signing_key: Some(KEY),
        transformation: r#"[{"width":80}]"#,
        ..unsigned.clone()
    }
    .build(Sdk::Python);
    let response = client.get(&signed).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{signed}");
    let (_, width, _) = probe(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(width, 80);
    // Through the same endpoint on another domain, and from another account: still refused.
    let alias = format!(
        "http://alias.test:{}/private/secret.jpg",
        server.addr.port()
    );
    assert_eq!(status(&client, &alias).await.0, StatusCode::UNAUTHORIZED);
    let other = server.url("/other/private/secret.jpg");
    assert_eq!(status(&client, &other).await.0, StatusCode::NOT_FOUND);

    // A private file named as the default image is not a way around its signature.
    let via_default = UrlRequest {
        transformation: r#"[{"default_image":"/private/secret.jpg"}]"#,
        ..UrlRequest::new(&endpoint, "/missing.jpg")
    };
    let (code, _) = status(&client, &via_default.build(Sdk::Python)).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let signed_default = UrlRequest {
        signing_key: Some(KEY),
        ..via_default
    }
    .build(Sdk::Python);
    assert_eq!(status(&client, &signed_default).await.0, StatusCode::OK);
}

/// Second security round, finding 1: the MAC input is the signed text directly followed by the
/// expiry, so with a variable-length `ik-t` digits could move between the end of the URL and
/// the front of `ik-t` under the same MAC. URLs built and signed by both SDKs; every shift, in
/// both directions, with and without expiry, is refused, and the genuine URLs still work.
#[tokio::test]
async fn digits_cannot_move_between_the_url_and_the_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = client(&server);
    let locked = format!("{}/demo/locked", server.base_url);
    let public = format!("{}/demo", server.base_url);
    let requests = [
        // Never expires: `img12` + 9999999999.
        UrlRequest {
            signing_key: Some(KEY),
            ..UrlRequest::new(&locked, "/img12")
        },
        // Expires in ten minutes, transformation in the query: `cups.jpg?tr=w-250` + ik-t.
        UrlRequest {
            signing_key: Some(KEY),
            expires_in: 600,
            transformation: r#"[{"width":250}]"#,
            position: "query",
            ..UrlRequest::new(&public, "/samples/cups.jpg")
        },
        // Expires: `img1` + ik-t, for the shift the other way (a digit of ik-t onto the path).
        UrlRequest {
            signing_key: Some(KEY),
            expires_in: 600,
            ..UrlRequest::new(&locked, "/img1")
        },
    ];
    for sdk in [Sdk::Python, Sdk::Node] {
        let [never, expiring, short] = &build_all(sdk, &requests)[..] else {
            unreachable!()
        };
        for genuine in [never, expiring, short] {
            let (code, body) = status(&client, genuine).await;
            assert_eq!(code, StatusCode::OK, "{sdk:?} {genuine}: {body}");
        }
        let signature = |url: &str| url.split("ik-s=").nth(1).unwrap().to_string();
        let expiry = |url: &str| {
            url.split("ik-t=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_string()
        };
        // img12 + 9999999999 == img1 + 29999999999
        let forged_path = format!("{locked}/img1?ik-t=29999999999&ik-s={}", signature(never));
        // w-250 + T == w-2 + "50" T: a far-future expiry and another transformation.
        let t = expiry(expiring);
        let forged_expiry = expiring
            .replace("tr=w-250", "tr=w-2")
            .replace(&format!("ik-t={t}"), &format!("ik-t=50{t}"));
        // img1 + T == img1<first digit of T> + <the rest of T>
        let t = expiry(short);
        let forged_back = format!(
            "{locked}/img1{}?ik-t={}&ik-s={}",
            &t[..1],
            &t[1..],
            signature(short)
        );
        for forged in [forged_path, forged_expiry, forged_back] {
            let (code, body) = status(&client, &forged).await;
            assert_eq!(code, StatusCode::UNAUTHORIZED, "{sdk:?} {forged}: {body}");
            assert!(body.contains("ik-t"), "the answer names ik-t: {body}");
        }
    }
}

/// A one-to-one domain of `locked` whose path starts with `locked/`: the signed text is the one a
/// client signs for `/demo/locked/...` on the public host with the identifier in `src`, so a
/// signature there would open another file. pixelway refuses it, so such a URL never works and
/// is never handed out.
#[tokio::test]
async fn signed_paths_on_one_to_one_domains_cannot_mean_another_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = client(&server);
    let domain = format!("http://locked.test:{}", server.addr.port());
    let request = UrlRequest {
        signing_key: Some(KEY),
        ..UrlRequest::new(&domain, "/locked/samples/cups.jpg")
    };
    for sdk in [Sdk::Python, Sdk::Node] {
        let url = request.build(sdk);
        let (code, body) = status(&client, &url).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{sdk:?} {url}: {body}");
        assert!(body.contains("may not start with a folder"), "{body}");
    }
}
