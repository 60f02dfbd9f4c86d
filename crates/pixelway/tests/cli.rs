//! The command line: bad configuration exits non-zero naming the key and value; environment
//! variables override the file; the embedded default prints working URLs.

use pixelway_testkit::Pixelway;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

/// Runs `pixelway serve` with a config that must fail before it listens.
fn run_with_config(config: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pixelway.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&path)
        .current_dir(dir.path())
        .env_remove("PIXELWAY_SERVER__LISTEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A config that wrongly passes would leave a server running: bound the wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("pixelway started with a bad config:\n{config}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_config_exits_nonzero_naming_key_and_value() {
    let (ok, stderr) = run_with_config("[limits]\norigin_timeout = \"forever\"\n");
    assert!(!ok);
    assert!(
        stderr.contains("limits.origin_timeout") && stderr.contains("forever"),
        "{stderr}"
    );
    let (ok, stderr) = run_with_config("[storage]\nsecrets_key = \"too-short\"\n");
    assert!(!ok);
    assert!(stderr.contains("storage.secrets_key"), "{stderr}");
    let (ok, stderr) = run_with_config("[server]\nlisten = \"127.0.0.1:80800\"\n");
    assert!(!ok);
    assert!(stderr.contains("server.listen"), "{stderr}");
}

#[test]
fn missing_config_file_is_an_error() {
    let output = Command::new(BIN)
        .args(["serve", "--config", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent.toml"));
}

#[tokio::test]
async fn environment_overrides_and_public_hosts() {
    let dir = tempfile::tempdir().unwrap();
    // Only img.test is a public host; the environment sets it over an empty file.
    let server = Pixelway::start_in(
        BIN,
        None,
        dir.path(),
        &[("PIXELWAY_SERVER__PUBLIC_HOSTS", "[\"img.test\"]")],
    );
    let client = pixelway_testkit::http_client();
    let url = server.url("/demo/samples/cups.jpg");
    assert_eq!(
        client
            .get(&url)
            .header("host", "img.test")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(&url)
            .header("host", "other.test")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(dir.path().join("data/pixelway.db").exists());
    assert!(dir.path().join("data/secrets.key").exists());
}
