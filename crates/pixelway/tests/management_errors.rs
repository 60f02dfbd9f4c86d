//! Bad input to the management API gets a clear 4xx in ImageKit's JSON shape
//! (`{"message", "help"}`), with a message that names the bad part — and nothing is stored.

use pixelway_testkit::Pixelway;
use pixelway_testkit::multipart::Form;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");
const CONFIG: &str = r#"
[limits]
max_upload_bytes = "100KiB"
upload_read_timeout = "1s"

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

[[account]]
id = "rival"
private_key = "private_rival"
public_key = "public_rival"
"#;

/// A request to send: method, path, content type and body; authenticated as acme unless
/// `key` says otherwise.
struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    content_type: String,
    body: Vec<u8>,
    key: Option<&'static str>,
    status: u16,
    says: &'static str,
}

fn upload(what: &'static str, form: Form, status: u16, says: &'static str) -> Case {
    let (content_type, body) = form.finish();
    Case {
        what,
        method: "POST",
        path: "/api/v1/files/upload".into(),
        content_type,
        body,
        key: Some("private_acme"),
        status,
        says,
    }
}

/// An upload with no Basic credentials (a browser's, signed by the application's server).
fn client_side(what: &'static str, form: Form, status: u16, says: &'static str) -> Case {
    Case {
        key: None,
        ..upload(what, form, status, says)
    }
}

fn json(
    what: &'static str,
    method: &'static str,
    path: &str,
    body: &str,
    status: u16,
    says: &'static str,
) -> Case {
    Case {
        what,
        method,
        path: path.into(),
        content_type: "application/json".into(),
        body: body.as_bytes().to_vec(),
        key: Some("private_acme"),
        status,
        says,
    }
}

fn named(file_name: &str) -> Form {
    Form::new()
        .text("fileName", file_name)
        .text("folder", "/bad")
}

