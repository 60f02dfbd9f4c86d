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

/// Runs a client command of the binary against `server`; returns (success, stdout, stderr).
fn client(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_remove("PIXELWAY_PRIVATE_KEY")
        .env_remove("PIXELWAY_ADMIN_TOKEN")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const ACCOUNT_CONFIG: &str = r#"
[server]
admin_token = "operator-secret"

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#;

/// `pixelway import` uploads a folder tree (sub-folders become library folders), a second run
/// skips everything, and a file the server refuses makes the run fail naming it.
#[test]
fn import_uploads_a_tree_once_and_names_what_failed() {
    let server = Pixelway::start(BIN, Some(ACCOUNT_CONFIG));
    let tree = tempfile::tempdir().unwrap();
    let samples = pixelway_testkit::repo_root().join("crates/pixelway/assets/samples");
    std::fs::create_dir_all(tree.path().join("nested/deeper")).unwrap();
    for (name, to) in [
        ("cups.jpg", "cups.jpg"),
        ("fresh-flower.jpg", "nested/flower one.jpg"),
        ("pastel-hills.jpg", "nested/deeper/hills.jpg"),
    ] {
        std::fs::copy(samples.join(name), tree.path().join(to)).unwrap();
    }
    let dir = tree.path().to_str().unwrap();
    let args = [
        "import",
        dir,
        "--account",
        "acme",
        "--folder",
        "/imported",
        "--server",
        &server.base_url,
    ];
    let key = [("PIXELWAY_PRIVATE_KEY", "private_acme")];
    let (ok, out, err) = client(&args, &key);
    assert!(ok, "{out}{err}");
    assert!(out.contains("imported 3 files"), "{out}");
    assert!(out.contains("skipped 0"), "{out}");
    for path in [
        "imported/cups.jpg",
        "imported/nested/flower_one.jpg",
        "imported/nested/deeper/hills.jpg",
    ] {
        let status = reqwest::blocking_get(&server.url(&format!("/acme/{path}")));
        assert_eq!(status, 200, "{path}");
    }
    let (ok, out, _) = client(&args, &key);
    assert!(ok);
    assert!(
        out.contains("imported 0 files") && out.contains("skipped 3"),
        "{out}"
    );

    // One file changed and one the server refuses: the first is sent again, the second named.
    std::fs::copy(
        samples.join("cups.jpg"),
        tree.path().join("nested/deeper/hills.jpg"),
    )
    .unwrap();
    std::fs::write(tree.path().join("notes.txt"), b"not an image").unwrap();
    let (ok, out, err) = client(&args, &key);
    assert!(!ok, "a failed file must fail the run");
    assert!(
        out.contains("imported 1 files") && out.contains("skipped 2"),
        "{out}"
    );
    assert!(out.contains("notes.txt") && out.contains("415"), "{out}");
    assert!(err.contains("1 files failed"), "{err}");
    let (ok, _, err) = client(&args, &[("PIXELWAY_PRIVATE_KEY", "private_wrong")]);
    assert!(!ok);
    assert!(err.contains("401"), "{err}");
}

/// `pixelway import --account X` with another account's key is refused before anything is
/// sent, naming both accounts (it used to import into the key's account while printing X).
#[test]
fn import_refuses_a_key_of_another_account() {
    let config = format!(
        "{ACCOUNT_CONFIG}\n[[account]]\nid = \"other\"\nprivate_key = \"private_other\"\n\
         public_key = \"public_other\"\n"
    );
    let server = Pixelway::start(BIN, Some(&config));
    let tree = tempfile::tempdir().unwrap();
    let samples = pixelway_testkit::repo_root().join("crates/pixelway/assets/samples");
    std::fs::copy(samples.join("cups.jpg"), tree.path().join("cups.jpg")).unwrap();
    let dir = tree.path().to_str().unwrap();
    let import = |account: &str, key: &str| {
        let args = ["import", dir, "--account", account];
        let mut all = args.to_vec();
        all.extend(["--server", server.base_url.as_str()]);
        client(&all, &[("PIXELWAY_PRIVATE_KEY", key)])
    };
    let (ok, out, err) = import("other", "private_acme");
    assert!(!ok, "{out}");
    assert!(
        err.contains("\"acme\"") && err.contains("\"other\""),
        "both accounts named: {err}"
    );
    for account in ["acme", "other"] {
        let status = reqwest::blocking_get(&server.url(&format!("/{account}/cups.jpg")));
        assert_eq!(status, 404, "nothing landed in {account}");
    }
    let (ok, out, err) = import("other", "private_other");
    assert!(ok, "{out}{err}");
    let status = reqwest::blocking_get(&server.url("/other/cups.jpg"));
    assert_eq!(status, 200);
}

/// `pixelway account …` and `pixelway domain …` wrap the operator API.
#[test]
fn account_and_domain_commands_use_the_operator_api() {
    let server = Pixelway::start(BIN, Some(ACCOUNT_CONFIG));
    let token = [("PIXELWAY_ADMIN_TOKEN", "operator-secret")];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", server.base_url.as_str()]);
        client(&all, &token)
    };
    let (ok, out, err) = run(&["account", "create", "newco"]);
    assert!(ok, "{err}");
    let made: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(made["privateKey"].as_str().unwrap().starts_with("private_"));
    let (ok, out, _) = run(&["account", "list"]);
    assert!(
        ok && out.contains("newco") && !out.contains("private_"),
        "{out}"
    );
    let (ok, out, err) = run(&["domain", "map", "img.newco.test", "--account", "newco"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("create this DNS record: CNAME img.newco.test"),
        "{out}"
    );
    let (ok, out, _) = run(&["domain", "list"]);
    assert!(ok && out.contains("img.newco.test"));
    let (ok, _, _) = run(&["domain", "unmap", "img.newco.test"]);
    assert!(ok);
    let (ok, out, _) = run(&["account", "rotate-keys", "newco"]);
    assert!(ok);
    let rotated: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_ne!(rotated["privateKey"], made["privateKey"]);
    let (ok, _, _) = run(&["account", "delete", "newco"]);
    assert!(ok);
    let (ok, _, err) = run(&["account", "delete", "newco"]);
    assert!(!ok && err.contains("404"), "{err}");
    let (ok, _, err) = client(
        &["account", "list", "--server", &server.base_url],
        &[("PIXELWAY_ADMIN_TOKEN", "wrong")],
    );
    assert!(!ok && err.contains("401"), "{err}");
}

mod reqwest {
    /// The status of a GET (a tiny blocking helper for these synchronous tests).
    pub fn blocking_get(url: &str) -> u16 {
        let url = url.to_string();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
        })
        .join()
        .unwrap()
    }
}

