//! `pixelway backup` of a populated node while it serves, then `pixelway restore` into a new
//! data folder on which a new node serves every URL, signed URL, private file, endpoint and key
//! the same, with the API's and the config file's entities still theirs. The backup folder holds
//! no secret in the clear, and a wrong key restores nothing.

use pixelway_route::signature::{NEVER_EXPIRES, sign};
use pixelway_testkit::multipart::Form;
use pixelway_testkit::{Pixelway, WebOrigin, http_client};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");
const HILLS: &[u8] = include_bytes!("../assets/samples/pastel-hills.jpg");
/// 32 bytes of base64, as `openssl rand -base64 32` prints.
const KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";
const WRONG_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn config(web: &WebOrigin) -> String {
    format!(
        r#"
[server]
admin_token = "operator-secret"

[limits]
allowed_origin_networks = ["127.0.0.1/32"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "site"
  type = "web_folder"
  base_url = "{}"

  [[account.endpoint]]
  identifier = "secure"
  origins = ["site"]
  signed_urls_only = true
"#,
        web.base_url
    )
}

async fn upload(server: &Pixelway, name: &str, bytes: &[u8], private: bool) {
    let (content_type, body) = Form::new()
        .text("fileName", name)
        .text("useUniqueFileName", "false")
        .text("isPrivateFile", if private { "true" } else { "false" })
        .file("file", name, bytes)
        .finish();
    let response = http_client()
        .post(server.url("/api/v1/files/upload"))
        .basic_auth("private_acme", Some(""))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// What a node answers to the URLs and API calls a restore must keep: (what, status, body).
async fn answers(server: &Pixelway) -> Vec<(String, u16, Vec<u8>)> {
    let signed = |target: &str| {
        format!(
            "{target}?ik-s={}",
            sign("private_acme", target, NEVER_EXPIRES)
        )
    };
    let mut paths = vec![
        "/acme/public.jpg".to_string(),
        "/acme/tr:w-60/public.jpg".to_string(),
        "/acme/private.jpg".to_string(),
        format!("/acme/{}", signed("private.jpg")),
        "/acme/secure/a.jpg".to_string(),
        format!("/acme/secure/{}", signed("a.jpg")),
        "/acme/api-made/a.jpg".to_string(),
    ];
    paths.push("/acme/no-such.jpg".to_string());
    let mut seen = Vec::new();
    for path in paths {
        let response = http_client().get(server.url(&path)).send().await.unwrap();
        let status = response.status().as_u16();
        seen.push((path, status, response.bytes().await.unwrap().to_vec()));
    }
    for path in ["/v1/accounts/url-endpoints", "/v1/accounts/origins"] {
        let response = http_client()
            .get(server.url(path))
            .basic_auth("private_acme", Some(""))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        // Ids, names, ownership: all kept.
        let json: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        seen.push((path.to_string(), status, json.to_string().into_bytes()));
    }
    let files = http_client()
        .get(server.url("/v1/files?sort=ASC_NAME"))
        .basic_auth("private_acme", Some(""))
        .send()
        .await
        .unwrap();
    let mut listed: Value = serde_json::from_slice(&files.bytes().await.unwrap()).unwrap();
    for file in listed.as_array_mut().unwrap() {
        // URLs carry the host the request came in on (a new port here).
        file.as_object_mut()
            .unwrap()
            .retain(|k, _| !matches!(k.as_str(), "url" | "thumbnail"));
    }
    seen.push(("/v1/files".into(), 200, listed.to_string().into_bytes()));
    seen
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = std::process::Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("PIXELWAY_BACKUP_KEY")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// `pixelway backup` of the node the testkit started in `node_dir` (its `pixelway.toml` and
/// `data/`) to `to`.
fn backup(node_dir: &std::path::Path, to: &str) -> (bool, String) {
    let config = node_dir.join("pixelway.toml");
    let data = node_dir.join("data");
    run(
        &[
            "backup",
            "--config",
            config.to_str().unwrap(),
            "--to",
            to,
            "--key",
            KEY,
        ],
        &[("PIXELWAY_STORAGE__DATA_DIR", data.to_str().unwrap())],
    )
}

/// `pixelway restore` from `from` into `data` with `key`, more arguments and environment.
fn restore(
    from: &str,
    data: &std::path::Path,
    key: &str,
    more: &[&str],
    env: &[(&str, &str)],
) -> (bool, String) {
    let mut args = vec![
        "restore",
        "--from",
        from,
        "--data-dir",
        data.to_str().unwrap(),
        "--key",
        key,
    ];
    args.extend_from_slice(more);
    run(&args, env)
}

/// A node with a public and a private upload, a signed-only endpoint from the file and an
/// endpoint from the API; with its answers.
async fn populated_node(
    web: &WebOrigin,
    config: &str,
    dir: &std::path::Path,
) -> (Pixelway, Vec<(String, u16, Vec<u8>)>) {
    web.serve("/a.jpg", HILLS);
    let server = Pixelway::start_in(BIN, Some(config), dir, &[]);
    upload(&server, "public.jpg", CUPS, false).await;
    upload(&server, "private.jpg", HILLS, true).await;
    let origins = http_client()
        .get(server.url("/v1/accounts/origins"))
        .basic_auth("private_acme", Some(""))
        .send()
        .await
        .unwrap();
    let origins: Value = serde_json::from_slice(&origins.bytes().await.unwrap()).unwrap();
    let site = origins[0]["id"].as_str().unwrap();
    let made = http_client()
        .post(server.url("/v1/accounts/url-endpoints"))
        .basic_auth("private_acme", Some(""))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"description":"the API's","urlPrefix":"api-made","origins":["{site}"]}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let before = answers(&server).await;
    let statuses: Vec<u16> = before.iter().map(|(_, s, _)| *s).collect();
    assert_eq!(
        statuses,
        [200, 200, 401, 200, 401, 200, 200, 404, 200, 200, 200]
    );
    (server, before)
}

/// The restored node's answers are the old one's.
fn assert_same(before: &[(String, u16, Vec<u8>)], after: &[(String, u16, Vec<u8>)]) {
    assert_eq!(before.len(), after.len());
    for ((what, status, body), (_, status_after, body_after)) in before.iter().zip(after) {
        assert_eq!(status, status_after, "{what}");
        assert!(
            body == body_after,
            "{what}: the answer changed:\n{}\n{}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(body_after)
        );
    }
}

#[tokio::test]
async fn a_restored_node_serves_everything_the_same() {
    let web = WebOrigin::start();
    let config = config(&web);
    let old = tempfile::tempdir().unwrap();
    let (server, before) = populated_node(&web, &config, old.path()).await;

    // Backed up while it serves.
    let backups = tempfile::tempdir().unwrap();
    let folder = backups.path().join("nightly");
    let data = old.path().join("data");
    let (ok, out) = backup(old.path(), folder.to_str().unwrap());
    assert!(ok, "{out}");
    assert!(out.contains("2 Media Library files"), "{out}");
    // No secret in the clear: not the account's private key, not the store's secrets key.
    let secrets_key = std::fs::read_to_string(data.join("secrets.key")).unwrap();
    for entry in walk(&folder) {
        let bytes = std::fs::read(&entry).unwrap();
        for secret in ["private_acme", "operator-secret", secrets_key.trim()] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret}",
                entry.display()
            );
        }
    }
    drop(server);
    drop(old);

    // A wrong key restores nothing; the right one everything.
    let new = tempfile::tempdir().unwrap();
    let new_data = new.path().join("data");
    let restored_config = new.path().join("restored.toml");
    let from = folder.to_str().unwrap();
    let out_flag = ["--config-out", restored_config.to_str().unwrap()];
    let (ok, out) = restore(from, &new_data, WRONG_KEY, &out_flag, &[]);
    assert!(!ok && out.contains("does not open"), "{out}");
    assert!(!new_data.exists(), "nothing written");
    let (ok, out) = restore(from, &new_data, KEY, &out_flag, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("serve it with"), "{out}");
    let (ok, out) = restore(from, &new_data, KEY, &out_flag, &[]);
    assert!(
        !ok && out.contains("not empty"),
        "a restore never writes over a node: {out}"
    );
    assert_eq!(std::fs::read_to_string(&restored_config).unwrap(), config);

    let server = Pixelway::start_in(BIN, Some(&config), new.path(), &[]);
    assert_same(&before, &answers(&server).await);
    // The operator's token and the config file's ownership came back too.
    let accounts = http_client()
        .get(server.url("/v1/operator/accounts"))
        .bearer_auth("operator-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), 200);
}

