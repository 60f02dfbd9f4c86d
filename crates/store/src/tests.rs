//! Store behaviour against a real SQLite file.

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
async fn accounts_get_a_default_endpoint_and_first_origin_joins_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    store
        .upsert_account("demo", "priv", "pub", &Default::default())
        .await
        .unwrap();
    let first = store
        .upsert_origin("demo", "one", &s3_spec("s1"))
        .await
        .unwrap();
    store
        .upsert_origin("demo", "two", &s3_spec("s2"))
        .await
        .unwrap();
    let snap = store.snapshot().await.unwrap();
    let default = snap
        .endpoints
        .iter()
        .find(|e| e.identifier.is_empty())
        .unwrap();
    assert_eq!(default.origin_ids, vec![first]);
    assert_eq!(snap.accounts[0].private_key, "priv");
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    store
        .upsert_account("demo", "very-private-key", "pub", &Default::default())
        .await
        .unwrap();
    store
        .upsert_origin("demo", "one", &s3_spec("super-secret-value"))
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

#[tokio::test]
async fn endpoints_keep_origin_order_and_domains_map() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    store
        .upsert_account("demo", "p", "q", &Default::default())
        .await
        .unwrap();
    let a = store
        .upsert_origin("demo", "a", &s3_spec("x"))
        .await
        .unwrap();
    let b = store
        .upsert_origin("demo", "b", &s3_spec("x"))
        .await
        .unwrap();
    let input = EndpointInput {
        identifier: "product-images".into(),
        origin_names: vec!["b".into(), "a".into()],
        default_image: Some("defaults/missing.jpg".into()),
        ..Default::default()
    };
    store.upsert_endpoint("demo", &input).await.unwrap();
    // Applying the same declaration twice changes nothing.
    store.upsert_endpoint("demo", &input).await.unwrap();
    store
        .upsert_domain("Products.Example.com", "demo", Some("product-images"))
        .await
        .unwrap();
    store
        .upsert_domain("images.example.com", "demo", None)
        .await
        .unwrap();
    let snap = store.snapshot().await.unwrap();
    let ep = snap
        .endpoints
        .iter()
        .find(|e| e.identifier == "product-images")
        .unwrap();
    assert_eq!(ep.origin_ids, vec![b, a]);
    assert_eq!(snap.endpoints.len(), 2);
    assert_eq!(snap.domains.len(), 2);
    assert_eq!(snap.domains[1].host, "products.example.com");
    assert_eq!(
        snap.domains[1].endpoint_identifier.as_deref(),
        Some("product-images")
    );
    let missing = EndpointInput {
        identifier: "x".into(),
        origin_names: vec!["nope".into()],
        ..Default::default()
    };
    assert!(matches!(
        store.upsert_endpoint("demo", &missing).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// The store applies the shared name rules itself, whichever surface writes: nothing invalid is
/// written, and the error names the field.
#[tokio::test]
async fn writes_refuse_invalid_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    let err = store
        .upsert_account("api", "priv", "pub", &Default::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(i) if i.field == "account id"),
        "{err}"
    );
    store
        .upsert_account("demo", "priv", "pub", &Default::default())
        .await
        .unwrap();
    let err = store
        .upsert_origin("demo", "no/slash", &s3_spec("s"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("origin name"), "{err}");
    let input = EndpointInput {
        identifier: "tr:w-100".into(),
        description: String::new(),
        default_image: None,
        signed_urls_only: false,
        named_transformations_only: false,
        origin_names: Vec::new(),
    };
    let err = store.upsert_endpoint("demo", &input).await.unwrap_err();
    assert!(err.to_string().contains("endpoint identifier"), "{err}");
    let err = store
        .upsert_named_transformation("demo", "a,b", "w-1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("named transformation"), "{err}");
    let err = store
        .upsert_domain("img.test:8080", "demo", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("custom domain"), "{err}");
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.accounts.len(), 1);
    assert!(snapshot.origins.is_empty() && snapshot.domains.is_empty());
    assert_eq!(snapshot.endpoints.len(), 1, "only the default endpoint");
}

#[tokio::test]
async fn purges_are_read_once_per_path_and_collapse_into_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    for id in ["acme", "rival"] {
        store
            .upsert_account(
                id,
                &format!("priv_{id}"),
                &format!("pub_{id}"),
                &Default::default(),
            )
            .await
            .unwrap();
    }
    for at in [100, 200, 300] {
        store
            .record_purge("acme", "https://x/acme/a.jpg", "a.jpg", false, at)
            .await
            .unwrap();
    }
    store
        .record_purge("acme", "https://x/acme/b/*", "b/", true, 150)
        .await
        .unwrap();
    store
        .record_purge("rival", "https://x/rival/a.jpg", "a.jpg", false, 120)
        .await
        .unwrap();
    let purges = store.purges().await.unwrap();
    assert_eq!(
        purges,
        vec![
            ("rival".to_string(), "a.jpg".to_string(), false, 120),
            ("acme".to_string(), "b/".to_string(), true, 150),
            ("acme".to_string(), "a.jpg".to_string(), false, 300),
        ]
    );
    store.collapse_purges("acme", 300).await.unwrap();
    let purges = store.purges().await.unwrap();
    assert_eq!(
        purges,
        vec![
            ("rival".to_string(), "a.jpg".to_string(), false, 120),
            ("acme".to_string(), String::new(), true, 300),
        ]
    );
}
