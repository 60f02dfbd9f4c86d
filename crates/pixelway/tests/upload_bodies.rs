//! Upload bodies cannot hold the server (security round 3, finding 5), through the real binary:
//! a wrong private key is refused before the body is read; a body trickled a byte at a time is
//! cut off by the minimum average rate although no single pause is long; bodies whose client is
//! not known yet (a client-side signature may follow the file) are capped in number and kept
//! on disk, not in memory, while they are read.

use pixelway_testkit::multipart::Form;
use pixelway_testkit::{Pixelway, http_client};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_demo_key";
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

fn config(read_timeout: &str, min_rate: &str, unauthenticated: usize) -> String {
    format!(
        r#"
[server]
min_body_rate = "{min_rate}"
max_unauthenticated_uploads = {unauthenticated}

[limits]
upload_read_timeout = "{read_timeout}"

[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"
"#
    )
}

/// An upload's request head for a multipart body of `length` bytes, with `auth` headers.
fn upload_head(server: &Pixelway, length: usize, auth: &str) -> String {
    format!(
        "POST /api/v1/files/upload HTTP/1.1\r\nHost: {}\r\n{auth}\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {length}\r\n\r\n",
        server.addr
    )
}

/// The status line's code of what the server answered on `stream` (0 when it closed silently).
async fn status_of(stream: &mut TcpStream) -> u16 {
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut answer))
        .await
        .expect("the server answers within a minute")
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&answer[..read]);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_wrong_private_key_is_refused_before_the_body_is_read() {
    let server = Pixelway::start(BIN, Some(&config("30s", "16KiB", 4)));
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // "wrong:" in Basic; the announced megabyte of body never comes.
    let head = upload_head(&server, 1 << 20, "Authorization: Basic d3Jvbmc6\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    assert_eq!(status_of(&mut stream).await, 401);
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off() {
    let server = Pixelway::start(BIN, Some(&config("2s", "1KiB", 4)));
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let body_start = "--XyZ\r\nContent-Disposition: form-data; name=\"fileName\"\r\n\r\n";
    let head = upload_head(&server, 1 << 20, "");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body_start.as_bytes()).await.unwrap();
    // One byte every 300 ms: every pause is far below the 2 s read timeout, the average far
    // below 1 KiB/s. Without the rate rule this would go on for the whole megabyte.
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(60) {
        if stream.write_all(b"a").await.is_err() {
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_millis(300), stream.peek(&mut probe)).await
        {
            answered = status_of(&mut stream).await;
            break;
        }
    }
    assert_eq!(answered, 408, "the trickle was cut off with 408");
    eprintln!("trickled body cut off after {:?}", started.elapsed());
}

#[tokio::test]
async fn bodies_of_unknown_clients_are_capped_and_the_known_still_upload() {
    let server = Pixelway::start(BIN, Some(&config("30s", "16", 2)));
    // Two anonymous uploads hold the two places, sending slowly.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = upload_head(&server, 1 << 20, "");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(b"--XyZ\r\n").await.unwrap();
        holders.push(stream);
    }
    // Let the server take both in (it reads the head, then waits for the body).
    let mut third = 0;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = upload_head(&server, 16, "");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(b"--XyZ--\r\n\r\n\r\n\r\n").await.unwrap();
        third = status_of(&mut stream).await;
        if third == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(third, 503, "a third unknown client waits for a place");
    // A caller with a private key is not held up by them.
    let form = Form::new()
        .text("fileName", "known.jpg")
        .file("file", "known.jpg", CUPS);
    let response = server.upload(KEY, form).await;
    assert_eq!(response.status(), StatusCode::OK);
    drop(holders);
}

#[tokio::test]
async fn anonymous_text_files_are_not_held_in_memory() {
    let server = Pixelway::start(BIN, Some(&config("30s", "16KiB", 8)));
    // 30 MB of base64 each, sent as a text field, with no credentials at all.
    let encoded = "QUJD".repeat(30 << 20 >> 2);
    let (content_type, body) = Form::new()
        .text("fileName", "big.bin")
        .text("file", &encoded)
        .finish();
    drop(encoded);
    server.reset_peak_rss();
    let uploads = (0..4).map(|_| {
        http_client()
            .post(server.url("/api/v1/files/upload"))
            .header("content-type", content_type.clone())
            .body(body.clone())
            .send()
    });
    for response in futures::future::join_all(uploads).await {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let peak = server.peak_rss_mb();
    eprintln!("four anonymous 30 MB text uploads: peak RSS {peak} MB");
    assert!(peak < 150, "peak RSS {peak} MB");
}

/// Security round 3, finding 8: one client-side signature is one upload. A token ending in `0`
/// and an `expire` with a leading `0` sign the same bytes as the original pair; that spelling
/// of `expire` (and any other than plain digits) is refused, so the signature cannot be reused.
#[tokio::test]
async fn a_client_side_signature_cannot_be_reused_by_moving_a_digit() {
    let server = Pixelway::start(BIN, Some(&config("30s", "16KiB", 4)));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expire = (now + 600).to_string();
    let signature = pixelway_route::upload_signature::sign(KEY, "tok1000", &expire);
    let upload = |token: &str, expire: &str| {
        let form = Form::new()
            .text("fileName", "signed.jpg")
            .text("publicKey", "public_demo_key")
            .text("token", token)
            .text("expire", expire)
            .text("signature", &signature)
            .file("file", "signed.jpg", CUPS);
        let (content_type, body) = form.finish();
        http_client()
            .post(server.url("/api/v1/files/upload"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let first = upload("tok1000", &expire).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    for (token, moved) in [
        ("tok100".to_string(), format!("0{expire}")),
        ("tok10".to_string(), format!("00{expire}")),
    ] {
        let again = upload(&token, &moved).await.unwrap();
        let status = again.status();
        let text = again.text().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token}/{moved}: {text}");
        assert!(text.contains("plain digits"), "{text}");
    }
    let replayed = upload("tok1000", &expire).await.unwrap();
    assert_eq!(
        replayed.status(),
        StatusCode::UNAUTHORIZED,
        "the token was used"
    );
}