/// `pixelway check --config FILE [--reach]`: (ok, standard output, standard error).
fn check(config: &str, reach: bool) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pixelway.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new(BIN);
    command.args(["check", "--config"]).arg(&path);
    if reach {
        command.arg("--reach");
    }
    let output = command.current_dir(dir.path()).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One account with an S3 bucket that exists, one that does not, a web server that refuses
/// the credentials and one that nothing listens on.
fn reach_config(moto: &pixelway_testkit::Moto, forbidding: &pixelway_testkit::WebOrigin) -> String {
    format!(
        r#"
[limits]
allow_private_origin_addresses = true
origin_timeout = "3s"

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "photos"
  type = "s3"
  bucket = "check-photos"
  endpoint = "{moto}"
  access_key_id = "testing"
  secret_access_key = "testing"
  allow_http = true

  [[account.origin]]
  name = "gone"
  type = "s3"
  bucket = "no-such-bucket"
  endpoint = "{moto}"
  access_key_id = "testing"
  secret_access_key = "testing"
  allow_http = true

  [[account.origin]]
  name = "locked"
  type = "web_folder"
  base_url = "{forbidding}"

  [[account.origin]]
  name = "down"
  type = "web_folder"
  base_url = "http://127.0.0.1:{closed}"

  [[account.endpoint]]
  identifier = "shop"
  origins = ["photos", "gone", "locked", "down"]
"#,
        moto = moto.endpoint,
        forbidding = forbidding.base_url,
        closed = pixelway_testkit::closed_port(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn check_validates_a_file_and_reaches_every_origin() {
    let (ok, out, _) = check(
        "[[account]]\nid = \"acme\"\nprivate_key = \"a\"\npublic_key = \"b\"\n",
        false,
    );
    assert!(ok && out.contains("valid — 1 accounts"), "{out}");
    assert!(!out.contains("note:"), "{out}");
    let (ok, _, err) = check(
        "[[account]]\nid = \"shop\"\nprivate_key = \"a\"\npublic_key = \"b\"\n\
         [[account]]\nid = \"Shop\"\nprivate_key = \"c\"\npublic_key = \"d\"\n",
        false,
    );
    assert!(!ok && err.contains("unique regardless of case"), "{err}");
    // Every problem in one run, each named.
    let (ok, _, err) = check(
        "[[account]]\nid = \"bad id\"\nprivate_key = \"a\"\npublic_key = \"b\"\n\
         [[account.named_transformation]]\nname = \"thumb\"\ntransformation = \"w-abc\"\n\
         [[account.endpoint]]\nidentifier = \"shop\"\norigins = [\"nowhere\"]\n",
        false,
    );
    assert!(!ok, "{err}");
    for problem in ["3 problems", "account id", "w-abc", "\"nowhere\""] {
        assert!(err.contains(problem), "{problem} in {err}");
    }
    // A local folder that becomes public as the first origin is named.
    let folder = tempfile::tempdir().unwrap();
    let (ok, out, _) = check(
        &format!(
            "[[account]]\nid = \"acme\"\nprivate_key = \"a\"\npublic_key = \"b\"\n\
             [[account.origin]]\nname = \"disk\"\ntype = \"local_folder\"\npath = {:?}\n",
            folder.path().display().to_string()
        ),
        false,
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("note: account \"acme\": local folder origin \"disk\"")
            && out.contains("public at /acme/"),
        "{out}"
    );
    // Shared results live in the Media Library's bucket: without one, the file is refused.
    let (ok, _, err) = check("[storage]\nshared_results = true\n", false);
    assert!(!ok, "shared results without a bucket");
    assert!(
        err.contains("storage.shared_results = true needs the Media Library in a bucket"),
        "{err}"
    );
    let (ok, _, err) = check(
        "[[account]]\nid = \"acme\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"bucket\"\ntype = \"s3\"\nbucket = \"images\"\nendpoint = \"127.0.0.1:9000\"\n",
        false,
    );
    assert!(!ok, "a bad endpoint fails the check");
    assert!(
        err.contains("origin \"bucket\": origin field endpoint"),
        "{err}"
    );

    let moto = pixelway_testkit::Moto::shared();
    moto.create_bucket("check-photos").await;
    let forbidding = pixelway_testkit::WebOrigin::start();
    forbidding.set(
        "/.pixelway-reach-check/none",
        pixelway_testkit::Behaviour::Status(403),
    );
    let config = reach_config(moto, &forbidding);
    let (ok, out, err) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || check(&config, true)
    })
    .await
    .unwrap();
    assert!(!ok, "problems make the check fail:\n{out}\n{err}");
    let row = |origin: &str| {
        out.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(origin))
            .unwrap_or_else(|| panic!("no row for {origin}:\n{out}"))
            .to_string()
    };
    assert!(row("photos").ends_with("reachable"), "{out}");
    assert!(
        row("gone").ends_with("bucket or container missing"),
        "{out}"
    );
    assert!(row("locked").ends_with("credentials refused"), "{out}");
    assert!(row("down").contains("ECONNREFUSED"), "{out}");
    assert!(out.contains("3 of 4 origins cannot be used"), "{out}");

    // Serving the same file: the start-up checks warn, and /readyz lists the problems.
    let server = Pixelway::start(BIN, Some(&config));
    let warning = server
        .wait_for_output("origin check failed at start-up")
        .expect("a start-up warning");
    assert!(warning.contains("gone") || warning.contains("locked") || warning.contains("down"));
    let mut ready = String::new();
    for _ in 0..100 {
        ready = pixelway_testkit::http_client()
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if !ready.contains("being checked") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready.starts_with("ready\n"), "{ready}");
    assert!(ready.contains("4 checked, 3 with problems"), "{ready}");
    assert!(
        ready.contains("origin \"gone\": bucket or container missing"),
        "{ready}"
    );
}
