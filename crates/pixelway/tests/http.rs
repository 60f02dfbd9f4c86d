//! HTTP semantics of delivery: strong ETags and 304s, Last-Modified, HEAD, single ranges,
//! If-Range, 416, and content types decided by the bytes rather than the origin's claim.

use pixelway_testkit::{Pixelway, WebOrigin, http_client as client};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

const SAMPLE: &str = "/demo/samples/cups.jpg";

#[tokio::test]
async fn etag_304_head_and_ranges() {
    let server = Pixelway::start(BIN, None);
    let client = client();
    let url = server.url(SAMPLE);
    let full = client.get(&url).send().await.unwrap();
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = full.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert!(
        full.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    let body = full.bytes().await.unwrap();

    let not_modified = client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()["etag"], etag.as_str());
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let listed = client
        .get(&url)
        .header("if-none-match", format!("\"other\", {etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::NOT_MODIFIED);
    let changed = client
        .get(&url)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let since = client
        .get(&url)
        .header("if-modified-since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);

    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        body.len().to_string().as_str()
    );
    assert_eq!(head.headers()["etag"], etag.as_str());
    assert!(head.bytes().await.unwrap().is_empty());

    let range = client
        .get(&url)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        range.headers()["content-range"],
        format!("bytes 100-199/{}", body.len()).as_str()
    );
    assert_eq!(range.bytes().await.unwrap()[..], body[100..200]);
    let suffix = client
        .get(&url)
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(suffix.bytes().await.unwrap()[..], body[body.len() - 10..]);
    let open = client
        .get(&url)
        .header("range", "bytes=91740-")
        .send()
        .await
        .unwrap();
    assert_eq!(open.bytes().await.unwrap()[..], body[91740..]);
    let stale = client
        .get(&url)
        .header("range", "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::OK,
        "If-Range mismatch gives the whole file"
    );
    let fresh = client
        .get(&url)
        .header("range", "bytes=0-9")
        .header("if-range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::PARTIAL_CONTENT);
    let beyond = client
        .get(&url)
        .header("range", "bytes=999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", body.len()).as_str()
    );
}

#[tokio::test]
async fn cached_originals_have_content_etags_and_ranges() {
    let web = WebOrigin::start();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR rest of a png file".to_vec();
    web.serve("/site/logo.png", &png); // the web origin claims text/plain
    web.serve("/site/page.html", b"<html><script>alert(1)</script></html>");
    let config = format!(
        "[limits]\nallow_private_origin_addresses = true\n[[account]]\nid = \"acme\"\nprivate_key = \"p\"\npublic_key = \"q\"\n\
         [[account.origin]]\nname = \"site\"\ntype = \"web_folder\"\nbase_url = \"{}/site\"\n",
        web.base_url
    );
    let server = Pixelway::start(BIN, Some(&config));
    let client = client();
    let url = server.url("/acme/logo.png");
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(
        first.headers()["content-type"],
        "image/png",
        "type from the bytes"
    );
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(first.bytes().await.unwrap()[..], png[..]);
    // The same bytes give the same ETag on a cache hit.
    let second = client.get(&url).send().await.unwrap();
    assert_eq!(second.headers()["etag"], etag.as_str());
    let not_modified = client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    let range = client
        .get(&url)
        .header("range", "bytes=1-3")
        .send()
        .await
        .unwrap();
    assert_eq!(range.bytes().await.unwrap()[..], b"PNG"[..]);
    // HTML is never served as HTML.
    let page = client
        .get(server.url("/acme/page.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["content-type"], "application/octet-stream");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn large_files_stream_past_the_first_chunk() {
    let server = Pixelway::start(BIN, None);
    let big: Vec<u8> = (0..700_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let file = server.data_dir.join("media/demo/big/photo.bin");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &big).unwrap();
    let client = client();
    let url = server.url("/demo/big/photo.bin");
    let whole = client.get(&url).send().await.unwrap();
    assert_eq!(whole.headers()["content-length"], "700000");
    assert_eq!(whole.bytes().await.unwrap()[..], big[..]);
    // A range that starts inside the first 256 KiB chunk and ends far beyond it.
    let range = client
        .get(&url)
        .header("range", "bytes=262000-600000")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(range.bytes().await.unwrap()[..], big[262000..=600000]);
    let tail = client
        .get(&url)
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.bytes().await.unwrap()[..], big[big.len() - 5..]);
}

/// Every answer carries `X-Content-Type-Options: nosniff`, errors and health checks included:
/// an error text that echoes the request is never sniffed into HTML.
#[tokio::test]
async fn every_answer_is_nosniff() {
    let server = Pixelway::start(BIN, None);
    let client = client();
    let big_header = "x".repeat(64 * 1024);
    let requests = [
        client.get(server.url("/healthz")),
        client.get(server.url("/nobody/<script>.jpg")),
        client.get(server.url("/demo/tr:w-abc/samples/cups.jpg")),
        client.get(server.url("/demo/samples/missing<b>.jpg")),
        client.post(server.url("/demo/samples/cups.jpg")),
        client
            .get(server.url("/demo/samples/cups.jpg"))
            .header("x-big", big_header),
        client.get(server.url("/demo/samples/cups.jpg")),
    ];
    let mut statuses = Vec::new();
    for request in requests {
        let response = request.send().await.unwrap();
        statuses.push(response.status().as_u16());
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{} lacks nosniff",
            response.status()
        );
        if !response.status().is_success() {
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(kind.starts_with("text/plain"), "{kind}");
        }
    }
    assert_eq!(statuses, [200, 404, 400, 404, 405, 431, 200]);
}

/// An origin's redirect is followed without a `Referer`: the next hop never learns the previous
/// URL or its query (a token a user put in a proxied URL).
#[tokio::test]
async fn origin_redirects_carry_no_referer() {
    let web = WebOrigin::start();
    web.serve("/next.jpg", b"next bytes");
    web.set(
        "/start.jpg",
        pixelway_testkit::Behaviour::Redirect(format!("{}/next.jpg", web.base_url)),
    );
    let config = r#"
[limits]
allow_private_origin_addresses = true

[[account]]
id = "acme"
private_key = "private_acme_key"
public_key = "public_acme_key"

  [[account.origin]]
  name = "proxy"
  type = "web_proxy"

  [[account.endpoint]]
  identifier = ""
  origins = ["proxy"]
"#;
    let server = Pixelway::start(BIN, Some(config));
    let source = format!("{}/start.jpg?token=TOPSECRETTOKEN", web.base_url);
    let encoded: String = source
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let response = client()
        .get(server.url(&format!("/acme/{encoded}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap()[..], b"next bytes"[..]);
    let headers = web
        .last_headers("/next.jpg")
        .expect("the redirect was followed");
    assert!(
        headers.get("referer").is_none(),
        "{:?}",
        headers.get("referer")
    );
}
