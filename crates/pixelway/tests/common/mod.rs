//! Helpers shared by this crate's integration tests that are not about starting servers (those
//! live in `pixelway_testkit`).

use pixelway_store::{FileRecord, SecretBox, Store};
use pixelway_testkit::Pixelway;

/// Writes `bytes` into `account`'s Media Library at `path` and records the file as private in
/// the database, as the upload API does with `isPrivateFile`. The server must be stopped (the
/// catalog is read at start-up); start it again in the same data directory afterwards.
pub async fn add_private_file(server: &Pixelway, account: &str, path: &str, bytes: &[u8]) {
    server.put_media(account, path, bytes);
    let data_dir = &server.data_dir;
    let secrets = SecretBox::from_key_file(&data_dir.join("secrets.key")).unwrap();
    let url = format!("sqlite://{}", data_dir.join("pixelway.db").display());
    let store = Store::open(&url, secrets).await.unwrap();
    store
        .upsert_file(&FileRecord {
            id: format!("file_{account}_{path}"),
            account_id: account.into(),
            path: path.into(),
            name: path.rsplit('/').next().unwrap_or(path).into(),
            size: bytes.len() as i64,
            mime: "image/jpeg".into(),
            sha256: String::new(),
            is_private: true,
            ..Default::default()
        })
        .await
        .unwrap();
}
