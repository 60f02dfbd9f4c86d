//! The store's conformance suite: every public store operation, through the public API only,
//! on both backends — SQLite (a temporary file) and PostgreSQL (a throwaway cluster the testkit
//! starts). Each case gets a fresh, empty store. A case that passes on one backend and fails on
//! the other is a seam bug.

use pixelway_origins::OriginSpec;
use pixelway_store::{
    AccountSettings, DeclaredAccount, EndpointFields, EndpointInput, FileChanges, FileList,
    FileRecord, FileSort, ListKind, Listed, SecretBox, SessionRecord, Snapshot, Store, StoreError,
};
use std::future::Future;
use std::pin::Pin;

type Case = fn(Store) -> Pin<Box<dyn Future<Output = ()>>>;

/// Every case, by name.
const CASES: &[(&str, Case)] = &[
    ("accounts", |s| Box::pin(accounts(s))),
    ("origins", |s| Box::pin(origins(s))),
    ("endpoints", |s| Box::pin(endpoints(s))),
    ("named transformations", |s| Box::pin(named(s))),
    ("domains", |s| Box::pin(domains(s))),
    ("snapshots", |s| Box::pin(snapshots(s))),
    ("config apply", |s| Box::pin(config_apply(s))),
    ("files", |s| Box::pin(files(s))),
    ("folders", |s| Box::pin(folders(s))),
    ("listing and search", |s| Box::pin(listing(s))),
    ("purges", |s| Box::pin(purges(s))),
    ("upload tokens and jobs", |s| Box::pin(tokens_and_jobs(s))),
    ("sessions", |s| Box::pin(sessions(s))),
    ("account deletion", |s| Box::pin(account_deletion(s))),
    ("changes", |s| Box::pin(changes(s))),
    ("sign-in failures", |s| Box::pin(sign_in_failures(s))),
];

fn secrets(dir: &std::path::Path) -> SecretBox {
    SecretBox::from_key_file(&dir.join("secrets.key")).unwrap()
}

#[tokio::test]
async fn conformance_on_sqlite() {
    for (name, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url, secrets(dir.path())).await.unwrap();
        eprintln!("sqlite: {name}");
        case(store).await;
    }
}

#[tokio::test]
async fn conformance_on_postgres() {
    let postgres = pixelway_testkit::Postgres::shared();
    for (name, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&postgres.fresh_database(), secrets(dir.path()))
            .await
            .unwrap();
        assert!(store.is_shared());
        eprintln!("postgres: {name}");
        case(store).await;
    }
}

/// A store opened twice on one database migrates once and sees the same data.
#[tokio::test]
async fn reopening_keeps_the_data_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let postgres = pixelway_testkit::Postgres::shared().fresh_database();
    for url in [sqlite, postgres] {
        let store = Store::open(&url, secrets(dir.path())).await.unwrap();
        store.create_account("demo", "priv", "pub").await.unwrap();
        drop(store);
        let again = Store::open(&url, secrets(dir.path())).await.unwrap();
        assert_eq!(again.accounts().await.unwrap().len(), 1, "{url}");
    }
    let refused = Store::open("mysql://x", secrets(dir.path())).await;
    assert!(matches!(refused, Err(StoreError::UnsupportedUrl(_))));
}

fn s3(secret: &str) -> OriginSpec {
    serde_json::from_value(serde_json::json!({
        "type": "s3", "bucket": "b", "endpoint": "http://127.0.0.1:1",
        "access_key_id": "AK", "secret_access_key": secret
    }))
    .unwrap()
}

fn web(base: &str) -> OriginSpec {
    serde_json::from_value(serde_json::json!({"type": "web_folder", "base_url": base})).unwrap()
}

fn file(account: &str, path: &str) -> FileRecord {
    let name = path.rsplit('/').next().unwrap().to_string();
    FileRecord {
        account_id: account.into(),
        path: path.into(),
        name,
        size: 10,
        mime: "image/jpeg".into(),
        sha256: "00".into(),
        file_type: "image".into(),
        format: "jpg".into(),
        width: Some(40),
        height: Some(30),
        ..FileRecord::default()
    }
}

