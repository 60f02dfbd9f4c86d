//! The outbound address guard (SSRF) against real servers: every non-public address class is
//! refused through `web_folder` and `web_proxy`, by literal address and by a name resolving to
//! loopback; a redirect from an allowed host to a private one is refused with the private
//! server never reached; object-store endpoints (S3, GCS, Azure) are held to the same policy;
//! an operator-allowed network is reachable.

use pixelway_origins::guard::AddressPolicy;
use pixelway_origins::{BuildContext, Failure, Fetch, Origin, OriginSpec};
use pixelway_testkit::{Behaviour, Moto, WebOrigin, closed_port};
use std::sync::Arc;
use std::time::Duration;

fn ctx(policy: AddressPolicy) -> BuildContext {
    BuildContext {
        default_timeout: Duration::from_secs(3),
        address_policy: policy,
    }
}

fn strict() -> BuildContext {
    ctx(AddressPolicy::default())
}

fn allowing(network: &str) -> BuildContext {
    ctx(AddressPolicy {
        allowed_networks: vec![network.parse().unwrap()],
        ..AddressPolicy::default()
    })
}

fn build(spec: serde_json::Value, ctx: &BuildContext) -> Arc<dyn Origin> {
    serde_json::from_value::<OriginSpec>(spec)
        .expect("spec")
        .build(ctx)
        .expect("build origin")
}

async fn assert_blocked(origin: &dyn Origin, path: &str, what: &str) {
    match origin.fetch(path).await {
        Fetch::Failed(Failure::Blocked(_)) => {}
        Fetch::Found(_) => panic!("{what}: fetched"),
        Fetch::NotHere(miss) => panic!("{what}: {miss:?}, expected blocked"),
        Fetch::Failed(other) => panic!("{what}: {other}, expected blocked"),
    }
}

/// Loopback in every spelling a URL can carry. Only addresses on this machine are ever used
/// here: the other classes (private, link-local, documentation, 6to4, NAT64 …) are tested on
/// the classification function itself (`guard.rs` unit tests), without connecting, so a gap in
/// the guard could never send a test's traffic off the machine.
const REFUSED_HOSTS: &[&str] = &[
    "127.0.0.1",
    "127.1.2.3",
    "2130706433", // 127.0.0.1 as one number
    "0x7f.1",
    "0.0.0.0", // "this host"
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "localhost", // a name resolving to loopback
];

#[tokio::test]
async fn every_address_class_is_refused_through_web_folder_and_web_proxy() {
    let web = WebOrigin::start();
    web.serve("/a.jpg", b"private");
    let port = web.base_url.rsplit(':').next().unwrap().to_string();
    let proxy = build(serde_json::json!({"type": "web_proxy"}), &strict());
    for host in REFUSED_HOSTS {
        let base = format!("http://{host}:{port}");
        let folder = build(
            serde_json::json!({"type": "web_folder", "base_url": base}),
            &strict(),
        );
        assert_blocked(folder.as_ref(), "a.jpg", &format!("web_folder {base}")).await;
        let url = format!("{base}/a.jpg");
        assert_blocked(proxy.as_ref(), &url, &format!("web_proxy {url}")).await;
    }
    assert_eq!(web.hits("/a.jpg"), 0, "nothing reached the private server");
    // Allowed by the operator, the same server answers (so the refusals above were the guard).
    let open = build(
        serde_json::json!({"type": "web_folder", "base_url": web.base_url}),
        &allowing("127.0.0.1/32"),
    );
    assert!(matches!(open.fetch("a.jpg").await, Fetch::Found(_)));
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused_at_every_hop() {
    let public = WebOrigin::start_on("127.0.0.2"); // the one network the operator allows
    let private = WebOrigin::start();
    private.serve("/secret.jpg", b"private bytes");
    let private_port = private.base_url.rsplit(':').next().unwrap();
    public.serve("/ok.jpg", b"allowed bytes");
    public.set(
        "/to-private.jpg",
        Behaviour::Redirect(format!("{}/secret.jpg", private.base_url)),
    );
    public.set(
        "/to-private-by-name.jpg",
        Behaviour::Redirect(format!("http://localhost:{private_port}/secret.jpg")),
    );
    public.set(
        "/to-other-loopback.jpg",
        Behaviour::Redirect(format!("http://127.0.0.3:{private_port}/secret.jpg")),
    );
    public.set(
        "/to-allowed.jpg",
        Behaviour::Redirect(format!("{}/ok.jpg", public.base_url)),
    );
    public.set(
        "/loop.jpg",
        Behaviour::Redirect(format!("{}/loop.jpg", public.base_url)),
    );
    let policy = allowing("127.0.0.2/32");
    let folder = build(
        serde_json::json!({"type": "web_folder", "base_url": public.base_url}),
        &policy,
    );
    let proxy = build(serde_json::json!({"type": "web_proxy"}), &policy);
    for origin in [&folder, &proxy] {
        let path = |name: &str| {
            if Arc::ptr_eq(origin, &proxy) {
                format!("{}/{name}", public.base_url)
            } else {
                name.to_string()
            }
        };
        assert!(matches!(
            origin.fetch(&path("ok.jpg")).await,
            Fetch::Found(_)
        ));
        assert!(matches!(
            origin.fetch(&path("to-allowed.jpg")).await,
            Fetch::Found(_)
        ));
        for hop in [
            "to-private.jpg",
            "to-private-by-name.jpg",
            "to-other-loopback.jpg",
        ] {
            assert_blocked(origin.as_ref(), &path(hop), hop).await;
        }
        assert_blocked(origin.as_ref(), &path("loop.jpg"), "redirect loop").await;
    }
    assert_eq!(
        private.hits("/secret.jpg"),
        0,
        "the private server was reached"
    );
    // A loop is cut after 5 redirects: 6 requests per origin kind.
    assert_eq!(public.hits("/loop.jpg"), 12);
}

#[tokio::test]
async fn object_store_endpoints_are_guarded() {
    let moto = Moto::shared();
    moto.create_bucket("guarded").await;
    moto.put("guarded", "a.jpg", b"bucket bytes").await;
    let s3 = |endpoint: &str| {
        serde_json::json!({"type": "s3", "bucket": "guarded", "endpoint": endpoint,
            "access_key_id": "testing", "secret_access_key": "testing", "allow_http": true})
    };
    let by_name = moto.endpoint.replace("127.0.0.1", "localhost");
    for endpoint in [moto.endpoint.as_str(), by_name.as_str()] {
        let origin = build(s3(endpoint), &strict());
        assert_blocked(origin.as_ref(), "a.jpg", &format!("s3 at {endpoint}")).await;
    }
    // The same bucket through an allowed network: the guarded client speaks S3 fine.
    let open = build(s3(&moto.endpoint), &allowing("127.0.0.0/8"));
    assert!(matches!(open.fetch("a.jpg").await, Fetch::Found(_)));

    // GCS and Azure take the same connector: a literal private endpoint and a name resolving to
    // loopback are both refused (blocked, not merely "connection refused").
    let port = closed_port();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let gcs = serde_json::json!({"type": "gcs", "bucket": "bkt", "endpoint": format!("http://{host}:{port}")});
        assert_blocked(
            build(gcs, &strict()).as_ref(),
            "a.jpg",
            &format!("gcs {host}"),
        )
        .await;
        let azure = serde_json::json!({"type": "azure_blob", "account_name": "devstoreaccount1",
            "container": "c", "endpoint": format!("http://{host}:{port}/devstoreaccount1")});
        assert_blocked(
            build(azure, &strict()).as_ref(),
            "a.jpg",
            &format!("azure {host}"),
        )
        .await;
    }
}