/// The same through a bucket (moto): `--to s3://…` with `[storage.s3]`'s credentials, restored
/// with the new node's (here from the environment).
#[tokio::test]
async fn a_backup_in_a_bucket_restores_the_same() {
    let moto = pixelway_testkit::Moto::shared();
    moto.create_bucket("pixelway-backups").await;
    let web = WebOrigin::start();
    let s3 = format!(
        "[storage.s3]\nendpoint = \"{}\"\nregion = \"us-east-1\"\naccess_key_id = \"testing\"\n\
         secret_access_key = \"testing\"\nallow_http = true\n\n",
        moto.endpoint
    );
    let config = format!("{s3}{}", config(&web));
    let old = tempfile::tempdir().unwrap();
    let (server, before) = populated_node(&web, &config, old.path()).await;
    let to = "s3://pixelway-backups/nodes/acme";
    let (ok, out) = backup(old.path(), to);
    assert!(ok, "{out}");
    drop(server);
    drop(old);

    let new = tempfile::tempdir().unwrap();
    let data = new.path().join("data");
    let (ok, out) = restore(
        to,
        &data,
        KEY,
        &[],
        &[
            ("PIXELWAY_STORAGE__S3__ENDPOINT", moto.endpoint.as_str()),
            ("PIXELWAY_STORAGE__S3__ACCESS_KEY_ID", "testing"),
            ("PIXELWAY_STORAGE__S3__SECRET_ACCESS_KEY", "testing"),
            ("PIXELWAY_STORAGE__S3__ALLOW_HTTP", "true"),
        ],
    );
    assert!(ok, "{out}");
    // No staging folder is left behind.
    let left: Vec<_> = std::fs::read_dir(new.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("data")]);
    let server = Pixelway::start_in(BIN, Some(&config), new.path(), &[]);
    assert_same(&before, &answers(&server).await);
}

