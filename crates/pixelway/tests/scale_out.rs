//! Two nodes on one PostgreSQL and one S3-protocol bucket (moto) behave as one: a file uploaded
//! through one is served by the other; an endpoint made on one routes on the other; a purge on
//! one reaches the other's memory tier; a dashboard session opened on one works on the other;
//! with the database gone both keep serving, report not ready, refuse changes, and catch up
//! when it is back. Every server is the testkit's, on 127.0.0.1.

use pixelway_testkit::api::Auth;
use pixelway_testkit::multipart::Form;
use pixelway_testkit::{Moto, Nginx, Pixelway, Postgres, WebOrigin, http_client};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_scale_key";
const TOKEN: &str = "operator-token-for-scale-tests";
/// Both nodes seal secrets with the same key (32 bytes, base64).
const SECRETS_KEY: &str = "c2NhbGUtb3V0LXRlc3Qtc2VjcmV0cy1rZXktMzJieXQ=";

fn config(database_url: &str, moto: &Moto, bucket: &str) -> String {
    format!(
        r#"
[server]
admin_token = "{TOKEN}"

[limits]
# The test's web origins listen on 127.0.0.1.
allow_private_origin_addresses = true

[storage]
database_url = "{database_url}"
media_library = "s3://{bucket}/library"
secrets_key = "{SECRETS_KEY}"

[storage.s3]
endpoint = "{endpoint}"
region = "us-east-1"
access_key_id = "testing"
secret_access_key = "testing"
allow_http = true

[[account]]
id = "scale"
private_key = "{KEY}"
public_key = "public_scale_key"
"#,
        endpoint = moto.endpoint
    )
}

async fn get(node: &Pixelway, path: &str) -> (u16, Vec<u8>) {
    let response = http_client()
        .get(node.url(path))
        .send()
        .await
        .expect("the node answers");
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap_or_default().to_vec())
}