fn cases() -> Vec<Case> {
    let truncated_jpeg = &CUPS[..2000];
    let mut cases = vec![
        Case {
            key: None,
            ..upload("no credentials", named("a.jpg").file("file", "a.jpg", CUPS), 401, "missing credentials")
        },
        Case {
            key: Some("private_nobody"),
            ..upload("a wrong key", named("a.jpg").file("file", "a.jpg", CUPS), 401, "private key is not valid")
        },
        upload(
            "an oversize file",
            named("big.jpg").file("file", "big.jpg", &[CUPS, &vec![0u8; 200 * 1024]].concat()),
            413,
            "max_upload_bytes",
        ),
        upload("an empty file", named("e.jpg").file("file", "e.jpg", b""), 400, "empty"),
        upload(
            "a text file",
            named("t.jpg").file("file", "t.jpg", b"<html>not an image</html>"),
            415,
            "not an image",
        ),
        upload(
            "a truncated JPEG",
            named("cut.jpg").file("file", "cut.jpg", truncated_jpeg),
            400,
            "not a readable image",
        ),
        upload("no file", named("a.jpg"), 400, "file is required"),
        upload(
            "no fileName",
            Form::new().file("file", "a.jpg", CUPS),
            400,
            "fileName is required",
        ),
        upload(
            "an unknown form field",
            named("a.jpg").text("colour", "red").file("file", "a.jpg", CUPS),
            400,
            "unknown form field \"colour\"",
        ),
        upload(
            "a flag that is not true or false",
            named("a.jpg").text("useUniqueFileName", "maybe").file("file", "a.jpg", CUPS),
            400,
            "useUniqueFileName must be",
        ),
        upload(
            "custom metadata that is not a JSON object",
            named("a.jpg").text("customMetadata", "[1,2").file("file", "a.jpg", CUPS),
            400,
            "customMetadata must be a JSON object",
        ),
        upload(
            "bad custom coordinates",
            named("a.jpg").text("customCoordinates", "1,2,3").file("file", "a.jpg", CUPS),
            400,
            "customCoordinates must be",
        ),
        upload(
            "a folder that climbs out",
            Form::new().text("fileName", "a.jpg").text("folder", "/a/../b").file("file", "a.jpg", CUPS),
            400,
            "folder",
        ),
        upload(
            "base64 that does not decode",
            named("a.jpg").text("file", "%%%not base64%%%"),
            400,
            "base64",
        ),
        upload(
            "a URL into a private network",
            named("a.jpg").text("file", "http://127.0.0.1:9/x.jpg"),
            400,
            "could not be fetched",
        ),
        client_side(
            "a client-side signature that expired",
            named("a.jpg")
                .text("publicKey", "public_acme")
                .text("token", "t-1")
                .text("expire", "1000")
                .text("signature", "00")
                .file("file", "a.jpg", CUPS),
            401,
            "expired",
        ),
        client_side(
            "a wrong client-side signature",
            named("a.jpg")
                .text("publicKey", "public_acme")
                .text("token", "t-2")
                .text("expire", &(now() + 600).to_string())
                .text("signature", "0123456789abcdef0123456789abcdef01234567")
                .file("file", "a.jpg", CUPS),
            401,
            "signature is not valid",
        ),
        client_side(
            "an expiry more than an hour ahead",
            named("a.jpg")
                .text("publicKey", "public_acme")
                .text("token", "t-3")
                .text("expire", &(now() + 7200).to_string())
                .text("signature", "00")
                .file("file", "a.jpg", CUPS),
            400,
            "less than 1 hour",
        ),
        Case {
            key: None,
            ..upload(
                "an unknown public key",
                named("a.jpg")
                    .text("publicKey", "public_nobody")
                    .text("token", "t-4")
                    .text("expire", &(now() + 600).to_string())
                    .text("signature", "00")
                    .file("file", "a.jpg", CUPS),
                401,
                "publicKey is not valid",
            )
        },
        Case {
            content_type: "multipart/form-data; boundary=xyz".into(),
            body: b"--xyz\r\nContent-Disposition: form-data; name=\"fileName\"\r\n\r\na.jpg\r\n--xyz\r\nContent-Disp"
                .to_vec(),
            ..upload("a truncated multipart body", Form::new(), 400, "multipart")
        },
        Case {
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
            ..upload("a body that is not multipart", Form::new(), 400, "multipart")
        },
        json("bad JSON", "PATCH", "/v1/files/x/details", "{tags:", 400, "request body"),
        json(
            "an unknown JSON field",
            "POST",
            "/v1/files/addTags",
            r#"{"fileIds":["x"],"tags":["a"],"colour":"red"}"#,
            400,
            "unknown field `colour`",
        ),
        json(
            "a missing JSON field",
            "POST",
            "/v1/files/batch/deleteByFileIds",
            "{}",
            400,
            "missing field `fileIds`",
        ),
        json(
            "too many ids",
            "POST",
            "/v1/files/batch/deleteByFileIds",
            &format!(r#"{{"fileIds":{:?}}}"#, (0..101).map(|i| i.to_string()).collect::<Vec<_>>()),
            400,
            "fileIds must name 1 to 100",
        ),
        json(
            "a bad search query",
            "GET",
            "/v1/files?searchQuery=colour%20%3D%20red",
            "",
            400,
            "unknown field \"colour\"",
        ),
        json(
            "a search value of the wrong kind",
            "GET",
            "/v1/files?searchQuery=size%20%3E%20big",
            "",
            400,
            "\"size\" expects a size",
        ),
        json(
            "an unknown query parameter",
            "GET",
            "/v1/files?colour=red",
            "",
            400,
            "unknown query parameter",
        ),
        json("a file of nobody", "GET", "/v1/files/nope/details", "", 404, "not found"),
        json("a wrong method", "GET", "/v1/files/rename", "", 405, "method not allowed"),
        json("an unknown route", "GET", "/v1/nothing", "", 404, "no management API route"),
        json(
            "a purge of a relative URL",
            "POST",
            "/v1/files/purge",
            r#"{"url":"/acme/a.jpg"}"#,
            400,
            "not an absolute",
        ),
        json(
            "a purge of another account's URL",
            "POST",
            "/v1/files/purge",
            r#"{"url":"http://127.0.0.1/rival/a.jpg"}"#,
            403,
            "another account",
        ),
        json(
            "a wildcard purge that is too broad",
            "POST",
            "/v1/files/purge",
            r#"{"url":"http://127.0.0.1/acme/a*"}"#,
            400,
            "wildcard",
        ),
        json(
            "deleting the root folder",
            "DELETE",
            "/v1/folder",
            r#"{"folderPath":"/"}"#,
            400,
            "root folder",
        ),
    ];
    cases.push(json(
        "a folder name with a slash trick",
        "POST",
        "/v1/folder",
        r#"{"folderName":"..","parentFolderPath":"/"}"#,
        400,
        "folder",
    ));
    cases
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn send(server: &Pixelway, case: &Case) -> (u16, serde_json::Value) {
    let mut request = pixelway_testkit::http_client()
        .request(case.method.parse().unwrap(), server.url(&case.path))
        .header("content-type", &case.content_type)
        .body(case.body.clone());
    if let Some(key) = case.key {
        request = request.basic_auth(key, Some("do_not_set"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.bytes().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{}: answered {content_type:?}: {}",
        case.what,
        String::from_utf8_lossy(&body)
    );
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn bad_input_gets_a_clear_json_error_and_stores_nothing() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    for case in cases() {
        let (status, body) = send(&server, &case).await;
        let message = body["message"].as_str().unwrap_or_default();
        assert_eq!(status, case.status, "{}: {body}", case.what);
        assert!(
            message.contains(case.says),
            "{}: message {message:?} does not say {:?}",
            case.what,
            case.says
        );
        assert!(body["help"].is_string(), "{}: no help", case.what);
        assert!(!message.contains("private_"), "{}: a key leaked", case.what);
    }
    // Nothing was stored: no record, no file, no spool file.
    let (status, listing) = send(&server, &json("list", "GET", "/v1/files", "", 200, "")).await;
    assert_eq!(status, 200);
    assert_eq!(listing, serde_json::json!([]), "something was stored");
    let library = server.data_dir.join("media/acme");
    let stored = std::fs::read_dir(&library).map(|d| d.count()).unwrap_or(0);
    assert_eq!(stored, 0, "files left in the library");
    let spool = std::fs::read_dir(server.data_dir.join("media/.incoming"))
        .unwrap()
        .count();
    assert_eq!(spool, 0, "spool files left behind");
}

/// A body that stops arriving is cut off after `limits.upload_read_timeout` with a 408, and
/// the partial upload is dropped.
#[tokio::test]
async fn a_stalled_upload_body_times_out() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    let (content_type, body) = named("slow.jpg").file("file", "slow.jpg", CUPS).finish();
    let (head, rest) = body.split_at(body.len() / 2);
    let pieces = vec![Ok::<_, std::io::Error>(head.to_vec()), Ok(rest.to_vec())];
    let stream = futures::StreamExt::then(
        futures::stream::iter(pieces.into_iter().enumerate()),
        |(i, piece)| async move {
            if i == 1 {
                tokio::time::sleep(Duration::from_secs(4)).await;
            }
            piece
        },
    );
    let started = std::time::Instant::now();
    let response = pixelway_testkit::http_client()
        .post(server.url("/api/v1/files/upload"))
        .basic_auth("private_acme", Some(""))
        .header("content-type", content_type)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 408);
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("upload_read_timeout")
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the server waited for the stalled body"
    );
    let listed = pixelway_testkit::http_client()
        .get(server.url("/v1/files"))
        .basic_auth("private_acme", Some(""))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&listed[..], b"[]");
}