async fn accounts(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    store
        .create_account("demo-2", "priv2", "pub2")
        .await
        .unwrap();
    assert!(matches!(
        store.create_account("demo", "x", "y").await,
        Err(StoreError::Exists { .. })
    ));
    // Unique regardless of case; the error names the account that is there.
    match store.create_account("Demo", "x", "y").await {
        Err(StoreError::Exists { name, .. }) => assert_eq!(name, "demo"),
        other => panic!("Demo beside demo: {other:?}"),
    }
    let all = store.accounts().await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["demo", "demo-2"]
    );
    let matching = store.accounts_matching("demo-", 10).await.unwrap();
    assert_eq!(matching.len(), 1, "{matching:?}");
    assert_eq!(matching[0].id, "demo-2");
    assert!(
        store.accounts_matching("%", 10).await.unwrap().is_empty(),
        "% is literal"
    );
    store
        .rotate_account_keys("demo", "priv-new", "pub-new")
        .await
        .unwrap();
    let snapshot = store.snapshot_of("demo").await.unwrap();
    assert_eq!(snapshot.accounts[0].private_key, "priv-new");
    assert_eq!(snapshot.accounts[0].public_key, "pub-new");
    assert!(matches!(
        store.rotate_account_keys("nobody", "a", "b").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn origins(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    store.create_account("rival", "p", "q").await.unwrap();
    let one = store.create_origin("demo", "one", &s3("s1")).await.unwrap();
    assert_eq!(one.spec, s3("s1"), "secrets sealed and restored");
    assert!(matches!(
        store.create_origin("demo", "one", &s3("s2")).await,
        Err(StoreError::Exists { .. })
    ));
    let updated = store
        .update_origin("demo", &one.id, "renamed", &web("http://127.0.0.1:9"))
        .await
        .unwrap();
    assert_eq!(updated.name, "renamed");
    assert_eq!(
        store.origin("demo", &one.id).await.unwrap().spec,
        web("http://127.0.0.1:9")
    );
    assert!(
        matches!(
            store.origin("rival", &one.id).await,
            Err(StoreError::NotFound { .. })
        ),
        "another account's origin is not found"
    );
    assert_eq!(store.origins_of("demo").await.unwrap().len(), 1);
    let fields = EndpointFields {
        identifier: "shop".into(),
        origin_ids: vec![one.id.clone()],
        ..Default::default()
    };
    store.create_endpoint("demo", &fields).await.unwrap();
    assert!(matches!(
        store.delete_origin("demo", &one.id).await,
        Err(StoreError::InUse { .. })
    ));
    let two = store.create_origin("demo", "two", &s3("s")).await.unwrap();
    store.delete_origin("demo", &two.id).await.unwrap();
    assert!(store.origin("demo", &two.id).await.is_err());
}

async fn endpoints(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    let a = store.create_origin("demo", "a", &s3("x")).await.unwrap();
    let b = store.create_origin("demo", "b", &s3("x")).await.unwrap();
    let fields = EndpointFields {
        identifier: "product-images".into(),
        description: "shop".into(),
        default_image: Some("defaults/missing.jpg".into()),
        signed_urls_only: true,
        named_transformations_only: false,
        origin_ids: vec![b.id.clone(), a.id.clone()],
    };
    let created = store.create_endpoint("demo", &fields).await.unwrap();
    assert_eq!(created.origin_ids, [b.id.clone(), a.id.clone()]);
    assert!(created.signed_urls_only);
    assert!(matches!(
        store.create_endpoint("demo", &fields).await,
        Err(StoreError::Exists { .. })
    ));
    let reordered = EndpointFields {
        origin_ids: vec![a.id.clone(), b.id.clone()],
        signed_urls_only: false,
        ..fields.clone()
    };
    let updated = store
        .update_endpoint("demo", &created.id, &reordered)
        .await
        .unwrap();
    assert_eq!(updated.origin_ids, [a.id.clone(), b.id.clone()]);
    assert!(!updated.signed_urls_only);
    // What a write returns is what a read gives.
    assert_eq!(store.endpoint("demo", &created.id).await.unwrap(), updated);
    let other = EndpointFields {
        identifier: "other".into(),
        ..Default::default()
    };
    let other = store.create_endpoint("demo", &other).await.unwrap();
    assert_eq!(store.endpoint("demo", &other.id).await.unwrap(), other);
    assert!(
        matches!(
            store.update_endpoint("demo", &other.id, &fields).await,
            Err(StoreError::Exists { .. })
        ),
        "a prefix the account uses"
    );
    assert!(matches!(
        store.update_endpoint("demo", "no-such-id", &fields).await,
        Err(StoreError::NotFound { .. })
    ));
    store.delete_endpoint("demo", &other.id).await.unwrap();
    let default = store.default_endpoint_id("demo").await.unwrap();
    let prefixed = EndpointFields {
        identifier: "x".into(),
        ..Default::default()
    };
    assert!(matches!(
        store.update_endpoint("demo", &default, &prefixed).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.delete_endpoint("demo", &default).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.endpoints_of("demo").await.unwrap().len(), 2);
    store.delete_endpoint("demo", &created.id).await.unwrap();
    assert!(store.endpoint("demo", &created.id).await.is_err());
    let missing = EndpointFields {
        identifier: "y".into(),
        origin_ids: vec!["nope".into()],
        ..Default::default()
    };
    assert!(matches!(
        store.create_endpoint("demo", &missing).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn named(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    let made = store
        .save_named_transformation("demo", None, "thumb", "w-100", true)
        .await
        .unwrap();
    assert!(made.enabled);
    assert!(matches!(
        store
            .save_named_transformation("demo", None, "thumb", "w-200", true)
            .await,
        Err(StoreError::Exists { .. })
    ));
    let changed = store
        .save_named_transformation("demo", Some(&made.id), "thumb", "w-300", false)
        .await
        .unwrap();
    assert_eq!(
        (changed.transformation.as_str(), changed.enabled),
        ("w-300", false)
    );
    assert_eq!(
        store
            .named_transformation("demo", &made.id)
            .await
            .unwrap()
            .transformation,
        "w-300"
    );
    assert_eq!(
        store.named_transformations_of("demo").await.unwrap().len(),
        1
    );
    let snapshot = store.snapshot_of("demo").await.unwrap();
    assert_eq!(snapshot.named_transformations.len(), 1);
    store
        .delete_named_transformation("demo", &made.id)
        .await
        .unwrap();
    assert!(
        store
            .named_transformations_of("demo")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn domains(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    store.create_account("rival", "p", "q").await.unwrap();
    let fields = EndpointFields {
        identifier: "shop".into(),
        ..Default::default()
    };
    store.create_endpoint("demo", &fields).await.unwrap();
    store
        .map_domain("Products.Example.com", "demo", Some("shop"))
        .await
        .unwrap();
    store
        .map_domain("img.example.com", "demo", None)
        .await
        .unwrap();
    let (record, managed) = store.domain("products.example.com").await.unwrap().unwrap();
    assert_eq!(record.endpoint_identifier.as_deref(), Some("shop"));
    assert!(managed.is_none());
    assert_eq!(store.domains().await.unwrap().len(), 2);
    // Moved to another account.
    store
        .map_domain("img.example.com", "rival", None)
        .await
        .unwrap();
    assert_eq!(
        store
            .domain("img.example.com")
            .await
            .unwrap()
            .unwrap()
            .0
            .account_id,
        "rival"
    );
    assert!(matches!(
        store
            .map_domain("x.example.com", "demo", Some("nope"))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    store.unmap_domain("img.example.com").await.unwrap();
    assert!(store.domain("img.example.com").await.unwrap().is_none());
    assert!(matches!(
        store.unmap_domain("img.example.com").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn snapshots(store: Store) {
    for id in ["a", "b"] {
        store
            .create_account(id, &format!("priv_{id}"), &format!("pub_{id}"))
            .await
            .unwrap();
    }
    let origin = store
        .create_origin("a", "o", &web("http://127.0.0.1:9"))
        .await
        .unwrap();
    let fields = EndpointFields {
        identifier: "shop".into(),
        origin_ids: vec![origin.id.clone()],
        ..Default::default()
    };
    store.create_endpoint("a", &fields).await.unwrap();
    store
        .map_domain("a.example.com", "a", Some("shop"))
        .await
        .unwrap();
    let private = FileRecord {
        is_private: true,
        ..file("b", "secret.jpg")
    };
    store.upsert_file(&private).await.unwrap();
    let all = store.snapshot().await.unwrap();
    assert_eq!(all.accounts.len(), 2);
    assert_eq!(all.endpoints.len(), 3, "two defaults and shop");
    let shop = all
        .endpoints
        .iter()
        .find(|e| e.identifier == "shop")
        .unwrap();
    assert_eq!(shop.origin_ids, std::slice::from_ref(&origin.id));
    assert_eq!(all.accounts_with_private_files, ["b"]);
    let only_a = store.snapshot_of("a").await.unwrap();
    assert_eq!(only_a.accounts.len(), 1);
    assert_eq!(only_a.origins.len(), 1);
    assert_eq!(only_a.endpoints.len(), 2);
    assert_eq!(only_a.domains.len(), 1);
    assert!(only_a.accounts_with_private_files.is_empty());
    let none = store.snapshot_of("nobody").await.unwrap();
    assert!(none.accounts.is_empty() && none.endpoints.is_empty());

    // Read in parts (as a start with many accounts does), the snapshot is the same.
    for id in ["c", "d", "e", "f"] {
        store
            .create_account(id, &format!("priv_{id}"), &format!("pub_{id}"))
            .await
            .unwrap();
        store
            .save_named_transformation(id, None, "thumb", "w-100", true)
            .await
            .unwrap();
        store
            .map_domain(&format!("{id}.example.com"), id, None)
            .await
            .unwrap();
    }
    store
        .upsert_file(&FileRecord {
            is_private: true,
            ..file("e", "secret.jpg")
        })
        .await
        .unwrap();
    let whole = store.snapshot().await.unwrap();
    for count in [1, 2, 3, 5, 6, 50] {
        let parts = store.snapshot_in_parts(count).await.unwrap();
        assert_eq!(parts.len(), count.min(6), "{count} parts of six accounts");
        let mut read = Vec::new();
        for part in &parts {
            read.push(store.snapshot_part(part).await.unwrap());
        }
        let ids = |s: &Snapshot| s.accounts.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
        let joined: Vec<String> = read.iter().flat_map(ids).collect();
        assert_eq!(
            joined,
            ids(&whole),
            "every account once, in order ({count} parts)"
        );
        let sorted = |mut items: Vec<String>| {
            items.sort();
            items
        };
        let all = |each: fn(&Snapshot) -> Vec<String>| sorted(read.iter().flat_map(each).collect());
        let endpoints = |s: &Snapshot| s.endpoints.iter().map(|e| format!("{e:?}")).collect();
        let origins = |s: &Snapshot| s.origins.iter().map(|o| format!("{o:?}")).collect();
        let domains = |s: &Snapshot| s.domains.iter().map(|d| format!("{d:?}")).collect();
        let named = |s: &Snapshot| {
            s.named_transformations
                .iter()
                .map(|n| format!("{n:?}"))
                .collect()
        };
        let private = |s: &Snapshot| s.accounts_with_private_files.clone();
        for (what, each) in [
            ("endpoints", endpoints as fn(&Snapshot) -> Vec<String>),
            ("origins", origins),
            ("domains", domains),
            ("named transformations", named),
            ("private files", private),
        ] {
            assert_eq!(all(each), sorted(each(&whole)), "{what} in {count} parts");
        }
    }
}

fn declared<'a>(id: &'a str, origins: &'a [(&'a str, OriginSpec)]) -> DeclaredAccount<'a> {
    let key = format!("[[account]] id = {id:?}");
    DeclaredAccount {
        id,
        private_key: "priv",
        public_key: "pub",
        settings: AccountSettings::default(),
        origins: origins
            .iter()
            .map(|(name, spec)| (*name, spec, format!("{key} origin {name}")))
            .collect(),
        endpoints: vec![(
            EndpointInput {
                identifier: "shop".into(),
                origin_names: origins.iter().map(|(n, _)| n.to_string()).collect(),
                ..Default::default()
            },
            format!("{key} endpoint shop"),
        )],
        named_transformations: vec![("thumb", "w-100", format!("{key} named thumb"))],
        key,
    }
}

async fn config_apply(store: Store) {
    assert_eq!(store.applied_fingerprint().await.unwrap(), None);
    let origins = [("site", web("http://127.0.0.1:9"))];
    let mut apply = store.begin_config_apply().await.unwrap();
    apply
        .accounts(&[declared("one", &origins), declared("two", &origins)])
        .await
        .unwrap();
    apply
        .domain(
            "one.example.com",
            "one",
            Some("shop"),
            "[[custom_domain]] one",
        )
        .await
        .unwrap();
    assert_eq!(
        apply.finish("first").await.unwrap(),
        pixelway_store::Applied::default()
    );
    assert_eq!(
        store.applied_fingerprint().await.unwrap().as_deref(),
        Some("first")
    );
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.accounts.len(), 2);
    assert_eq!(snapshot.domains.len(), 1);
    // Managed entities are refused to the API.
    let origin = store.origins_of("one").await.unwrap().remove(0);
    assert!(matches!(
        store.delete_origin("one", &origin.id).await,
        Err(StoreError::Managed { .. })
    ));
    assert!(
        store
            .domain("one.example.com")
            .await
            .unwrap()
            .unwrap()
            .1
            .is_some()
    );
    // The next apply no longer declares "two" nor the domain: both removed. It declares
    // "three", which the API made: taken over. A preview says so and changes nothing.
    store.create_account("three", "k3", "p3").await.unwrap();
    let next = [declared("one", &origins), declared("three", &origins)];
    let mut preview = store.begin_config_apply().await.unwrap();
    preview.accounts(&next).await.unwrap();
    let previewed = preview.preview().await.unwrap();
    assert!(previewed.removed.len() >= 2, "{previewed:?}");
    assert!(
        previewed.taken_over.len() == 1 && previewed.taken_over[0].contains("account \"three\""),
        "{previewed:?}"
    );
    assert_eq!(store.snapshot().await.unwrap().accounts.len(), 3);
    let managed = |accounts: Vec<pixelway_store::AccountSummary>| {
        accounts
            .into_iter()
            .find(|a| a.id == "three")
            .unwrap()
            .managed_by
    };
    assert!(managed(store.accounts().await.unwrap()).is_none());
    let mut apply = store.begin_config_apply().await.unwrap();
    apply.accounts(&next).await.unwrap();
    let applied = apply.finish("second").await.unwrap();
    assert_eq!(applied, previewed);
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.accounts.len(), 2);
    assert!(snapshot.domains.is_empty());
    assert!(managed(store.accounts().await.unwrap()).is_some());
}

async fn files(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    store.create_account("rival", "p", "q").await.unwrap();
    let stored = store
        .upsert_file(&FileRecord {
            tags: vec!["sale".into()],
            ..file("demo", "shoes/red.jpg")
        })
        .await
        .unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.tags, ["sale"]);
    let replaced = store
        .upsert_file(&file("demo", "shoes/red.jpg"))
        .await
        .unwrap();
    assert_eq!(
        (replaced.id.as_str(), replaced.version),
        (stored.id.as_str(), 2)
    );
    assert_eq!(
        store
            .file_by_path("demo", "shoes/red.jpg")
            .await
            .unwrap()
            .unwrap()
            .id,
        stored.id
    );
    assert!(
        store
            .file_by_path("rival", "shoes/red.jpg")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.file_by_id("rival", &stored.id).await.is_err());
    let mut metadata = serde_json::Map::new();
    metadata.insert("colour".into(), serde_json::json!("red"));
    let changes = FileChanges {
        tags: Some(vec!["new".into()]),
        custom_metadata: Some(metadata.clone()),
        description: Some("red shoes".into()),
        custom_coordinates: Some(Some("1,2,3,4".into())),
    };
    let updated = store
        .update_file("demo", &stored.id, &changes)
        .await
        .unwrap();
    assert_eq!(updated.tags, ["new"]);
    assert_eq!(updated.custom_metadata, metadata);
    assert_eq!(updated.custom_coordinates.as_deref(), Some("1,2,3,4"));
    let ids = vec![stored.id.clone()];
    let retagged = store
        .retag_files("demo", &ids, &["a".into(), "b".into()], &["new".into()])
        .await
        .unwrap();
    assert_eq!(retagged, ids);
    let mut tags = store.file_by_id("demo", &stored.id).await.unwrap().tags;
    tags.sort();
    assert_eq!(tags, ["a", "b"]);
    assert!(
        !store
            .is_private_file("demo", "shoes/red.jpg")
            .await
            .unwrap()
    );
    store
        .upsert_file(&FileRecord {
            is_private: true,
            ..file("demo", "private.jpg")
        })
        .await
        .unwrap();
    assert!(store.is_private_file("demo", "private.jpg").await.unwrap());
    let moved = store
        .move_file("demo", &stored.id, "boots/red.jpg")
        .await
        .unwrap();
    assert_eq!(moved.path, "boots/red.jpg");
    assert!(
        store
            .file_by_path("demo", "shoes/red.jpg")
            .await
            .unwrap()
            .is_none()
    );
    let deleted = store.delete_files("demo", &ids).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert!(store.delete_files("rival", &ids).await.unwrap().is_empty());
}

async fn folders(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    store.create_folder("demo", "/a/b/").await.unwrap();
    assert!(
        store.folder_exists("demo", "/a/").await.unwrap(),
        "parents too"
    );
    assert!(store.folder_exists("demo", "/a/b/").await.unwrap());
    store.upsert_file(&file("demo", "a/b/c.jpg")).await.unwrap();
    store.upsert_file(&file("demo", "a/d.jpg")).await.unwrap();
    store.upsert_file(&file("demo", "ab.jpg")).await.unwrap();
    let under = store.files_under("demo", "/a/").await.unwrap();
    assert_eq!(under.len(), 2, "{under:?}");
    assert_eq!(store.folders_under("demo", "/a/").await.unwrap(), ["/a/b/"]);
    let deleted = store.delete_folder("demo", "/a/").await.unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(!store.folder_exists("demo", "/a/").await.unwrap());
    assert!(
        store
            .file_by_path("demo", "ab.jpg")
            .await
            .unwrap()
            .is_some()
    );
}

async fn listing(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    for (path, size, tag) in [
        ("red.jpg", 10, "sale"),
        ("Red-2.jpg", 20, "new"),
        ("blue.png", 30, "sale"),
    ] {
        store
            .upsert_file(&FileRecord {
                size,
                tags: vec![tag.into()],
                ..file("demo", path)
            })
            .await
            .unwrap();
    }
    store.create_folder("demo", "/docs/").await.unwrap();
    let list = |search: Option<&str>, kind: ListKind, sort: &str| FileList {
        folder: None,
        search: search.map(str::to_string),
        file_type: None,
        kind,
        sort: FileSort::parse(sort).unwrap(),
        skip: 0,
        limit: 100,
    };
    let names = |listed: Vec<Listed>| -> Vec<String> {
        listed
            .into_iter()
            .map(|l| match l {
                Listed::File(f) => f.name,
                Listed::Folder(f) => format!("{}/", f.name),
            })
            .collect()
    };
    let by_size = store
        .list_files("demo", &list(None, ListKind::Files, "DESC_SIZE"))
        .await
        .unwrap();
    assert_eq!(names(by_size), ["blue.png", "Red-2.jpg", "red.jpg"]);
    let begins = store
        .list_files(
            "demo",
            &list(Some(r#"name : "red""#), ListKind::Files, "ASC_NAME"),
        )
        .await
        .unwrap();
    assert_eq!(names(begins), ["red.jpg"], "`:` is case-sensitive");
    let tagged = store
        .list_files(
            "demo",
            &list(
                Some(r#"tags IN ["sale"] AND size > 15"#),
                ListKind::Files,
                "ASC_NAME",
            ),
        )
        .await
        .unwrap();
    assert_eq!(names(tagged), ["blue.png"]);
    let everything = store
        .list_files("demo", &list(None, ListKind::All, "ASC_NAME"))
        .await
        .unwrap();
    assert_eq!(everything.len(), 4, "three files and a folder");
    let paged = FileList {
        skip: 1,
        limit: 1,
        ..list(None, ListKind::Files, "ASC_SIZE")
    };
    assert_eq!(
        names(store.list_files("demo", &paged).await.unwrap()),
        ["Red-2.jpg"]
    );
    assert!(matches!(
        store
            .list_files(
                "demo",
                &list(Some("colour = red"), ListKind::Files, "ASC_NAME")
            )
            .await,
        Err(StoreError::Search(_))
    ));
}

async fn purges(store: Store) {
    for id in ["acme", "rival"] {
        store
            .create_account(id, &format!("priv_{id}"), &format!("pub_{id}"))
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for at in [100, 200, 300] {
        ids.push(
            store
                .record_purge("acme", "https://x/acme/a.jpg", "a.jpg", false, at)
                .await
                .unwrap(),
        );
    }
    store
        .record_purge("acme", "https://x/acme/b/*", "b/", true, 150)
        .await
        .unwrap();
    store
        .record_purge("rival", "https://x/rival/a.jpg", "a.jpg", false, 120)
        .await
        .unwrap();
    assert_eq!(
        store.purge_request("acme", &ids[0]).await.unwrap().status,
        "Completed"
    );
    assert!(store.purge_request("rival", &ids[0]).await.is_err());
    let mut purges = store.purges().await.unwrap();
    purges.sort();
    assert_eq!(
        purges,
        [
            ("acme".to_string(), "a.jpg".to_string(), false, 300),
            ("acme".to_string(), "b/".to_string(), true, 150),
            ("rival".to_string(), "a.jpg".to_string(), false, 120),
        ]
    );
    store.collapse_purges("acme", 300).await.unwrap();
    let mut purges = store.purges().await.unwrap();
    purges.sort();
    assert_eq!(
        purges,
        [
            ("acme".to_string(), String::new(), true, 300),
            ("rival".to_string(), "a.jpg".to_string(), false, 120),
        ]
    );
}

async fn tokens_and_jobs(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    let expire = 4_000_000_000;
    assert!(store.use_upload_token("demo", "tok", expire).await.unwrap());
    assert!(
        !store.use_upload_token("demo", "tok", expire).await.unwrap(),
        "once"
    );
    let job = store.record_job("demo", "COPY_FOLDER").await.unwrap();
    let (kind, status) = store.job("demo", &job).await.unwrap();
    assert_eq!(
        (kind.as_str(), status.as_str()),
        ("COPY_FOLDER", "Completed")
    );
    assert!(store.job("other", &job).await.is_err());
}

async fn sessions(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    let session = SessionRecord {
        account_id: Some("demo".into()),
        csrf_token: "csrf".into(),
        key_fingerprint: "fp".into(),
        expires_at: 4_000_000_000,
    };
    store.create_session("hash", &session).await.unwrap();
    let operator = SessionRecord {
        account_id: None,
        ..session.clone()
    };
    store.create_session("operator", &operator).await.unwrap();
    assert_eq!(store.session("hash").await.unwrap(), Some(session));
    assert_eq!(
        store.session("operator").await.unwrap().unwrap().account_id,
        None
    );
    let expired = SessionRecord {
        account_id: Some("demo".into()),
        csrf_token: "c".into(),
        key_fingerprint: "f".into(),
        expires_at: 1,
    };
    store.create_session("old", &expired).await.unwrap();
    assert_eq!(store.session("old").await.unwrap(), None, "expired");
    store.delete_session("hash").await.unwrap();
    assert_eq!(store.session("hash").await.unwrap(), None);
}

async fn account_deletion(store: Store) {
    store.create_account("demo", "priv", "pub").await.unwrap();
    let origin = store.create_origin("demo", "o", &s3("x")).await.unwrap();
    let fields = EndpointFields {
        identifier: "shop".into(),
        origin_ids: vec![origin.id],
        ..Default::default()
    };
    store.create_endpoint("demo", &fields).await.unwrap();
    store
        .map_domain("demo.example.com", "demo", None)
        .await
        .unwrap();
    store.upsert_file(&file("demo", "a.jpg")).await.unwrap();
    store
        .save_named_transformation("demo", None, "thumb", "w-1", true)
        .await
        .unwrap();
    store.delete_account("demo").await.unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert!(snapshot.accounts.is_empty() && snapshot.origins.is_empty());
    assert!(snapshot.endpoints.is_empty() && snapshot.domains.is_empty());
    assert!(store.file_by_path("demo", "a.jpg").await.unwrap().is_none());
    assert!(matches!(
        store.delete_account("demo").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn changes(store: Store) {
    assert_eq!(store.last_change_id().await.unwrap(), 0);
    let mut listener = store.listen_for_changes().await.unwrap();
    assert_eq!(
        listener.is_some(),
        store.is_shared(),
        "only PostgreSQL announces"
    );
    let first = store
        .record_change("node-a", "demo", "account", "")
        .await
        .unwrap();
    let second = store
        .record_change("node-b", "demo", "file", "shoes/red.jpg")
        .await
        .unwrap();
    assert!(second > first);
    if let Some(listener) = &mut listener {
        for expected in [first, second] {
            let heard = tokio::time::timeout(std::time::Duration::from_secs(5), listener.next())
                .await
                .expect("announced within 5 s")
                .unwrap();
            assert_eq!(heard, pixelway_store::Heard::Change(expected));
        }
    }
    let since = store.changes_since(first, 10).await.unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(
        (
            since[0].node.as_str(),
            since[0].kind.as_str(),
            since[0].subject.as_str()
        ),
        ("node-b", "file", "shoes/red.jpg")
    );
    assert_eq!(store.changes_since(0, 1).await.unwrap()[0].id, first);
    assert_eq!(store.last_change_id().await.unwrap(), second);
    assert_eq!(store.prune_changes(i64::MAX).await.unwrap(), 2);
    assert!(store.changes_since(0, 10).await.unwrap().is_empty());
}

async fn sign_in_failures(store: Store) {
    let none = store
        .sign_in_failures("v4:10.0.0.1", "demo", 0, 0)
        .await
        .unwrap();
    assert_eq!(none, pixelway_store::SignInFailures::default());
    for (account, at) in [("demo", 100), ("demo", 150), ("other", 160), ("demo", 10)] {
        store
            .record_sign_in_failure("v4:10.0.0.1", account, at)
            .await
            .unwrap();
    }
    store
        .record_sign_in_failure("v4:10.0.0.2", "demo", 170)
        .await
        .unwrap();
    let seen = store
        .sign_in_failures("v4:10.0.0.1", "demo", 50, 20)
        .await
        .unwrap();
    assert_eq!(
        seen,
        pixelway_store::SignInFailures {
            pair: 2,
            pair_first: Some(100),
            network: 3,
            network_last: Some(160),
        }
    );
    store
        .clear_sign_in_failures("v4:10.0.0.1", "demo")
        .await
        .unwrap();
    let cleared = store
        .sign_in_failures("v4:10.0.0.1", "demo", 0, 0)
        .await
        .unwrap();
    assert_eq!(
        (cleared.pair, cleared.network),
        (0, 1),
        "the other account's stays"
    );
    store.prune_sign_in_failures(1000).await.unwrap();
    let pruned = store
        .sign_in_failures("v4:10.0.0.2", "demo", 0, 0)
        .await
        .unwrap();
    assert_eq!(pruned.network, 0);
}