/// Polls `path` on `node` until it answers `status`; how long that took.
async fn until_status(node: &Pixelway, path: &str, status: u16, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if get(node, path).await.0 == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{path} did not answer {status} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn upload(node: &Pixelway, name: &str, bytes: &[u8]) {
    let form = Form::new()
        .text("fileName", name)
        .text("useUniqueFileName", "false")
        .file("file", name, bytes);
    let response = node.upload(KEY, form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// Creates an endpoint with URL prefix `prefix` (no origins of its own) on `node`; its id.
async fn create_endpoint(node: &Pixelway, prefix: &str) -> String {
    let body = format!(r#"{{"urlPrefix": "{prefix}", "origins": []}}"#);
    let (status, json) = node
        .api(
            Auth::Basic(KEY),
            "POST",
            "/v1/accounts/url-endpoints",
            &body,
        )
        .await;
    assert_eq!(status, 201, "{json}");
    json["id"].as_str().expect("an id").to_string()
}

/// Purges the URL of `path` on `node` through the management API.
async fn purge(node: &Pixelway, path: &str) {
    let url = node.url(path);
    let (status, json) = node
        .api(
            Auth::Basic(KEY),
            "POST",
            "/v1/files/purge",
            &format!(r#"{{"url": "{url}"}}"#),
        )
        .await;
    assert_eq!(status, 201, "{json}");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_and_bucket_behave_as_one() {
    let postgres = Postgres::start();
    let moto = Moto::shared();
    let bucket = "pixelway-scale-out";
    moto.create_bucket(bucket).await;
    let config = config(&postgres.fresh_database(), moto, bucket);
    let a = Pixelway::start(BIN, Some(&config));
    let b = Pixelway::start(BIN, Some(&config));
    let photo = std::fs::read(pixelway_testkit::sample_path("cups.jpg")).unwrap();

    // A file uploaded through A is served by B, byte for byte.
    upload(&a, "cups.jpg", &photo).await;
    let (status, body) = get(&b, "/scale/cups.jpg").await;
    assert_eq!(status, 200);
    assert_eq!(body, photo, "B serves A's upload");

    // An endpoint created on A routes on B; measured over 20 changes.
    let mut delays = Vec::new();
    for i in 0..20 {
        create_endpoint(&a, &format!("shop-{i}")).await;
        let made = Instant::now();
        let path = format!("/scale/shop-{i}/cups.jpg");
        until_status(&b, &path, 200, Duration::from_secs(5)).await;
        delays.push(made.elapsed());
    }
    delays.sort();
    eprintln!(
        "change on A → visible on B: p50 {:?}, p99 {:?}, max {:?} (20 changes)",
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
        delays.last().unwrap()
    );

    // An endpoint's origins reordered on A: B tries them in the new order.
    let (first, second) = (WebOrigin::start(), WebOrigin::start());
    let hills = std::fs::read(pixelway_testkit::sample_path("pastel-hills.jpg")).unwrap();
    let flower = std::fs::read(pixelway_testkit::sample_path("fresh-flower.jpg")).unwrap();
    first.serve("/pick.jpg", &hills);
    second.serve("/pick.jpg", &flower);
    let mut origin_ids = Vec::new();
    for (name, origin) in [("first", &first), ("second", &second)] {
        let body = format!(
            r#"{{"name": "{name}", "type": "WEB_FOLDER", "baseUrl": "{}"}}"#,
            origin.base_url
        );
        let (status, json) = a
            .api(Auth::Basic(KEY), "POST", "/v1/accounts/origins", &body)
            .await;
        assert_eq!(status, 201, "{json}");
        origin_ids.push(json["id"].as_str().unwrap().to_string());
    }
    let endpoint = |order: &[&String]| {
        format!(
            r#"{{"urlPrefix": "pick", "origins": ["{}", "{}"]}}"#,
            order[0], order[1]
        )
    };
    let (status, json) = a
        .api(
            Auth::Basic(KEY),
            "POST",
            "/v1/accounts/url-endpoints",
            &endpoint(&[&origin_ids[0], &origin_ids[1]]),
        )
        .await;
    assert_eq!(status, 201, "{json}");
    let pick_id = json["id"].as_str().unwrap().to_string();
    until_status(&b, "/scale/pick/pick.jpg", 200, Duration::from_secs(5)).await;
    assert_eq!(
        get(&b, "/scale/pick/pick.jpg").await.1,
        hills,
        "the first origin first"
    );
    let (status, json) = a
        .api(
            Auth::Basic(KEY),
            "PUT",
            &format!("/v1/accounts/url-endpoints/{pick_id}"),
            &endpoint(&[&origin_ids[1], &origin_ids[0]]),
        )
        .await;
    assert_eq!(status, 200, "{json}");
    let reordered = Instant::now();
    while get(&b, "/scale/pick/pick.jpg").await.1 != flower {
        assert!(
            reordered.elapsed() < Duration::from_secs(5),
            "B never tried the reordered chain"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("reorder on A → honoured by B in {:?}", reordered.elapsed());

    // A purge on B is honoured by A, from A's memory tier too: A holds the photo in memory,
    // the bucket's bytes change behind its back, B purges the URL.
    for _ in 0..3 {
        assert_eq!(get(&a, "/scale/tr:w-100/cups.jpg").await.0, 200);
    }
    let (_, before) = get(&a, "/scale/cups.jpg").await;
    let other = std::fs::read(pixelway_testkit::sample_path("pastel-hills.jpg")).unwrap();
    moto.put_signed(bucket, "library/scale/cups.jpg", &other)
        .await;
    assert_eq!(
        get(&a, "/scale/cups.jpg").await.1,
        before,
        "A still serves its copy"
    );
    purge(&b, "/scale/cups.jpg").await;
    let purged = Instant::now();
    loop {
        if get(&a, "/scale/cups.jpg").await.1 == other {
            break;
        }
        assert!(
            purged.elapsed() < Duration::from_secs(5),
            "A never saw B's purge"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("purge on B → honoured by A in {:?}", purged.elapsed());

    // A dashboard session opened on A works on B.
    let session = a.sign_in(Some("scale"), KEY).await.expect("signed in on A");
    let (status, json) = b
        .api(
            Auth::Session(&session, Some(&session.csrf)),
            "GET",
            "/v1/accounts/url-endpoints",
            "",
        )
        .await;
    assert_eq!(status, 200, "the session from A is B's too: {json}");

    // The limit on failed sign-ins counts both nodes' failures: four wrong keys on A (past the
    // three free ones), and B makes that address wait, even with the right key; another
    // address signs in on B.
    for _ in 0..4 {
        assert!(a.sign_in(Some("scale"), "wrong-key").await.is_err());
    }
    let refused = b.sign_in(Some("scale"), KEY).await;
    assert_eq!(
        refused.err(),
        Some(reqwest::StatusCode::TOO_MANY_REQUESTS),
        "B counts A's failures"
    );
    b.sign_in_from([127, 0, 0, 2].into(), Some("scale"), KEY)
        .await
        .expect("another client is not held back");

    // The database goes away: both nodes serve what they have, say they are not ready, and
    // refuse changes with 503.
    postgres.stop();
    for node in [&a, &b] {
        assert_eq!(get(node, "/scale/cups.jpg").await.0, 200, "still serving");
        until_status(node, "/readyz", 503, Duration::from_secs(10)).await;
        let (status, json) = node
            .api(
                Auth::Basic(KEY),
                "POST",
                "/v1/accounts/url-endpoints",
                r#"{"urlPrefix": "while-down", "origins": []}"#,
            )
            .await;
        assert_eq!(status, 503, "{json}");
    }
    let (_, text) = get(&a, "/readyz").await;
    assert!(
        String::from_utf8_lossy(&text).contains("database: unreachable"),
        "{}",
        String::from_utf8_lossy(&text)
    );

    // It comes back: both are ready again by themselves, and a change made on A reaches B.
    postgres.resume();
    for node in [&a, &b] {
        until_status(node, "/readyz", 200, Duration::from_secs(20)).await;
    }
    let (status, json) = a
        .api(
            Auth::Basic(KEY),
            "POST",
            "/v1/accounts/url-endpoints",
            r#"{"urlPrefix": "after-outage", "origins": []}"#,
        )
        .await;
    assert_eq!(status, 201, "{json}");
    until_status(
        &b,
        "/scale/after-outage/cups.jpg",
        200,
        Duration::from_secs(5),
    )
    .await;
}

/// Changes made at once on one node commit in their own order, not in the order of their
/// numbers: the other node applies every one of them, waits for a number that shows up late
/// instead of taking it for lost, and never rebuilds its whole catalog for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_at_once_all_reach_the_other_node() {
    let postgres = Postgres::start();
    let moto = Moto::shared();
    let bucket = "pixelway-concurrent-changes";
    moto.create_bucket(bucket).await;
    let config = config(&postgres.fresh_database(), moto, bucket);
    let a = std::sync::Arc::new(Pixelway::start(BIN, Some(&config)));
    let b_dir = tempfile::tempdir().unwrap();
    let b = Pixelway::start_in(
        BIN,
        Some(&config),
        b_dir.path(),
        &[("PIXELWAY_LOG", "info,pixelway_control=debug")],
    );
    let photo = std::fs::read(pixelway_testkit::sample_path("cups.jpg")).unwrap();
    upload(&a, "cups.jpg", &photo).await;
    // Eight writers at once, each changing its own endpoint 30 times, then renaming it.
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(create_endpoint(&a, &format!("burst-{i}")).await);
    }
    let writers: Vec<_> = ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let a = std::sync::Arc::clone(&a);
            tokio::spawn(async move {
                let path = format!("/v1/accounts/url-endpoints/{id}");
                for round in 0..=30 {
                    let prefix = match round {
                        30 => format!("renamed-{i}"),
                        _ => format!("burst-{i}"),
                    };
                    let body =
                        format!(r#"{{"urlPrefix": "{prefix}", "description": "round {round}"}}"#);
                    let (status, json) = a.api(Auth::Basic(KEY), "PUT", &path, &body).await;
                    assert_eq!(status, 200, "{json}");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    for i in 0..8 {
        let path = format!("/scale/renamed-{i}/cups.jpg");
        until_status(&b, &path, 200, Duration::from_secs(5)).await;
    }
    let rebuilds = b
        .output()
        .iter()
        .filter(|line| line.contains("catalog read and built"))
        .count();
    assert_eq!(rebuilds, 1, "only the start's: {:?}", b.output());
}

/// The access line's tier (`cache=…`) of the request that got `response`, and its body.
async fn tier_and_body(node: &Pixelway, path: &str) -> (String, Vec<u8>) {
    let response = http_client()
        .get(node.url(path))
        .send()
        .await
        .expect("the node answers");
    assert_eq!(response.status(), 200, "{path}");
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.bytes().await.unwrap().to_vec();
    let line = node
        .wait_for_output(&format!("request_id={id}"))
        .expect("an access line");
    let tier = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("cache="))
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    (tier, body)
}

/// With `storage.shared_results`, what one node transformed is a hit on the other: copied from
/// the bucket byte for byte, not transformed again. A purge makes the shared copy a miss on
/// every node (it was made before the purge); the node that transforms again shares its new
/// result, which is then the other node's hit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_made_on_one_node_is_a_hit_on_the_other() {
    let postgres = Postgres::start();
    let moto = Moto::shared();
    let bucket = "pixelway-shared-results";
    moto.create_bucket(bucket).await;
    let config = config(&postgres.fresh_database(), moto, bucket)
        .replace("[storage]\n", "[storage]\nshared_results = true\n");
    let a = Pixelway::start(BIN, Some(&config));
    let b = Pixelway::start(BIN, Some(&config));
    let photo = std::fs::read(pixelway_testkit::sample_path("cups.jpg")).unwrap();
    upload(&a, "cups.jpg", &photo).await;
    let path = "/scale/tr:w-123,h-77/cups.jpg";

    let (tier, made_on_a) = tier_and_body(&a, path).await;
    assert_eq!(tier, "transformed");
    // Shared off the request path: the entry appears in the bucket's results folder.
    let shared = until_one_object(moto, bucket, "library/.results").await;
    let first_copy = moto.get(bucket, &shared).await.expect("the shared entry");
    assert!(first_copy.ends_with(&made_on_a), "header, then A's bytes");

    let (tier, on_b) = tier_and_body(&b, path).await;
    assert_eq!(tier, "shared", "B takes A's result from the bucket");
    assert_eq!(on_b, made_on_a, "byte for byte");
    let (tier, _) = tier_and_body(&b, path).await;
    assert!(
        tier == "memory" || tier == "cache",
        "then B holds it: {tier}"
    );

    // A purge of the file on A; a second later B asks again: its own copy and the shared one
    // were made before the purge, so B transforms, and shares what it made.
    purge(&a, "/scale/cups.jpg").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (tier, remade_on_b) = tier_and_body(&b, path).await;
    assert_eq!(tier, "transformed", "the shared copy predates the purge");
    let started = Instant::now();
    let second_copy = loop {
        match moto.get(bucket, &shared).await {
            Some(copy) if copy != first_copy => break copy,
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "B never shared its new result"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(second_copy.ends_with(&remade_on_b));

    // A's memory and disk copies are purged too; the bucket has B's new result for it.
    let (tier, on_a) = tier_and_body(&a, path).await;
    assert_eq!(tier, "shared", "A takes B's new result");
    assert_eq!(on_a, remade_on_b);
    assert_eq!(
        moto.list(bucket, "library/.results").await,
        vec![shared],
        "one result, one object"
    );
}

/// Waits up to 10 s for exactly one object under `prefix`; its key.
async fn until_one_object(moto: &Moto, bucket: &str, prefix: &str) -> String {
    let started = Instant::now();
    loop {
        let mut keys = moto.list(bucket, prefix).await;
        if keys.len() == 1 {
            return keys.remove(0);
        }
        assert!(keys.len() < 2, "{keys:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing shared under {prefix}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Bytes that are a JPEG (a real photo) made unique by what follows its end: `n` times the
/// photo's size in trailing bytes derived from `seed`.
fn unique_photo(photo: &[u8], seed: u32, n: usize) -> Vec<u8> {
    let mut bytes = photo.to_vec();
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for _ in 0..photo.len() * n {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push(state as u8);
    }
    bytes
}

/// SIGKILL of a node while 40 uploads stream into it (12 at a time) loses no upload it acknowledged: each
/// one is served by the other node, byte for byte; one it did not acknowledge is either
/// absent or whole, never half. A file larger than a multipart part goes up in parts and comes
/// back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_uploads_loses_no_acknowledged_upload() {
    let postgres = Postgres::start();
    let moto = Moto::shared();
    let bucket = "pixelway-crash";
    moto.create_bucket(bucket).await;
    let config = config(&postgres.fresh_database(), moto, bucket);
    let mut a = Pixelway::start(BIN, Some(&config));
    let b = Pixelway::start(BIN, Some(&config));
    let photo = std::fs::read(pixelway_testkit::sample_path("cups.jpg")).unwrap();

    // Larger than one part (8 MiB): uploaded in parts, served whole by the other node.
    let large = unique_photo(&photo, 7, 110);
    assert!(large.len() > 9 << 20, "more than one 8 MiB part");
    upload(&a, "large.jpg", &large).await;
    let (status, body) = get(&b, "/scale/large.jpg").await;
    assert_eq!(status, 200);
    assert!(body == large, "the large file came back whole");

    let files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| (format!("crash-{i}.jpg"), unique_photo(&photo, i, 4)))
        .collect();
    let (acknowledged_tx, mut acknowledged_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut uploads = Vec::new();
    // moto's server drops connections beyond about a dozen at once (then every later request
    // fails): the 40 uploads run at most 12 at a time, all of them against node A.
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(12));
    for (name, bytes) in files.clone() {
        let url = a.url("/api/v1/files/upload");
        let acknowledged = acknowledged_tx.clone();
        let in_flight = in_flight.clone();
        uploads.push(tokio::spawn(async move {
            let _turn = in_flight.acquire_owned().await.unwrap();
            let form = Form::new()
                .text("fileName", &name)
                .text("useUniqueFileName", "false")
                .file("file", &name, &bytes);
            let (content_type, body) = form.finish();
            let answer = http_client()
                .post(url)
                .basic_auth(KEY, Some(""))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await;
            if answer.is_ok_and(|r| r.status() == 200) {
                let _ = acknowledged.send(name);
            }
        }));
    }
    drop(acknowledged_tx);
    // Some are done, the rest in flight: the node dies.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 8 {
        match acknowledged_rx.recv().await {
            Some(name) => acknowledged.push(name),
            // Every upload has answered (the bucket may refuse some under this load).
            None => break,
        }
    }
    a.kill();
    for upload in uploads {
        upload.await.unwrap();
    }
    while let Ok(name) = acknowledged_rx.try_recv() {
        acknowledged.push(name);
    }
    eprintln!(
        "{} of 40 uploads acknowledged before the crash",
        acknowledged.len()
    );
    assert!(
        !acknowledged.is_empty(),
        "no upload was acknowledged at all"
    );
    for (name, bytes) in &files {
        let (status, body) = get(&b, &format!("/scale/{name}")).await;
        if acknowledged.contains(name) {
            assert_eq!(status, 200, "{name} was acknowledged");
            assert!(body == *bytes, "{name} is served byte for byte");
        } else {
            assert!(
                status == 404 || (status == 200 && body == *bytes),
                "{name}: {status}, {} bytes of {}: never half a file",
                body.len(),
                bytes.len()
            );
        }
    }
}

/// The nginx configuration docs/scaling.md gives, as it is written there.
fn documented_nginx_config() -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/scaling.md"
    ))
    .unwrap();
    let start = doc
        .find("```nginx\n")
        .expect("an nginx block in docs/scaling.md")
        + 9;
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

/// nginx in front, configured as docs/scaling.md says, sends each URL to one node (so each
/// node's caches stay hot), spreads URLs over both, and moves a dead node's URLs to the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_balancer_keeps_each_url_on_one_node() {
    let postgres = Postgres::start();
    let moto = Moto::shared();
    let bucket = "pixelway-balanced";
    moto.create_bucket(bucket).await;
    let config = config(&postgres.fresh_database(), moto, bucket);
    let mut a = Pixelway::start(BIN, Some(&config));
    let b = Pixelway::start(BIN, Some(&config));
    let node = |server: &Pixelway| server.url("").trim_start_matches("http://").to_string();
    let nginx = Nginx::start(
        &documented_nginx_config()
            .replace("@NODE_A@", &node(&a))
            .replace("@NODE_B@", &node(&b)),
    );
    let photo = std::fs::read(pixelway_testkit::sample_path("cups.jpg")).unwrap();
    upload(&a, "cups.jpg", &photo).await;

    let paths: Vec<String> = (1..=24)
        .map(|w| format!("/scale/tr:w-{}/cups.jpg", w * 10))
        .collect();
    for _ in 0..2 {
        for path in &paths {
            let response = http_client().get(nginx.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
    }
    let served_by = |server: &Pixelway, path: &str| {
        let needle = format!("path={path} ");
        server
            .output()
            .iter()
            .filter(|line| line.contains(&needle))
            .count()
    };
    // An access line is printed as its answer ends: wait until every request's line is read.
    let started = Instant::now();
    while paths
        .iter()
        .map(|path| served_by(&a, path) + served_by(&b, path))
        .sum::<usize>()
        < 2 * paths.len()
        && started.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut on_a = 0;
    for path in &paths {
        let (by_a, by_b) = (served_by(&a, path), served_by(&b, path));
        assert!(
            (by_a, by_b) == (2, 0) || (by_a, by_b) == (0, 2),
            "{path} went to both nodes: A {by_a}, B {by_b}"
        );
        on_a += usize::from(by_a == 2);
    }
    eprintln!("{on_a} of {} URLs on node A", paths.len());
    assert!(on_a > 0 && on_a < paths.len(), "both nodes take URLs");

    // A node dies: its URLs are served by the other.
    a.kill();
    for path in &paths {
        let response = http_client().get(nginx.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path} after node A died");
    }
}
