//! The operator API: accounts made with generated keys, keys rotated (old signatures stop
//! working), accounts deleted with their data; custom domains mapped and unmapped — with the
//! admin token only.

use pixelway_route::signature::{NEVER_EXPIRES, sign};
use pixelway_testkit::Pixelway;
use pixelway_testkit::api::Auth;
use pixelway_testkit::multipart::Form;
use reqwest::StatusCode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");
const CONFIG: &str = r#"
[server]
admin_token = "operator-secret"
public_hosts = ["img.test"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

[[custom_domain]]
host = "acme.test"
account = "acme"
"#;

async fn call(
    server: &Pixelway,
    auth: Auth<'_>,
    method: &str,
    path: &str,
    body: &str,
) -> (StatusCode, Value) {
    server.api(auth, method, path, body).await
}

async fn operator(server: &Pixelway, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    call(server, Auth::Bearer("operator-secret"), method, path, body).await
}

async fn get(server: &Pixelway, host: &str, target: &str) -> StatusCode {
    pixelway_testkit::http_client()
        .get(server.url(target))
        .header("host", host)
        .send()
        .await
        .unwrap()
        .status()
}

async fn upload(server: &Pixelway, key: &str, name: &str, private: bool) -> StatusCode {
    let form = Form::new()
        .text("fileName", name)
        .text("useUniqueFileName", "false")
        .text("isPrivateFile", if private { "true" } else { "false" })
        .file("file", name, CUPS);
    server.upload(key, form).await.status()
}

#[tokio::test]
async fn the_operator_manages_accounts_and_custom_domains() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    // Only the admin token opens the operator API.
    for (auth, what) in [
        (Auth::None, "no credentials"),
        (Auth::Bearer("wrong"), "a wrong token"),
        (Auth::Bearer("private_acme"), "an account key as a token"),
        (
            Auth::Basic("private_acme"),
            "an account's Basic credentials",
        ),
    ] {
        let (status, body) = call(
            &server,
            auth,
            "PUT",
            "/v1/operator/custom-domains/steal.test",
            r#"{"accountId":"acme"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }

    // A new account, with generated keys that work at once.
    let (status, made) = operator(
        &server,
        "POST",
        "/v1/operator/accounts",
        r#"{"id":"newco"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let old_key = made["privateKey"].as_str().unwrap().to_string();
    assert!(old_key.len() > 30);
    assert_eq!(
        upload(&server, &old_key, "a.jpg", false).await,
        StatusCode::OK
    );
    assert_eq!(
        upload(&server, &old_key, "p.jpg", true).await,
        StatusCode::OK
    );
    assert_eq!(
        get(&server, "img.test", "/newco/a.jpg").await,
        StatusCode::OK
    );
    let signed = format!(
        "/newco/p.jpg?ik-s={}",
        sign(&old_key, "p.jpg", NEVER_EXPIRES)
    );
    assert_eq!(get(&server, "img.test", &signed).await, StatusCode::OK);
    // Private through the API: unsigned is refused at once, and again public once replaced so.
    assert_eq!(
        get(&server, "img.test", "/newco/p.jpg").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        upload(&server, &old_key, "p.jpg", false).await,
        StatusCode::OK
    );
    assert_eq!(
        get(&server, "img.test", "/newco/p.jpg").await,
        StatusCode::OK
    );
    assert_eq!(
        upload(&server, &old_key, "p.jpg", true).await,
        StatusCode::OK
    );
    assert_eq!(
        get(&server, "img.test", "/newco/p.jpg").await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = operator(
        &server,
        "POST",
        "/v1/operator/accounts",
        r#"{"id":"newco"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) =
        operator(&server, "POST", "/v1/operator/accounts", r#"{"id":"api"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("reserved"),
        "{body}"
    );
    let (_, listed) = operator(&server, "GET", "/v1/operator/accounts", "").await;
    assert!(
        !listed.to_string().contains("private_"),
        "private keys listed: {listed}"
    );

    // Rotated keys: the old signature and the old key stop working.
    let (status, rotated) = operator(&server, "POST", "/v1/operator/accounts/newco/keys", "").await;
    assert_eq!(status, StatusCode::OK);
    let new_key = rotated["privateKey"].as_str().unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(
        get(&server, "img.test", &signed).await,
        StatusCode::UNAUTHORIZED
    );
    let resigned = format!(
        "/newco/p.jpg?ik-s={}",
        sign(new_key, "p.jpg", NEVER_EXPIRES)
    );
    assert_eq!(get(&server, "img.test", &resigned).await, StatusCode::OK);
    assert_eq!(
        call(&server, Auth::Basic(&old_key), "GET", "/v1/files", "")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = operator(&server, "POST", "/v1/operator/accounts/acme/keys", "").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the config file's account is the file's"
    );

    // Custom domains: alias and one-to-one, live at once, with the DNS record to create.
    let (status, mapped) = operator(
        &server,
        "PUT",
        "/v1/operator/custom-domains/Shop.Newco.test",
        r#"{"accountId":"newco"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mapped}");
    assert_eq!(mapped["dnsRecord"]["value"], "img.test");
    assert_eq!(mapped["host"], "shop.newco.test");
    assert_eq!(
        get(&server, "shop.newco.test", "/a.jpg").await,
        StatusCode::OK
    );
    let (status, _) = call(
        &server,
        Auth::Basic(new_key),
        "POST",
        "/v1/accounts/url-endpoints",
        r#"{"description":"e","urlPrefix":"e1"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = operator(
        &server,
        "PUT",
        "/v1/operator/custom-domains/e1.newco.test",
        r#"{"accountId":"newco","urlPrefix":"e1"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(&server, "e1.newco.test", "/a.jpg").await,
        StatusCode::OK
    );
    for (host, body, status, says) in [
        (
            "img.test",
            r#"{"accountId":"newco"}"#,
            StatusCode::BAD_REQUEST,
            "public host",
        ),
        (
            "x.test",
            r#"{"accountId":"nobody"}"#,
            StatusCode::BAD_REQUEST,
            "not found",
        ),
        (
            "y.test",
            r#"{"accountId":"newco","urlPrefix":"nope"}"#,
            StatusCode::BAD_REQUEST,
            "not found",
        ),
        (
            "acme.test",
            r#"{"accountId":"newco"}"#,
            StatusCode::CONFLICT,
            "config file",
        ),
        (
            "bad_host",
            r#"{"accountId":"newco"}"#,
            StatusCode::BAD_REQUEST,
            "custom domain",
        ),
    ] {
        let (got, answer) = operator(
            &server,
            "PUT",
            &format!("/v1/operator/custom-domains/{host}"),
            body,
        )
        .await;
        assert_eq!(got, status, "{host}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{host}: {answer}"
        );
    }
    let (status, _) = operator(
        &server,
        "DELETE",
        "/v1/operator/custom-domains/shop.newco.test",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&server, "shop.newco.test", "/a.jpg").await,
        StatusCode::NOT_FOUND
    );

    // Deleting the account: its URLs, key, domains and library bytes are gone.
    let library = server.data_dir.join("media/newco");
    assert!(library.exists());
    let (status, _) = operator(&server, "DELETE", "/v1/operator/accounts/newco", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&server, "img.test", "/newco/a.jpg").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&server, "e1.newco.test", "/a.jpg").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&server, Auth::Basic(new_key), "GET", "/v1/files", "")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert!(!library.exists(), "the library's bytes were left");
    assert_eq!(
        get(&server, "img.test", "/acme/x.jpg").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        operator(&server, "GET", "/v1/operator/accounts", "")
            .await
            .1[0]["id"],
        "acme"
    );
}
