//! No origin spec that passes [`OriginSpec::check`] can make a request panic: tricky values of
//! every field, in every combination, are checked; each accepted one is built with the real
//! client constructors and asked for a file. (An S3 endpoint without a scheme used to be built,
//! and then panicked inside object_store's request signing on every request.)
//!
//! Requests go nowhere: only specs whose every URL names a loopback address literally are
//! fetched, with the default address policy, which refuses loopback before connecting.

use pixelway_origins::guard::AddressPolicy;
use pixelway_origins::{BuildContext, Fetch, OriginSpec};
use std::time::Duration;

const ENDPOINTS: &[&str] = &[
    "",
    "127.0.0.1:9000",
    "127.0.0.1",
    "localhost:9000",
    "//127.0.0.1:9000",
    "http:127.0.0.1:9000",
    "http://",
    "http://:9000",
    "ftp://127.0.0.1:9000",
    "HTTP://127.0.0.1:9000",
    "http://127.0.0.1:9000",
    "https://127.0.0.1:9000/",
    "http://127.0.0.1:9000/base/path",
    "http://[::1]:9000",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:0",
    "http://127.0.0.1:9000?x=1",
    "http://127.0.0.1:9000#frag",
    " http://127.0.0.1:9000",
    "http://127.0.0.1:9000 ",
    "http://127.0.0.1:9000/a b",
    "http://127.0.0.1:9000/%zz",
    "http://user:pass@127.0.0.1:9000",
    "http://127.0.0.1%00:9000",
    "\u{0}",
];
const REGIONS: &[&str] = &["us-east-1", "garage", "", "us east", "ü", "a/b"];
const BUCKETS: &[&str] = &[
    "images",
    "Images",
    "a",
    "im ages",
    "im..ages",
    "bucket/slash",
    "b-",
];
const PREFIXES: &[&str] = &["", "a/b", "../x", "%2e%2e", "a b", "/lead"];

fn specs() -> Vec<serde_json::Value> {
    let mut specs = Vec::new();
    for endpoint in ENDPOINTS {
        specs.push(serde_json::json!({"type": "web_folder", "base_url": endpoint}));
        for prefix in PREFIXES {
            for bucket in BUCKETS {
                for region in REGIONS {
                    specs.push(
                        serde_json::json!({"type": "s3", "bucket": bucket, "prefix": prefix,
                        "endpoint": endpoint, "region": region, "access_key_id": "AK",
                        "secret_access_key": "SK", "allow_http": true}),
                    );
                }
                specs.push(
                    serde_json::json!({"type": "gcs", "bucket": bucket, "prefix": prefix,
                    "endpoint": endpoint}),
                );
            }
            for (account, container) in [
                ("devstoreaccount1", "c"),
                ("bad name", "c"),
                ("acct", "C!"),
                ("", ""),
            ] {
                specs.push(
                    serde_json::json!({"type": "azure_blob", "account_name": account,
                    "container": container, "prefix": prefix, "endpoint": endpoint,
                    "access_key": "a2V5"}),
                );
            }
        }
    }
    specs
}

/// Whether every URL of the spec names a loopback address literally (so a request could only
/// go to this machine, and the default policy refuses it before connecting).
fn only_loopback(spec: &serde_json::Value) -> bool {
    let url = spec["endpoint"]
        .as_str()
        .or(spec["base_url"].as_str())
        .unwrap_or("");
    // Without a scheme, as the URL would be read once one is put in front.
    let Ok(parsed) = url::Url::parse(url)
        .ok()
        .filter(|u| u.has_host())
        .map_or_else(|| url::Url::parse(&format!("http://{url}")), Ok)
    else {
        return false;
    };
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

#[tokio::test]
async fn no_accepted_spec_panics_when_it_is_used() {
    let context = BuildContext {
        default_timeout: Duration::from_secs(2),
        address_policy: AddressPolicy::default(),
    };
    let (mut accepted, mut fetched) = (0, 0);
    for value in specs() {
        let Ok(spec) = serde_json::from_value::<OriginSpec>(value.clone()) else {
            continue;
        };
        if spec.check().is_err() {
            continue;
        }
        accepted += 1;
        let origin = spec
            .build(&context)
            .unwrap_or_else(|e| panic!("{value}: checked, yet not built: {e}"));
        if !only_loopback(&value) {
            continue;
        }
        fetched += 1;
        let outcome = tokio::spawn(async move {
            match origin.fetch("photos/a.jpg").await {
                Fetch::Found(_) => "found",
                Fetch::NotHere(_) => "not here",
                Fetch::Failed(_) => "failed",
            }
        })
        .await;
        match outcome {
            Ok(result) => assert_ne!(result, "found", "{value}: nothing listens there"),
            Err(e) => panic!("{value}: a request through an accepted spec panicked: {e}"),
        }
    }
    // The sweep is only worth something if it both accepts and refuses.
    assert!(
        accepted > 100 && fetched > 50,
        "accepted {accepted}, fetched {fetched}"
    );
    let refused = [
        "127.0.0.1:9000",
        "localhost:9000",
        "http://",
        "ftp://127.0.0.1:9000",
    ];
    for endpoint in refused {
        let spec: OriginSpec = serde_json::from_value(serde_json::json!({"type": "s3",
            "bucket": "images", "endpoint": endpoint}))
        .unwrap();
        assert!(spec.check().is_err(), "{endpoint} must be refused");
    }
}
