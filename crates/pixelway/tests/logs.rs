//! What pixelway logs: one line per request with what an operator needs to follow it, origin
//! failures that say where they happened, no SQL unless asked for, and JSON lines on request.

use pixelway_testkit::{Behaviour, Pixelway, WebOrigin};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

/// acme's endpoint `shop` tries a failing origin, then a working one.
fn config(broken: &WebOrigin, working: &WebOrigin, extra: &str) -> String {
    format!(
        r#"
[server]
{extra}
[limits]
allow_private_origin_addresses = true

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "broken"
  type = "web_folder"
  base_url = "{broken}"

  [[account.origin]]
  name = "working"
  type = "web_folder"
  base_url = "{working}"

  [[account.endpoint]]
  identifier = "shop"
  origins = ["broken", "working"]
"#,
        broken = broken.base_url,
        working = working.base_url
    )
}

fn origins() -> (WebOrigin, WebOrigin) {
    let (broken, working) = (WebOrigin::start(), WebOrigin::start());
    broken.set("/red.jpg", Behaviour::Status(503));
    working.serve("/red.jpg", include_bytes!("../assets/samples/cups.jpg"));
    (broken, working)
}

async fn fetch(server: &Pixelway, path: &str) -> String {
    let response = pixelway_testkit::http_client()
        .get(server.url(path))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn each_request_is_one_line_and_origin_failures_say_where() {
    let (broken, working) = origins();
    let dir = tempfile::tempdir().unwrap();
    let server = Pixelway::start_in(
        BIN,
        Some(&config(&broken, &working, "")),
        dir.path(),
        &[("PIXELWAY_LOG", "debug")],
    );
    let id = fetch(&server, "/acme/shop/red.jpg").await;
    let access = server
        .wait_for_output(&format!("request_id={id}"))
        .expect("an access line");
    for field in [
        "method=GET",
        "path=/acme/shop/red.jpg",
        "status=200",
        "bytes=",
        "duration_ms=",
        "cache=origin",
        "origin=working",
        "account=acme",
    ] {
        assert!(access.contains(field), "{field} in {access}");
    }
    let warning = server
        .wait_for_output("origin failed")
        .expect("the failing origin is logged");
    for field in [
        "account=acme",
        "endpoint=shop",
        "path=red.jpg",
        "origin=broken",
        &format!("id={id}"),
    ] {
        assert!(warning.contains(field), "{field} in {warning}");
    }
    // A second request is a hit of the memory tier, and says so (and which origin the file
    // came from).
    let again = fetch(&server, "/acme/shop/red.jpg").await;
    let line = server
        .wait_for_output(&format!("request_id={again}"))
        .unwrap();
    assert!(line.contains("cache=memory"), "{line}");
    assert!(line.contains("origin=working"), "{line}");
    // Debug level, yet no SQL statements: they are only logged when PIXELWAY_LOG names sqlx.
    assert!(
        !server.output().iter().any(|l| l.contains("sqlx::query")),
        "no SQL in the log"
    );
    assert!(
        !access.contains('\u{1b}'),
        "no colour codes when the log is not a terminal"
    );
}

#[tokio::test]
async fn json_lines_carry_the_same_fields() {
    let (broken, working) = origins();
    let server = Pixelway::start(
        BIN,
        Some(&config(&broken, &working, "log_format = \"json\"")),
    );
    let id = fetch(&server, "/acme/shop/tr:w-40/red.jpg").await;
    let line = server
        .wait_for_output(&format!("\"request_id\":\"{id}\""))
        .expect("a JSON access line");
    let value: serde_json::Value = serde_json::from_str(&line).expect("one JSON object a line");
    assert_eq!(value["target"], "pixelway::access");
    assert_eq!(value["status"], 200);
    assert_eq!(value["cache"], "transformed");
    assert_eq!(value["origin"], "working");
    assert_eq!(value["path"], "/acme/shop/tr:w-40/red.jpg");
}

/// The access line's tier: a file read from a `local_folder` origin is `cache=origin` (an origin
/// on the server's disk), a Media Library file `cache=library`.
#[tokio::test]
async fn local_folder_answers_are_logged_as_origin_answers() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("disk.jpg"),
        include_bytes!("../assets/samples/cups.jpg"),
    )
    .unwrap();
    let config = format!(
        r#"
[limits]
allow_private_origin_addresses = true

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "disk"
  type = "local_folder"
  path = {path:?}
"#,
        path = folder.path().display().to_string()
    );
    let server = Pixelway::start(BIN, Some(&config));
    server.put_media(
        "acme",
        "lib.jpg",
        include_bytes!("../assets/samples/cups.jpg"),
    );
    for (path, tier, origin) in [
        ("/acme/disk.jpg", "cache=origin", "origin=disk"),
        ("/acme/lib.jpg", "cache=library", "origin=media-library"),
    ] {
        let id = fetch(&server, path).await;
        let line = server
            .wait_for_output(&format!("request_id={id}"))
            .expect("an access line");
        assert!(
            line.contains(tier) && line.contains(origin),
            "{path}: {line}"
        );
    }
}
