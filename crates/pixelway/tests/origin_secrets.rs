//! A stored origin secret is never sent to a new place (security round 3, finding 6), through
//! the management API as the SDKs call it: an update that leaves a secret out keeps it only when
//! the origin still sends its requests to the same endpoint, bucket or container, region and
//! key id or account; otherwise the secret must be given again, and the answer says so. (GCS
//! takes the same rule: a unit test of `origin_json`, since building a GCS client needs a real
//! service-account key.)

use pixelway_testkit::Pixelway;
use pixelway_testkit::api::Auth;
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_demo_key";

const CONFIG: &str = r#"
[limits]
allowed_origin_networks = ["127.0.0.1/32"]

[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"
"#;

async fn call(server: &Pixelway, method: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    server
        .api(Auth::Basic(KEY), method, path, &body.to_string())
        .await
}

#[tokio::test]
async fn a_stored_secret_is_never_sent_to_a_new_place() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    let origins = [
        (
            json!({"type": "AZURE_BLOB", "name": "azure", "accountName": "acct",
                   "container": "photos", "sasToken": "sv=2024&sig=secret",
                   "endpoint": "http://127.0.0.1:10000/acct"}),
            "endpoint",
            json!("http://127.0.0.1:10001/acct"),
            "sasToken",
        ),
        (
            json!({"type": "S3_COMPATIBLE", "name": "s3", "bucket": "photos",
                   "accessKey": "AKIA", "secretKey": "s3-secret",
                   "endpoint": "http://127.0.0.1:9000"}),
            "bucket",
            json!("other-bucket"),
            "secretKey",
        ),
    ];
    for (created, moved_field, moved_to, secret) in origins {
        let (status, origin) = call(&server, "POST", "/v1/accounts/origins", &created).await;
        assert_eq!(status, StatusCode::CREATED, "{origin}");
        let path = format!("/v1/accounts/origins/{}", origin["id"].as_str().unwrap());
        let mut without_secret = created.clone();
        without_secret.as_object_mut().unwrap().remove(secret);

        // Same place, secret left out: kept (a prefix change is no new destination).
        let mut same_place = without_secret.clone();
        same_place["prefix"] = json!("2026");
        let (status, answer) = call(&server, "PUT", &path, &same_place).await;
        assert_eq!(status, StatusCode::OK, "{secret}: {answer}");

        // A new destination without the secret: refused, naming the secret.
        let mut moved = without_secret.clone();
        moved[moved_field] = moved_to.clone();
        let (status, answer) = call(&server, "PUT", &path, &moved).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{secret}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(secret), "{message}");
        assert!(message.contains("never sent to a new place"), "{message}");

        // With the secret given again, the move is taken.
        let mut moved_with_secret = created.clone();
        moved_with_secret[moved_field] = moved_to;
        let (status, answer) = call(&server, "PUT", &path, &moved_with_secret).await;
        assert_eq!(status, StatusCode::OK, "{secret}: {answer}");
    }
}
