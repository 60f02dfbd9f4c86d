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

/// An operator can investigate from the access line alone: the query string (the signature
/// redacted), the client's address, user agent and referrer, the account on API lines, the
/// reason an error gave its client, a duration to the microsecond. SIGTERM and the end of
/// draining are logged too.
#[tokio::test]
async fn access_lines_carry_what_an_investigation_needs() {
    let (broken, working) = origins();
    let mut server = Pixelway::start(BIN, Some(&config(&broken, &working, "")));
    let client = pixelway_testkit::http_client();
    let line_of = |response: &reqwest::Response| {
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        server
            .wait_for_output(&format!("request_id={id}"))
            .expect("an access line")
    };
    let response = client
        .get(server.url("/acme/shop/red.jpg?tr=w-50&ik-t=9999999999&ik-s=0123456789abcdef"))
        .header("user-agent", "investigator/1.0")
        .header("referer", "https://shop.example/page")
        .send()
        .await
        .unwrap();
    let line = line_of(&response);
    for field in [
        "query=tr=w-50&ik-t=9999999999&ik-s=REDACTED",
        "client=127.0.0.1",
        "user_agent=investigator/1.0",
        "referer=https://shop.example/page",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(
        !line.contains("0123456789abcdef"),
        "the signature is not logged: {line}"
    );
    let duration = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("duration_ms="))
        .unwrap();
    let decimals = duration.split('.').nth(1).map_or(0, str::len);
    assert!(decimals <= 3, "to the microsecond: {duration}");

    // An error's line says what the client was told.
    let response = client
        .get(server.url("/acme/shop/missing.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let line = line_of(&response);
    let body = response.text().await.unwrap();
    assert!(
        line.contains(&format!("reason={}", body.trim_end())),
        "{line} / {body}"
    );
    // An API line names the account its credentials belong to, and its refusals their reason.
    let response = client
        .get(server.url("/v1/files"))
        .basic_auth("private_acme", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(line_of(&response).contains("account=acme"));
    let response = client
        .get(server.url("/v1/files"))
        .basic_auth("private_nobody", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let line = line_of(&response);
    assert!(
        line.contains("status=401") && line.contains("reason="),
        "{line}"
    );
    assert!(
        !line.contains("private_nobody"),
        "no key in the log: {line}"
    );

    // SIGTERM, then the end of draining.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.wait_for_output("SIGTERM").is_some());
    assert!(server.wait_for_output("drained").is_some());
    server.kill();
}
