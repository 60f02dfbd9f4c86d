//! Transformations at the delivery edge, with URLs built by ImageKit's Python SDK: bad
//! parameters answer 400 naming them, named transformations expand (and an endpoint may require
//! them), `orig-true` returns the original, `di-` names the default image.

use pixelway_testkit::{Pixelway, imagekit_url};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

const CONFIG: &str = r#"
[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"

  [[account.endpoint]]
  identifier = "strict"
  named_transformations_only = true

[[account.named_transformation]]
name = "original"
transformation = "orig-true"
"#;

fn start() -> Pixelway {
    let server = Pixelway::start(BIN, Some(CONFIG));
    for (path, bytes) in [
        ("samples/cups.jpg", &b"\xFF\xD8\xFF\xE0 cups"[..]),
        ("defaults/missing.jpg", b"\xFF\xD8\xFF\xE0 default"),
    ] {
        let file = server.data_dir.join("media/demo").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    server
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_transformations_answer_400_naming_the_parameter() {
    let server = start();
    let endpoint = server.url("/demo");
    let cases = [
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"width": "abc"}]"#,
                "path",
            ),
            "w-abc",
        ),
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"quality": 500}]"#,
                "query",
            ),
            "q-500",
        ),
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"named": "nope"}]"#,
                "path",
            ),
            "n-nope",
        ),
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"crop": "squash"}]"#,
                "query",
            ),
            "c-squash",
        ),
        (
            server.url("/demo/samples/cups.jpg?tr=w-300%2Cbogus-1"),
            "bogus-1",
        ),
    ];
    for (url, parameter) in cases {
        let response = get(&url).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body = response.text().await.unwrap();
        assert!(body.contains(&format!("{parameter:?}")), "{url}: {body}");
    }
}

#[tokio::test]
async fn original_named_and_default_image() {
    let server = start();
    let endpoint = server.url("/demo");
    let original = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"raw": "orig-true"}]"#,
        "query",
    );
    let response = get(&original).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().ends_with("cups"));
    let named = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"named": "original"}]"#,
        "path",
    );
    assert_eq!(get(&named).await.status(), StatusCode::OK);
    // A missing file with di- gets the named default image.
    let di = imagekit_url(
        &endpoint,
        "/no/such.jpg",
        r#"[{"default_image": "/defaults/missing.jpg"}]"#,
        "path",
    );
    let response = get(&di).await;
    assert_eq!(response.status(), StatusCode::OK, "{di}");
    assert_eq!(response.headers()["x-pixelway-default-image"], "true");
    assert!(response.text().await.unwrap().ends_with("default"));
    // A di- that does not exist either: 404.
    let absent = imagekit_url(
        &endpoint,
        "/no/such.jpg",
        r#"[{"default_image": "nothing.jpg"}]"#,
        "path",
    );
    assert_eq!(get(&absent).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endpoints_may_allow_named_transformations_only() {
    let server = start();
    let strict = server.url("/demo/strict");
    let explicit = imagekit_url(
        &strict,
        "/samples/cups.jpg",
        r#"[{"raw": "orig-true"}]"#,
        "path",
    );
    let response = get(&explicit).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("named transformations only")
    );
    let named = imagekit_url(
        &strict,
        "/samples/cups.jpg",
        r#"[{"named": "original"}]"#,
        "query",
    );
    assert_eq!(get(&named).await.status(), StatusCode::OK);
    // Without a transformation the endpoint serves as usual.
    assert_eq!(
        get(&format!("{strict}/samples/cups.jpg")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn pixel_transformations_are_not_in_this_build_yet() {
    let server = start();
    let url = imagekit_url(
        &server.url("/demo"),
        "/samples/cups.jpg",
        r#"[{"width": 300}]"#,
        "path",
    );
    let response = get(&url).await;
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    assert!(response.text().await.unwrap().contains("w-300"));
}
