//! Local folders never lead outside themselves (security round 2, finding 3): a `local_folder`
//! origin or a Media Library folder holding symbolic links to the data directory's key file,
//! its database or another folder serves none of them, whether the link is absolute or
//! relative, to a file or to a directory. Links that stay inside the folder keep working.

use pixelway_testkit::{Pixelway, http_client};
use reqwest::StatusCode;
use std::os::unix::fs::symlink;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

fn config(folder: &Path) -> String {
    format!(
        r#"
[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"

  [[account.origin]]
  name = "disk"
  type = "local_folder"
  path = "{}"

  [[account.endpoint]]
  identifier = ""
  origins = ["disk"]
"#,
        folder.display()
    )
}

async fn status_and_body(server: &Pixelway, path: &str) -> (StatusCode, Vec<u8>) {
    let response = http_client().get(server.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn links_out_of_a_folder_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir_all(folder.join("real-dir")).unwrap();
    std::fs::write(folder.join("inside.jpg"), CUPS).unwrap();
    std::fs::write(folder.join("real-dir/x.jpg"), CUPS).unwrap();
    let server = Pixelway::start_in(BIN, Some(&config(&folder)), dir.path(), &[]);
    let data = &server.data_dir;
    server.put_media("demo", "private.jpg", b"private library bytes");
    let key = std::fs::read(data.join("secrets.key")).unwrap();

    // Links that stay inside the folder.
    symlink("inside.jpg", folder.join("rel-inside.jpg")).unwrap();
    symlink("real-dir", folder.join("dir-link")).unwrap();
    // Links out: absolute and relative, to files and to directories.
    symlink(data.join("secrets.key"), folder.join("key")).unwrap();
    symlink("../data/pixelway.db", folder.join("db")).unwrap();
    symlink(
        data.join("media/demo/private.jpg"),
        folder.join("to-library.jpg"),
    )
    .unwrap();
    symlink(data, folder.join("abs-dir")).unwrap();
    symlink("../data", folder.join("rel-dir")).unwrap();
    symlink("real-dir/../../data/secrets.key", folder.join("winding")).unwrap();
    // An absolute link, even to a file inside the folder, is not followed (RESOLVE_BENEATH).
    symlink(folder.join("inside.jpg"), folder.join("abs-inside.jpg")).unwrap();
    // The Media Library is a local folder too.
    symlink("../../secrets.key", data.join("media/demo/leak.jpg")).unwrap();

    for path in [
        "/demo/inside.jpg",
        "/demo/rel-inside.jpg",
        "/demo/dir-link/x.jpg",
    ] {
        let (status, body) = status_and_body(&server, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, CUPS, "{path}");
    }
    for path in [
        "/demo/key",
        "/demo/db",
        "/demo/to-library.jpg",
        "/demo/abs-dir/secrets.key",
        "/demo/abs-dir/pixelway.db",
        "/demo/rel-dir/secrets.key",
        "/demo/rel-dir/media/demo/private.jpg",
        "/demo/winding",
        "/demo/abs-inside.jpg",
        "/demo/leak.jpg",
    ] {
        let (status, body) = status_and_body(&server, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} was served");
        assert_ne!(body, key, "{path}: the key file was served");
    }
}
