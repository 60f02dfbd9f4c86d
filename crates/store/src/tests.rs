//! What only the SQLite backend can show (secrets sealed in the database file), and the
//! helper the unit tests open a store with. Every public operation is in the conformance suite
//! (`tests/conformance.rs`), on both backends.

use super::*;
use pixelway_origins::OriginSpec;

pub(crate) async fn open_store(dir: &std::path::Path) -> Store {
    let secrets = SecretBox::from_key_file(&dir.join("secrets.key")).unwrap();
    let url = format!("sqlite://{}", dir.join("db.sqlite").display());
    Store::open(&url, secrets).await.unwrap()
}

fn s3_spec(secret: &str) -> OriginSpec {
    toml_like(&format!(
        r#"{{"type":"s3","bucket":"b","endpoint":"http://127.0.0.1:1","access_key_id":"AK","secret_access_key":"{secret}"}}"#
    ))
}

fn toml_like(json: &str) -> OriginSpec {
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    store
        .create_account("demo", "very-private-key", "pub")
        .await
        .unwrap();
    store
        .create_origin("demo", "one", &s3_spec("super-secret-value"))
        .await
        .unwrap();
    let snap = store.snapshot().await.unwrap();
    assert_eq!(snap.origins[0].spec, s3_spec("super-secret-value"));
    drop(store);
    // Nothing in the database files holds the plain secrets.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("super-secret-value"));
        assert!(!text.contains("very-private-key"));
    }
}