/// A node on PostgreSQL: its store goes through pg_dump, and comes back with pg_restore into
/// the new node's empty database (a database that is not empty is refused, unchanged).
#[tokio::test]
async fn a_postgres_node_restores_the_same() {
    let postgres = pixelway_testkit::Postgres::shared();
    let (old_db, new_db) = (postgres.fresh_database(), postgres.fresh_database());
    let web = WebOrigin::start();
    let config = format!("[storage]\ndatabase_url = \"{old_db}\"\n\n{}", config(&web));
    let old = tempfile::tempdir().unwrap();
    let (server, before) = populated_node(&web, &config, old.path()).await;
    let folder = old.path().join("backup");
    let (ok, out) = backup(old.path(), folder.to_str().unwrap());
    assert!(ok, "{out}");
    assert!(folder.join("store.pgdump").exists());
    drop(server);

    let new = tempfile::tempdir().unwrap();
    let data = new.path().join("data");
    let from = folder.to_str().unwrap();
    let into = |database: &str, data: &std::path::Path| {
        restore(
            from,
            data,
            KEY,
            &[],
            &[("PIXELWAY_STORAGE__DATABASE_URL", database)],
        )
    };
    // Into the old node's database, which is not empty: refused, nothing changed there.
    let elsewhere = new.path().join("elsewhere");
    let (ok, out) = into(&old_db, &elsewhere);
    assert!(!ok && out.contains("pg_restore failed"), "{out}");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing written"
    );
    let (ok, out) = into(&new_db, &data);
    assert!(ok, "{out}");
    let config = config.replace(&old_db, &new_db);
    let server = Pixelway::start_in(BIN, Some(&config), new.path(), &[]);
    assert_same(&before, &answers(&server).await);
}

/// A Media Library held in a bucket is backed up too (its objects listed and fetched), and
/// restored into the bucket the new node's config names.
#[tokio::test]
async fn a_media_library_in_a_bucket_is_backed_up_and_restored() {
    let moto = pixelway_testkit::Moto::shared();
    for bucket in ["library-old", "library-new"] {
        moto.create_bucket(bucket).await;
    }
    let web = WebOrigin::start();
    let storage = |bucket: &str| {
        format!(
            "[storage]\nmedia_library = \"s3://{bucket}/lib\"\n\n[storage.s3]\nendpoint = \"{}\"\n\
             region = \"us-east-1\"\naccess_key_id = \"testing\"\nsecret_access_key = \"testing\"\n\
             allow_http = true\n\n",
            moto.endpoint
        )
    };
    let config = format!("{}{}", storage("library-old"), config(&web));
    let old = tempfile::tempdir().unwrap();
    let (server, before) = populated_node(&web, &config, old.path()).await;
    // Shared results beside the accounts' folders are a cache: not backed up.
    moto.put_signed("library-old", "lib/.results/ab/abcdef", b"a result")
        .await;
    let folder = old.path().join("backup");
    let (ok, out) = backup(old.path(), folder.to_str().unwrap());
    assert!(ok && out.contains("2 Media Library files"), "{out}");
    assert!(
        walk(&folder)
            .iter()
            .all(|f| !f.to_string_lossy().contains(".results")),
        "no shared results in the backup"
    );
    drop(server);

    let new = tempfile::tempdir().unwrap();
    let next = config.replace("s3://library-old/lib", "s3://library-new/lib");
    let credentials = new.path().join("credentials.toml");
    std::fs::write(&credentials, &next).unwrap();
    let data = new.path().join("data");
    let more = ["--credentials", credentials.to_str().unwrap()];
    let (ok, out) = restore(folder.to_str().unwrap(), &data, KEY, &more, &[]);
    assert!(ok, "{out}");
    assert!(!data.join("media").exists(), "the files went to the bucket");
    let server = Pixelway::start_in(BIN, Some(&next), new.path(), &[]);
    assert_same(&before, &answers(&server).await);
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