#[tokio::test]
async fn failures_never_carry_credentials() {
    // A SAS token travels in the query string of every Azure request; a failure's text goes to
    // the log and the trace header, so it must not contain it (nor any other query secret).
    let port = closed_port();
    let azure = serde_json::json!({"type": "azure_blob", "account_name": "devstoreaccount1",
        "container": "c", "sas_token": "sv=2022-11-02&sig=TOPSECRETSIG",
        "endpoint": format!("http://127.0.0.1:{port}/devstoreaccount1")});
    let open = allowing("127.0.0.0/8");
    match build(azure, &open).fetch("a.jpg").await {
        Fetch::Failed(failure) => {
            let text = format!("{failure} {failure:?}");
            assert!(!text.contains("TOPSECRETSIG"), "{text}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // An origin that answers, but not as Azure would (no ETag/Last-Modified): a parse failure,
    // whose text would name the request URL.
    let fake = WebOrigin::start();
    fake.serve("/devstoreaccount1/c/a.jpg", b"not azure");
    fake.set("/devstoreaccount1/c/b.jpg", Behaviour::Status(500));
    for path in ["a.jpg", "b.jpg"] {
        let azure = serde_json::json!({"type": "azure_blob", "account_name": "devstoreaccount1",
            "container": "c", "sas_token": "sv=2022-11-02&sig=TOPSECRETSIG",
            "endpoint": format!("{}/devstoreaccount1", fake.base_url)});
        match build(azure, &open).fetch(path).await {
            Fetch::Failed(failure) => {
                let text = format!("{failure} {failure:?}");
                assert!(!text.contains("TOPSECRETSIG"), "{text}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
    // A server that does not speak HTTP: reqwest's error names the URL it was fetching.
    let garbage = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let garbage_port = garbage.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in garbage.incoming().flatten() {
            use std::io::Write;
            let mut stream = stream;
            let _ = stream.write_all(b"NOT HTTP AT ALL\r\n\r\n");
        }
    });
    let proxy = build(serde_json::json!({"type": "web_proxy"}), &open);
    for port in [port, garbage_port] {
        let url = format!("http://127.0.0.1:{port}/a.jpg?token=TOPSECRETTOKEN");
        match proxy.fetch(&url).await {
            Fetch::Failed(failure) => {
                let text = format!("{failure} {failure:?}");
                assert!(!text.contains("TOPSECRETTOKEN"), "{text}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

/// A redirect's next hop learns nothing of the previous URL: no `Referer` (its query may carry a
/// token a user put in a proxied URL).
#[tokio::test]
async fn redirects_send_no_referer() {
    let web = WebOrigin::start();
    web.serve("/next.jpg", b"next");
    web.set(
        "/start.jpg",
        Behaviour::Redirect(format!("{}/next.jpg", web.base_url)),
    );
    let policy = allowing("127.0.0.1/32");
    let proxy = build(serde_json::json!({"type": "web_proxy"}), &policy);
    let url = format!("{}/start.jpg?token=TOPSECRETTOKEN", web.base_url);
    assert!(matches!(proxy.fetch(&url).await, Fetch::Found(_)));
    let headers = web.last_headers("/next.jpg").expect("next hop reached");
    assert!(
        headers.get("referer").is_none(),
        "the next hop saw a Referer: {:?}",
        headers.get("referer")
    );
}
