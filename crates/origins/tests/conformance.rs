//! One conformance suite that every origin kind passes, each against a real server of its kind
//! on 127.0.0.1: moto (S3 protocol), the GCS emulator, Azurite, an HTTP server, a local folder.

use futures::TryStreamExt;
use pixelway_origins::guard::AddressPolicy;
use pixelway_origins::{Body, BuildContext, Failure, Fetch, Miss, Origin, OriginSpec};
use pixelway_testkit::{Azurite, GcsEmulator, Moto, WebOrigin, closed_port};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Files every fixture holds, under its root (or prefix) "conformance/", plus one outside it.
const FILES: &[(&str, &[u8])] = &[
    ("a.jpg", b"first file bytes"),
    ("dir with space/\u{fc}nicode.jpg", b"unicode path bytes"),
    ("deep/nested/c.png", b"nested file bytes"),
];
const OUTSIDE: (&str, &[u8]) = ("outside.jpg", b"must never be served");

fn ctx() -> BuildContext {
    BuildContext {
        default_timeout: Duration::from_secs(3),
        address_policy: AddressPolicy {
            allow_private: true,
            ..AddressPolicy::default()
        },
    }
}

fn build(spec: serde_json::Value) -> Arc<dyn Origin> {
    let spec: OriginSpec = serde_json::from_value(spec).expect("spec");
    spec.build(&ctx()).expect("build origin")
}

async fn body_of(fetch: Fetch) -> Vec<u8> {
    let stream = match fetch {
        Fetch::Found(object) => match object.body {
            Body::Local(local) => {
                let len = local.len;
                local.stream(0, len)
            }
            Body::Stream(stream) => stream,
        },
        other => panic!("expected the file, got {other:?}"),
    };
    stream
        .try_fold(Vec::new(), |mut acc, chunk| async move {
            acc.extend_from_slice(&chunk);
            Ok(acc)
        })
        .await
        .unwrap()
}

/// The suite: found files (nested, unicode), misses, and no way out of the root.
async fn conformance(kind: &str, origin: Arc<dyn Origin>) {
    for (path, bytes) in FILES {
        assert_eq!(
            body_of(origin.fetch(path).await).await,
            *bytes,
            "{kind}: {path}"
        );
    }
    for missing in ["missing.jpg", "deep/missing.png", "deep"] {
        let outcome = origin.fetch(missing).await;
        assert!(
            matches!(outcome, Fetch::NotHere(Miss::NotFound)),
            "{kind}: {missing}: {outcome:?}"
        );
    }
    for escape in [
        "../outside.jpg",
        "deep/../../outside.jpg",
        "outside.jpg",
        "/outside.jpg",
    ] {
        let outcome = origin.fetch(escape).await;
        assert!(
            !matches!(outcome, Fetch::Found(_)),
            "{kind}: {escape} escaped the root"
        );
    }
}

