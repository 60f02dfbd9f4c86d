//! Font files are hostile input (security round 3, finding 1). Fonts built by fontTools
//! (`tests/fonts/make_hostile_fonts.py`) and put in the Media Library, then drawn by an
//! anonymous text layer through the real binary with one worker:
//! - a 644-byte font whose one glyph is 2,000 em wide with no advance (rasterised whole, one
//!   glyph at `fs-100` asked for a 160 GB buffer and took the process down) is drawn clipped to
//!   the text box, within a small peak RSS;
//! - a font whose glyph is 10,000 curves stops at the time budget inside text drawing (the
//!   answer names that stage, so the worker was not left running past the budget) and the next
//!   request is served;
//! - a plain font still draws where it should.

use pixelway_testkit::{Pixelway, http_client};
use reqwest::StatusCode;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg"); // 400x250

const CONFIG: &str = r#"
[limits]
transform_workers = 1
transform_time_budget = "1s"
transform_queue_wait = "60s"

[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"
"#;

/// Peak RSS the server may reach while drawing any of the fonts.
const RSS_BOUND_MB: u64 = 300;

/// Builds the hostile fonts with fontTools into `dir`.
fn make_fonts(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fonts/make_hostile_fonts.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .status()
        .expect("python3 runs (scripts/test.sh installs fontTools)");
    assert!(status.success(), "make_hostile_fonts.py failed");
}

fn start() -> Pixelway {
    let server = Pixelway::start(BIN, Some(CONFIG));
    let fonts = tempfile::tempdir().unwrap();
    make_fonts(fonts.path());
    for name in ["crash.ttf", "slow.ttf", "normal.ttf"] {
        let bytes = std::fs::read(fonts.path().join(name)).unwrap();
        server.put_media("demo", &format!("fonts/{name}"), &bytes);
    }
    server.put_media("demo", "cups.jpg", CUPS);
    server
}

async fn get(server: &Pixelway, path: &str) -> (StatusCode, Vec<u8>) {
    let response = http_client().get(server.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_glyph_two_thousand_em_wide_is_clipped_to_its_box() {
    let server = start();
    server.reset_peak_rss();
    let (status, body) = get(
        &server,
        "/demo/tr:l-text,i-AAAAAAAAAAAAAAAA,ff-fonts@@crash.ttf,fs-100,l-end/cups.jpg",
    )
    .await;
    let peak = server.peak_rss_mb();
    eprintln!("crash.ttf at fs-100: {status}, peak RSS {peak} MB");
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    assert!(peak < RSS_BOUND_MB, "peak RSS {peak} MB");
    // The process is still there and serving.
    let (status, _) = get(&server, "/demo/tr:w-10/cups.jpg").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_font_of_endless_curves_stops_at_the_budget_inside_text_drawing() {
    let server = start();
    server.reset_peak_rss();
    let (status, body) = get(
        &server,
        "/demo/tr:l-text,i-AAAAAAAAAAAAAAAA,ff-fonts@@slow.ttf,fs-300,l-end/cups.jpg",
    )
    .await;
    let body: String = String::from_utf8_lossy(&body).chars().take(300).collect();
    let peak = server.peak_rss_mb();
    eprintln!("slow.ttf at fs-300: {status}, peak RSS {peak} MB");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Stopped by the worker's own check while drawing, not by the waiter giving up on it.
    assert!(body.contains("at drawing text"), "{body}");
    assert!(peak < RSS_BOUND_MB, "peak RSS {peak} MB");
    let (status, _) = get(&server, "/demo/tr:w-10/cups.jpg").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_plain_font_from_the_library_still_draws() {
    let server = start();
    let (status, body) = get(
        &server,
        "/demo/tr:l-text,i-AA,ff-fonts@@normal.ttf,fs-50,co-FF0000,lx-0,ly-0,l-end/cups.jpg",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let image = pixelway_transform::pipeline::decode_rgba(&body, 1 << 24).unwrap();
    // The first glyph's square spans x 5..45, y 0..40 of the box placed at the top-left.
    let inside = image.get_pixel(25, 20);
    assert!(
        inside[0] > 200 && inside[1] < 60,
        "red inside the glyph: {inside:?}"
    );
}
