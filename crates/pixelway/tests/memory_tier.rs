//! The memory tier in front of the disk caches (issue 10): hits come from memory — ranges and
//! revalidations too — a replaced file or a purged URL is never served from memory afterwards,
//! the tier never holds more than its budget (read from `/metrics`), and the format negotiated
//! for browsers' real `Accept` headers stays right when answers come from memory.

use pixelway_testkit::Pixelway;
use pixelway_testkit::api::Auth;
use pixelway_transform::pipeline::{InputKind, probe};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const TOKEN: &str = "operator-token-for-memory-tests";
const KEY: &str = "private_memory_key";

const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg"); // 400x250
const FLOWER: &[u8] = include_bytes!("../assets/samples/fresh-flower.jpg"); // 1600x1203

fn config(memory: &str) -> String {
    format!(
        r#"
[server]
admin_token = "{TOKEN}"

[storage]
memory_cache_bytes = "{memory}"
memory_cache_max_object = "2MiB"

[[account]]
id = "shop"
private_key = "{KEY}"
public_key = "public_memory_key"

[[account]]
id = "avif-shop"
private_key = "private_avif_memory_key"
public_key = "public_avif_memory_key"
auto_avif = true
"#
    )
}

/// One figure of `/metrics`.
async fn figure(server: &Pixelway, name: &str) -> u64 {
    let text = pixelway_testkit::http_client()
        .get(server.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
        .parse()
        .unwrap()
}

async fn hits(server: &Pixelway) -> u64 {
    figure(server, "pixelway_memory_cache_hits_total").await
}

async fn get(server: &Pixelway, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = pixelway_testkit::http_client().get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Uploads (replacing) `folder/name` through the management API.
async fn upload(server: &Pixelway, folder: &str, name: &str, bytes: &[u8]) {
    server
        .upload_replacing(KEY, folder, name, bytes, false)
        .await;
}

async fn purge(server: &Pixelway, url: &str) {
    let body = serde_json::json!({ "url": url }).to_string();
    let (status, answer) = server
        .api(Auth::Basic(KEY), "POST", "/v1/files/purge", &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

#[tokio::test]
async fn hits_ranges_and_revalidations_come_from_memory_and_changes_are_never_served_stale() {
    let server = Pixelway::start(BIN, Some(&config("8MiB")));
    upload(&server, "/shoes", "red.jpg", CUPS).await;
    let url = "/shop/shoes/red.jpg";

    // The first request fills the tier, the second is a memory hit with the same answer.
    let first = get(&server, url, &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(&first.bytes().await.unwrap()[..], CUPS);
    let before = hits(&server).await;
    let second = get(&server, url, &[]).await;
    assert_eq!(second.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(second.headers()["content-type"], "image/jpeg");
    assert_eq!(&second.bytes().await.unwrap()[..], CUPS);
    assert_eq!(
        hits(&server).await,
        before + 1,
        "the second request is a memory hit"
    );

    // A range and a revalidation, both answered from memory.
    let range = get(&server, url, &[("range", "bytes=100-199")]).await;
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        range.headers()["content-range"],
        format!("bytes 100-199/{}", CUPS.len()).as_str()
    );
    assert_eq!(&range.bytes().await.unwrap()[..], &CUPS[100..200]);
    let tail = get(&server, url, &[("range", "bytes=-10")]).await;
    assert_eq!(&tail.bytes().await.unwrap()[..], &CUPS[CUPS.len() - 10..]);
    let revalidated = get(&server, url, &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert!(revalidated.bytes().await.unwrap().is_empty());
    let stale_range = get(
        &server,
        url,
        &[("range", "bytes=0-9"), ("if-range", "\"another\"")],
    )
    .await;
    assert_eq!(
        stale_range.status(),
        StatusCode::OK,
        "If-Range mismatch: all"
    );
    assert_eq!(hits(&server).await, before + 5);

    // A transformed result is held too.
    let small = get(&server, "/shop/tr:w-100/shoes/red.jpg", &[]).await;
    assert_eq!(probe(&small.bytes().await.unwrap()).unwrap().2, 63);
    let hits_before_result = hits(&server).await;
    let small = get(&server, "/shop/tr:w-100/shoes/red.jpg", &[]).await;
    assert_eq!(probe(&small.bytes().await.unwrap()).unwrap().2, 63);
    assert_eq!(hits(&server).await, hits_before_result + 1);

    // Replaced through the API: the next answers are the new file's, original and result.
    upload(&server, "/shoes", "red.jpg", FLOWER).await;
    let replaced = get(&server, url, &[]).await;
    assert_ne!(replaced.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(&replaced.bytes().await.unwrap()[..], FLOWER);
    let small = get(&server, "/shop/tr:w-100/shoes/red.jpg", &[]).await;
    assert_eq!(probe(&small.bytes().await.unwrap()).unwrap().2, 75);

    // Changed on disk behind pixelway's back: memory keeps the old answer until the URL is
    // purged, then never again.
    server.put_media("shop", "shoes/red.jpg", CUPS);
    let held = get(&server, url, &[]).await;
    assert_eq!(&held.bytes().await.unwrap()[..], FLOWER, "held in memory");
    purge(&server, &server.url(url)).await;
    let purged = get(&server, url, &[]).await;
    assert_eq!(&purged.bytes().await.unwrap()[..], CUPS);
    let small = get(&server, "/shop/tr:w-100/shoes/red.jpg", &[]).await;
    assert_eq!(probe(&small.bytes().await.unwrap()).unwrap().2, 63);

    // A wildcard purge drops every path it begins.
    server.put_media("shop", "shoes/red.jpg", FLOWER);
    purge(&server, &server.url("/shop/shoes/re*")).await;
    let purged = get(&server, url, &[]).await;
    assert_eq!(&purged.bytes().await.unwrap()[..], FLOWER);

    // Deleted through the API: 404 at once.
    let (status, files) = server
        .api(Auth::Basic(KEY), "GET", "/v1/files?path=/shoes", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = files[0]["fileId"].as_str().unwrap().to_string();
    let (status, _) = server
        .api(Auth::Basic(KEY), "DELETE", &format!("/v1/files/{id}"), "")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(get(&server, url, &[]).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_memory_tier_never_holds_more_than_its_budget() {
    let budget: u64 = 256 * 1024;
    let server = Pixelway::start(BIN, Some(&config("256KiB")));
    // Distinct files of 20–50 KB: together several times the budget.
    for i in 0..40u32 {
        let size = 20_000 + (i as usize * 797) % 30_000;
        let bytes: Vec<u8> = (0..size).map(|n| (n as u32 * 31 + i * 7) as u8).collect();
        server.put_media("shop", &format!("blobs/{i}.bin"), &bytes);
        for _ in 0..2 {
            let answer = get(&server, &format!("/shop/blobs/{i}.bin"), &[]).await;
            assert_eq!(answer.bytes().await.unwrap().len(), size);
        }
        let held = figure(&server, "pixelway_memory_cache_bytes").await;
        assert!(held <= budget, "{held} bytes held, budget {budget}");
    }
    assert_eq!(
        figure(&server, "pixelway_memory_cache_budget_bytes").await,
        budget
    );
    assert!(figure(&server, "pixelway_memory_cache_entries").await >= 3);
    assert!(hits(&server).await >= 3);
    // Larger than the whole budget: served from disk, never held.
    let bytes: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();
    server.put_media("shop", "big.bin", &bytes);
    let refused = figure(&server, "pixelway_memory_cache_too_large_total").await;
    let big = get(&server, "/shop/big.bin", &[]).await;
    assert_eq!(&big.bytes().await.unwrap()[..], &bytes[..]);
    assert_eq!(
        figure(&server, "pixelway_memory_cache_too_large_total").await,
        refused + 1
    );
    // Only the operator reads the figures.
    let anonymous = get(&server, "/metrics", &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// Browsers' `Accept` headers as they send them for images.
const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const SAFARI: &str = "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
const FIREFOX: &str = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
const CURL: &str = "*/*";

#[tokio::test]
async fn browsers_get_their_format_with_vary_accept_from_memory_as_from_disk() {
    let server = Pixelway::start(BIN, Some(&config("8MiB")));
    server.put_media("shop", "cups.jpg", CUPS);
    server.put_media("avif-shop", "cups.jpg", CUPS);
    let expected = [
        ("/shop/cups.jpg", CHROME, InputKind::Webp),
        ("/shop/cups.jpg", SAFARI, InputKind::Webp),
        ("/shop/cups.jpg", FIREFOX, InputKind::Webp),
        ("/shop/cups.jpg", CURL, InputKind::Jpeg),
        ("/avif-shop/cups.jpg", CHROME, InputKind::Avif),
        ("/avif-shop/cups.jpg", SAFARI, InputKind::Avif),
        ("/avif-shop/cups.jpg", FIREFOX, InputKind::Avif),
        ("/avif-shop/cups.jpg", CURL, InputKind::Jpeg),
        ("/shop/tr:w-200/cups.jpg", CHROME, InputKind::Webp),
        ("/shop/tr:w-200/cups.jpg", CURL, InputKind::Jpeg),
    ];
    // Three rounds, interleaved: the first fills the tier, the others come from memory and
    // must not hand one client's format to another.
    for round in 0..3 {
        for (path, accept, kind) in expected {
            let answer = get(&server, path, &[("accept", accept)]).await;
            assert_eq!(answer.status(), StatusCode::OK);
            assert_eq!(answer.headers()["vary"], "Accept", "{path} {accept}");
            let body = answer.bytes().await.unwrap();
            let (got, _, _) = probe(&body).unwrap();
            assert_eq!(got, kind, "round {round}: {path} for {accept}");
        }
    }
    assert!(hits(&server).await >= 2 * expected.len() as u64);
}

/// Security round 3, finding 3: an answer made for a signed request, which may draw private
/// files (a layer image, a font, a named transformation's layer, a thumbnail, a default image),
/// is never the answer to the same URL unsigned, although the signed one is held in memory.
#[tokio::test]
async fn answers_made_for_signed_requests_never_reach_unsigned_ones() {
    // A named transformation of the first account, drawing a private layer.
    let config = config("64MiB").replacen(
        "public_key = \"public_memory_key\"",
        "public_key = \"public_memory_key\"\n\n[[account.named_transformation]]\nname = \"stamp\"\n\
         transformation = \"l-image,i-secret.png,w-50,l-end\"",
        1,
    );
    let server = Pixelway::start(BIN, Some(&config));
    upload(&server, "/", "cups.jpg", CUPS).await;
    let font = include_bytes!("../../transform/assets/fonts/DejaVuSans.ttf");
    for (name, bytes) in [
        ("secret.png", FLOWER),
        ("secret.ttf", &font[..]),
        ("secret.jpg", CUPS),
    ] {
        server.upload_replacing(KEY, "/", name, bytes, true).await;
    }
    let endpoint = server.url("/shop");
    let cases = [
        (
            "cups.jpg",
            r#"[{"raw": "l-image,i-secret.png,w-50,l-end"}]"#,
        ),
        (
            "cups.jpg",
            r#"[{"raw": "l-text,i-Hi,ff-secret.ttf,l-end"}]"#,
        ),
        ("cups.jpg", r#"[{"named": "stamp"}]"#),
        ("secret.jpg/ik-thumbnail.jpg", "[]"),
        (
            "missing.jpg",
            r#"[{"default_image": "secret.jpg", "width": 90}]"#,
        ),
    ];
    let requests: Vec<_> = cases
        .iter()
        .map(|(src, transformation)| pixelway_testkit::UrlRequest {
            transformation,
            signing_key: Some(KEY),
            ..pixelway_testkit::UrlRequest::new(&endpoint, src)
        })
        .collect();
    let signed = pixelway_testkit::build_all(pixelway_testkit::Sdk::Python, &requests);
    for url in &signed {
        let path = url.strip_prefix(&server.base_url).unwrap();
        for _ in 0..2 {
            let response = get(&server, path, &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{url}");
        }
        let (before, unsigned) = (hits(&server).await, without_signature(path));
        let response = get(&server, &unsigned, &[]).await;
        let status = response.status();
        assert_ne!(
            status,
            StatusCode::OK,
            "{unsigned} answered from a signed answer"
        );
        assert_eq!(hits(&server).await, before, "{unsigned}: a memory hit");
    }
}

/// `path` with its `ik-s` and `ik-t` query parameters removed.
fn without_signature(path: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("ik-s=") && !p.starts_with("ik-t="))
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// Security round 3, finding 9: a wildcard purge empties the purging account's answers in the
/// folder it names, and nobody else's: another tenant's answers and the same tenant's other
/// folders are still memory hits after it.
#[tokio::test]
async fn a_wildcard_purge_reaches_only_its_account_and_folder() {
    let server = Pixelway::start(BIN, Some(&config("16MiB")));
    upload(&server, "/shoes", "red.jpg", CUPS).await;
    upload(&server, "/bags", "tote.jpg", CUPS).await;
    server
        .upload_replacing("private_avif_memory_key", "/shoes", "red.jpg", CUPS, false)
        .await;
    let urls = [
        "/shop/shoes/red.jpg",
        "/shop/bags/tote.jpg",
        "/avif-shop/shoes/red.jpg",
    ];
    for url in urls {
        for _ in 0..2 {
            assert_eq!(get(&server, url, &[]).await.status(), StatusCode::OK);
        }
    }
    purge(&server, &server.url("/shop/shoes/re*")).await;
    for (url, from_memory) in [
        ("/avif-shop/shoes/red.jpg", true),
        ("/shop/bags/tote.jpg", true),
        ("/shop/shoes/red.jpg", false),
    ] {
        let before = hits(&server).await;
        assert_eq!(get(&server, url, &[]).await.status(), StatusCode::OK);
        let hit = hits(&server).await == before + 1;
        assert_eq!(hit, from_memory, "{url}: memory hit {hit}");
    }
}

/// Security round 3, finding 10: client hints are part of an answer's key only where they can
/// change it. Hundreds of requests for one untransformed file with ever-different hints are one
/// entry in memory (they made one entry each); a `w-auto` transformation still gets one per
/// width.
#[tokio::test]
async fn client_hints_split_memory_entries_only_where_they_change_the_answer() {
    let server = Pixelway::start(BIN, Some(&config("16MiB")));
    upload(&server, "/", "cups.jpg", CUPS).await;
    let entries = || figure(&server, "pixelway_memory_cache_entries");
    let before = entries().await;
    for width in 0..300 {
        let hints = [
            ("sec-ch-width", width.to_string()),
            ("sec-ch-dpr", "2".into()),
        ];
        let headers: Vec<(&str, &str)> = hints.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = get(&server, "/shop/cups.jpg", &headers).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(entries().await, before + 1, "one file, one entry");
    for width in [100, 200, 100] {
        let w = width.to_string();
        let response = get(&server, "/shop/tr:w-auto/cups.jpg", &[("sec-ch-width", &w)]).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(entries().await, before + 3, "w-auto: one entry per width");
}