/// A stopped server is a failure (refused), reported quickly, never a hang.
async fn unreachable(kind: &str, origin: Arc<dyn Origin>) {
    let started = Instant::now();
    let outcome = origin.fetch("a.jpg").await;
    assert!(
        matches!(outcome, Fetch::Failed(Failure::Refused | Failure::Timeout)),
        "{kind}: {outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{kind}: took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn s3_origin_conforms() {
    let moto = Moto::shared();
    moto.create_bucket("conformance").await;
    for (path, bytes) in FILES {
        moto.put("conformance", &format!("conformance/{path}"), bytes)
            .await;
    }
    moto.put("conformance", OUTSIDE.0, OUTSIDE.1).await;
    let spec = |endpoint: &str| {
        serde_json::json!({"type": "s3", "bucket": "conformance", "prefix": "conformance",
            "endpoint": endpoint, "access_key_id": "testing", "secret_access_key": "testing",
            "allow_http": true})
    };
    conformance("s3", build(spec(&moto.endpoint))).await;
    let down = format!("http://127.0.0.1:{}", closed_port());
    unreachable("s3", build(spec(&down))).await;
    // A bucket that does not exist is a miss, not a failure.
    let no_bucket = serde_json::json!({"type": "s3", "bucket": "no-such-bucket", "endpoint": moto.endpoint,
        "access_key_id": "testing", "secret_access_key": "testing", "allow_http": true});
    assert!(matches!(
        build(no_bucket).fetch("a.jpg").await,
        Fetch::NotHere(_)
    ));
}

#[tokio::test]
async fn gcs_origin_conforms() {
    let gcs = GcsEmulator::shared();
    gcs.create_bucket("conformance").await;
    for (path, bytes) in FILES {
        gcs.put("conformance", &format!("conformance/{path}"), bytes)
            .await;
    }
    gcs.put("conformance", OUTSIDE.0, OUTSIDE.1).await;
    let spec = |endpoint: &str| serde_json::json!({"type": "gcs", "bucket": "conformance", "prefix": "conformance", "endpoint": endpoint});
    conformance("gcs", build(spec(&gcs.endpoint))).await;
    unreachable(
        "gcs",
        build(spec(&format!("http://127.0.0.1:{}", closed_port()))),
    )
    .await;
}

#[tokio::test]
async fn azure_blob_origin_conforms() {
    let azurite = Azurite::shared();
    let mut blobs: Vec<(String, &[u8])> = FILES
        .iter()
        .map(|(p, b)| (format!("conformance/{p}"), *b))
        .collect();
    blobs.push((OUTSIDE.0.to_string(), OUTSIDE.1));
    let listing: Vec<(&str, &[u8])> = blobs.iter().map(|(p, b)| (p.as_str(), *b)).collect();
    let sas = azurite.create_container("conformance", &listing);
    let spec = |endpoint: &str| {
        serde_json::json!({"type": "azure_blob", "account_name": "devstoreaccount1", "container": "conformance",
            "prefix": "conformance", "sas_token": sas, "endpoint": endpoint})
    };
    conformance("azure_blob", build(spec(&azurite.endpoint))).await;
    let down = format!("http://127.0.0.1:{}/devstoreaccount1", closed_port());
    unreachable("azure_blob", build(spec(&down))).await;
}

#[tokio::test]
async fn web_folder_origin_conforms() {
    let web = WebOrigin::start();
    for (path, bytes) in FILES {
        web.serve(&format!("/assets/conformance/{path}"), bytes);
    }
    web.serve(&format!("/assets/{}", OUTSIDE.0), OUTSIDE.1);
    let spec = |base: &str| serde_json::json!({"type": "web_folder", "base_url": format!("{base}/assets/conformance")});
    conformance("web_folder", build(spec(&web.base_url))).await;
    unreachable(
        "web_folder",
        build(spec(&format!("http://127.0.0.1:{}", closed_port()))),
    )
    .await;
}

#[tokio::test]
async fn web_proxy_origin_fetches_absolute_urls() {
    let web = WebOrigin::start();
    web.serve("/img/a.jpg", b"proxied bytes");
    let origin = build(serde_json::json!({"type": "web_proxy"}));
    let url = format!("{}/img/a.jpg", web.base_url);
    assert_eq!(body_of(origin.fetch(&url).await).await, b"proxied bytes");
    assert!(matches!(
        origin
            .fetch(&format!("{}/img/missing.jpg", web.base_url))
            .await,
        Fetch::NotHere(Miss::NotFound)
    ));
    assert!(matches!(
        origin.fetch("relative/path.jpg").await,
        Fetch::NotHere(_)
    ));
    let allow_listed =
        build(serde_json::json!({"type": "web_proxy", "allowed_hosts": ["images.example.com"]}));
    assert!(matches!(
        allow_listed.fetch(&url).await,
        Fetch::Failed(Failure::Blocked(_))
    ));
}

#[tokio::test]
async fn local_folder_origin_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("conformance");
    for (path, bytes) in FILES {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    std::fs::write(dir.path().join(OUTSIDE.0), OUTSIDE.1).unwrap();
    let origin =
        build(serde_json::json!({"type": "local_folder", "path": root.display().to_string()}));
    conformance("local_folder", origin).await;
}
