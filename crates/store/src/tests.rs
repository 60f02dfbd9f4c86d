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
async fn accounts_get_a_default_endpoint_and_origins_join_endpoints_only_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    store.create_account("demo", "priv", "pub").await.unwrap();
    let first = store
        .create_origin("demo", "one", &s3_spec("s1"))
        .await
        .unwrap();
    store
        .create_origin("demo", "two", &s3_spec("s2"))
        .await
        .unwrap();
    let snap = store.snapshot().await.unwrap();
    let default = snap
        .endpoints
        .iter()
        .find(|e| e.identifier.is_empty())
        .unwrap();
    assert!(default.origin_ids.is_empty(), "{:?}", default.origin_ids);
    assert_eq!(snap.accounts[0].private_key, "priv");
    assert!(matches!(
        store.create_origin("demo", "one", &s3_spec("s3")).await,
        Err(StoreError::Exists { .. })
    ));
    let default_id = store.default_endpoint_id("demo").await.unwrap();
    let joined = EndpointFields {
        origin_ids: vec![first.id.clone()],
        ..Default::default()
    };
    let default = store
        .update_endpoint("demo", &default_id, &joined)
        .await
        .unwrap();
    assert_eq!(default.origin_ids, vec![first.id]);
    assert!(matches!(
        store.create_account("demo", "p2", "q2").await,
        Err(StoreError::Exists { .. })
    ));
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

#[tokio::test]
async fn endpoints_keep_origin_order_and_domains_map() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    store.create_account("demo", "p", "q").await.unwrap();
    let a = store
        .create_origin("demo", "a", &s3_spec("x"))
        .await
        .unwrap();
    let b = store
        .create_origin("demo", "b", &s3_spec("x"))
        .await
        .unwrap();
    let fields = EndpointFields {
        identifier: "product-images".into(),
        origin_ids: vec![b.id.clone(), a.id.clone()],
        default_image: Some("defaults/missing.jpg".into()),
        ..Default::default()
    };
    let created = store.create_endpoint("demo", &fields).await.unwrap();
    assert_eq!(created.origin_ids, vec![b.id.clone(), a.id.clone()]);
    // Reordered by an update.
    let reordered = EndpointFields {
        origin_ids: vec![a.id.clone(), b.id.clone()],
        ..fields.clone()
    };
    store
        .update_endpoint("demo", &created.id, &reordered)
        .await
        .unwrap();
    store
        .map_domain("Products.Example.com", "demo", Some("product-images"))
        .await
        .unwrap();
    store
        .map_domain("images.example.com", "demo", None)
        .await
        .unwrap();
    let snap = store.snapshot().await.unwrap();
    let ep = snap
        .endpoints
        .iter()
        .find(|e| e.identifier == "product-images")
        .unwrap();
    assert_eq!(ep.origin_ids, vec![a.id.clone(), b.id]);
    assert_eq!(snap.endpoints.len(), 2);
    assert_eq!(snap.domains.len(), 2);
    assert_eq!(snap.domains[1].host, "products.example.com");
    assert_eq!(
        snap.domains[1].endpoint_identifier.as_deref(),
        Some("product-images")
    );
    let missing = EndpointFields {
        identifier: "x".into(),
        origin_ids: vec!["nope".into()],
        ..Default::default()
    };
    assert!(matches!(
        store.create_endpoint("demo", &missing).await,
        Err(StoreError::NotFound { .. })
    ));
    store.create_account("rival", "p3", "q3").await.unwrap();
    let stolen = EndpointFields {
        identifier: "theirs".into(),
        origin_ids: vec![a.id],
        ..Default::default()
    };
    assert!(
        matches!(
            store.create_endpoint("rival", &stolen).await,
            Err(StoreError::NotFound { .. })
        ),
        "another account's origin is not found"
    );
}

#[tokio::test]
async fn purges_are_read_once_per_path_and_collapse_into_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    for id in ["acme", "rival"] {
        store
            .create_account(id, &format!("priv_{id}"), &format!("pub_{id}"))
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
