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
