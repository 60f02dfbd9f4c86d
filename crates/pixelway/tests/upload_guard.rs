//! Upload by URL goes through the origins' outbound guard (security round 3, finding 2), through
//! the real binary with the default policy plus one allowed network (127.0.0.2/32, standing for
//! a public host). Every loopback spelling a URL parser accepts, credentials in the URL, and a
//! redirect from the allowed host to loopback are refused before any byte reaches the internal
//! server; every refusal and failure (closed port, 404, refused address) answers the same words,
//! so the upload cannot be used to scan ports. All servers here are on loopback.

use pixelway_testkit::multipart::Form;
use pixelway_testkit::{Behaviour, Pixelway, WebOrigin, closed_port};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_demo_key";
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

const CONFIG: &str = r#"
[limits]
allowed_origin_networks = ["127.0.0.2/32"]

[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"
"#;

/// Uploads `url` as the `file` field; the status and the answer's text.
async fn upload_url(server: &Pixelway, url: &str) -> (StatusCode, String) {
    let form = Form::new()
        .text("fileName", "fetched.jpg")
        .text("file", url);
    let response = server.upload(KEY, form).await;
    (response.status(), response.text().await.unwrap())
}

/// The port of a `http://ip:port` base URL.
fn port_of(base_url: &str) -> u16 {
    base_url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn upload_by_url_cannot_reach_loopback_in_any_spelling() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    let internal = WebOrigin::start();
    internal.serve("/secret.jpg", CUPS);
    let port = port_of(&internal.base_url);
    let public = WebOrigin::start_on("127.0.0.2");
    public.serve("/photo.jpg", CUPS);
    public.set(
        "/moved.jpg",
        Behaviour::Redirect(format!("http://127.0.0.1:{port}/secret.jpg")),
    );
    let public_port = port_of(&public.base_url);

    // The allowed host works: the guard refuses what it must, not everything.
    let (status, body) = upload_url(&server, &format!("{}/photo.jpg", public.base_url)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let refused = [
        format!("http://127.0.0.1:{port}/secret.jpg"),
        format!("http://2130706433:{port}/secret.jpg"),
        format!("http://0x7f.1:{port}/secret.jpg"),
        format!("http://127.1:{port}/secret.jpg"),
        format!("http://0177.0.0.1:{port}/secret.jpg"),
        format!("http://[::ffff:7f00:1]:{port}/secret.jpg"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret.jpg"),
        format!("http://0:{port}/secret.jpg"),
        format!("http://localhost:{port}/secret.jpg"),
        format!("http://u@127.0.0.1:{port}/secret.jpg"),
        // Credentials are refused even towards an allowed host (they would be sent as Basic).
        format!("http://u:p@127.0.0.2:{public_port}/photo.jpg"),
        // A redirect from the allowed host to loopback.
        format!("{}/moved.jpg", public.base_url),
        // Failures on the allowed host answer the same words as refusals.
        format!("{}/missing.jpg", public.base_url),
        format!("http://127.0.0.2:{}/photo.jpg", closed_port()),
    ];
    let mut answers = Vec::new();
    for url in &refused {
        let (status, body) = upload_url(&server, url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert!(
            body.contains("the URL could not be fetched"),
            "{url}: {body}"
        );
        answers.push(body);
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "one answer for every cause: {answers:#?}");
    assert_eq!(
        internal.hits("/secret.jpg"),
        0,
        "the internal server saw a request"
    );
    assert_eq!(
        public.hits("/photo.jpg"),
        1,
        "only the allowed upload reached it"
    );
}
