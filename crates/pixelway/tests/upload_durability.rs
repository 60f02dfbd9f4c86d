//! An acknowledged upload survives a crash, and a crash never leaves half a file: the server is
//! SIGKILLed while uploads stream in, then started again over the same data. Every upload that
//! got its 200 is served byte-identical; every file the library serves is one that was sent,
//! whole; and every record the API lists has its bytes.

use futures::StreamExt;
use pixelway_testkit::Pixelway;
use pixelway_testkit::multipart::Form;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");
const CONFIG: &str = r#"
[limits]
max_upload_bytes = "4MiB"

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#;

/// A JPEG of its own: the sample with `n`-specific bytes after its end (still a valid image,
/// different bytes, about 1 MB so that uploads are in flight when the server dies).
fn body_of(n: usize) -> Vec<u8> {
    let mut bytes = CUPS.to_vec();
    let filler: Vec<u8> = (0..900_000)
        .map(|i| ((i * 31 + n * 7) % 251) as u8)
        .collect();
    bytes.extend_from_slice(&filler);
    bytes
}

/// Sends one upload, its body streamed in pieces with pauses (a real client on a real link).
async fn upload(base: &str, path_name: &str, bytes: Vec<u8>) -> Result<u16, reqwest::Error> {
    let (content_type, body) = Form::new()
        .text("fileName", path_name)
        .text("folder", "/crash")
        .text("useUniqueFileName", "false")
        .file("file", path_name, &bytes)
        .finish();
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let stream = futures::stream::iter(pieces).then(|piece| async move {
        tokio::time::sleep(Duration::from_millis(3)).await;
        piece
    });
    let response = pixelway_testkit::http_client()
        .post(format!("{base}/api/v1/files/upload"))
        .basic_auth("private_acme", Some("do_not_set"))
        .header("content-type", content_type)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await?;
    Ok(response.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_uploads_survive_a_crash_and_nothing_half_written_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Pixelway::start_in(BIN, Some(CONFIG), dir.path(), &[]);
    let base = server.base_url.clone();
    let sent: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..6 {
        let (base, sent, acknowledged) = (base.clone(), sent.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for round in 0.. {
                let name = format!("w{writer}-{}.jpg", round % 4);
                let bytes = body_of(writer * 1000 + round);
                sent.lock()
                    .unwrap()
                    .insert(format!("{name}#{round}"), bytes.clone());
                match upload(&base, &name, bytes).await {
                    Ok(200) => acknowledged.lock().unwrap().push(format!("{name}#{round}")),
                    Ok(status) => panic!("upload answered {status}"),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Let uploads (overwrites of the same paths among them) run, then crash mid-stream.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let started = sent.lock().unwrap().len();
    eprintln!(
        "{} uploads started, {} acknowledged before the crash",
        started,
        acknowledged.len()
    );
    assert!(
        started > acknowledged.len(),
        "the crash came between uploads, not during one"
    );
    assert!(
        acknowledged.len() >= 6,
        "too few uploads finished before the crash to test anything: {}",
        acknowledged.len()
    );

    let server = Pixelway::start_in(BIN, Some(CONFIG), dir.path(), &[]);
    let sent = sent.lock().unwrap().clone();
    let client = pixelway_testkit::http_client();
    let served = |name: String| {
        let client = client.clone();
        let url = server.url(&format!("/acme/crash/{name}"));
        async move {
            let response = client.get(url).send().await.unwrap();
            (
                response.status().as_u16(),
                response.bytes().await.unwrap().to_vec(),
            )
        }
    };
    // The last acknowledged upload of each path is served whole — or a later one that was
    // still in flight, complete, never a mix and never a prefix.
    let mut last_acknowledged: HashMap<String, usize> = HashMap::new();
    for tag in &acknowledged {
        let (name, round) = tag.split_once('#').unwrap();
        let round: usize = round.parse().unwrap();
        let entry = last_acknowledged.entry(name.to_string()).or_default();
        *entry = (*entry).max(round);
    }
    for (name, round) in &last_acknowledged {
        let (status, bytes) = served(name.clone()).await;
        assert_eq!(status, 200, "{name}: acknowledged, then lost");
        let candidates: Vec<&Vec<u8>> = sent
            .iter()
            .filter(|(tag, _)| {
                tag.split_once('#')
                    .is_some_and(|(n, r)| n == name && r.parse::<usize>().unwrap() >= *round)
            })
            .map(|(_, bytes)| bytes)
            .collect();
        assert!(
            candidates.iter().any(|c| **c == bytes),
            "{name}: serves {} bytes that are no upload sent at or after round {round}",
            bytes.len()
        );
    }
    // Nothing half-written anywhere: every file on disk is one of the bodies sent, whole.
    let library = server.data_dir.join("media/acme/crash");
    let every_body: Vec<&Vec<u8>> = sent.values().collect();
    for entry in std::fs::read_dir(&library).unwrap() {
        let entry = entry.unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(
            every_body.iter().any(|b| **b == bytes),
            "{:?} holds bytes no upload sent ({} bytes)",
            entry.file_name(),
            bytes.len()
        );
    }
    let spool = server.data_dir.join("media/.incoming");
    assert_eq!(
        std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0),
        0,
        "spool files left after the restart"
    );
    // Every record the API lists has its bytes.
    let listing = client
        .get(server.url("/v1/files?path=%2Fcrash"))
        .basic_auth("private_acme", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);
    let listing: serde_json::Value =
        serde_json::from_slice(&listing.bytes().await.unwrap()).unwrap();
    let records = listing.as_array().unwrap();
    assert!(records.len() >= last_acknowledged.len());
    for record in records {
        let name = record["name"].as_str().unwrap().to_string();
        let (status, bytes) = served(name.clone()).await;
        assert_eq!(status, 200, "{name}: a record without bytes");
        assert!(every_body.iter().any(|b| **b == bytes), "{name}");
    }
}
