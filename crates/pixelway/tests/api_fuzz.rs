//! The OpenAPI document, held to its word: schemathesis (a schema-driven fuzzer) generates
//! requests for every operation of `/openapi.json` — 40 examples each, the coverage, fuzzing and
//! stateful phases — once with an account's key and once with the operator's token, and checks
//! that no answer is a server error, every status is documented for its operation, and every
//! answer's body and content type conform to the document.

use pixelway_testkit::Pixelway;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

const CONFIG: &str = r#"
[server]
admin_token = "operator-secret"

[limits]
allowed_origin_networks = ["127.0.0.1/32"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#;

/// What the run checks (schemathesis' names): the three the document must hold to, and the
/// content type. Not checked: that every schema-valid request is accepted (the document does not
/// spell out every rule, such as a folder path's shape; those answers are documented 400s).
const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance,\
                      content_type_conformance";

/// Runs schemathesis against `server` with `authorization`; panics with its report on a
/// failure.
fn fuzz(server: &Pixelway, authorization: &str) {
    let seed = std::env::var("PIXELWAY_FUZZ_SEED").unwrap_or_else(|_| "20261203".into());
    let output = std::process::Command::new("python3")
        .args(["-m", "schemathesis.cli", "run"])
        .arg(server.url("/openapi.json"))
        .args(["--checks", CHECKS, "--max-examples", "40", "--seed", &seed])
        .args(["--header", &format!("Authorization: {authorization}")])
        .arg("--no-color")
        .output()
        .expect("schemathesis (scripts/test-deps.sh)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It ran every phase over every operation.
    for phase in ["Coverage", "Fuzzing", "Stateful"] {
        assert!(
            report.contains(&format!("✅ {phase}")),
            "{phase} phase not passed:\n{report}"
        );
    }
    assert!(report.contains("Tested: 4"), "{report}");
}

#[test]
fn the_openapi_document_holds_for_an_account_key_and_the_operator_token() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    fuzz(&server, "Basic cHJpdmF0ZV9hY21lOg=="); // private_acme:
    fuzz(&server, "Bearer operator-secret");
    // Still serving after the fuzzing.
    assert_eq!(
        reqwest::blocking_status(&server.url("/healthz")),
        200,
        "the server survived"
    );
}

mod reqwest {
    /// The status of a GET (blocking, for a plain test).
    pub fn blocking_status(url: &str) -> u16 {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            pixelway_testkit::http_client()
                .get(url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }
}
