//! The dashboard, in a real browser (headless Chromium through playwright-core) and by hand:
//! a person's whole path — sign in, add an origin and an endpoint, reorder, upload, test a URL,
//! name a transformation, sign out, map a custom domain as the operator — then the security
//! rows: CSRF, the session cookie, sign-in limits, sessions that end.
//!
//! Screenshots of every page at desktop and phone widths go to
//! `target/dashboard-screenshots/`.

use pixelway_testkit::api::{Auth, DashboardSession};
use pixelway_testkit::{Pixelway, WebOrigin, run_browser, sample_path};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");
const HILLS: &[u8] = include_bytes!("../assets/samples/pastel-hills.jpg");
const FLOWER: &[u8] = include_bytes!("../assets/samples/fresh-flower.jpg");
const FLOW: &str = include_str!("browser/dashboard_flow.js");

/// acme with one origin (`first`) and one endpoint (`legacy`) from the file; rival beside it.
fn config(first: &WebOrigin) -> String {
    format!(
        r#"
[server]
admin_token = "operator-token"
[limits]
allow_private_origin_addresses = true

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"

  [[account.origin]]
  name = "first"
  type = "web_folder"
  base_url = "{first}"

  [[account.endpoint]]
  identifier = "legacy"
  origins = ["first"]

[[account]]
id = "rival"
private_key = "private_rival"
public_key = "public_rival"
"#,
        first = first.base_url
    )
}

#[test]
fn a_person_manages_endpoints_origins_files_and_domains_in_a_browser() {
    let (first, second) = (WebOrigin::start(), WebOrigin::start());
    first.serve("/shoes/red.jpg", CUPS);
    second.serve("/shoes/red.jpg", HILLS);
    second.serve("/only-b.jpg", FLOWER);
    let server = Pixelway::start(BIN, Some(&config(&first)));
    let port = server.addr.port().to_string();
    let output = run_browser(
        &server.base_url,
        FLOW,
        &[
            ("B_URL", &second.base_url),
            ("CUPS", &sample_path("cups.jpg")),
            ("HILLS", &sample_path("pastel-hills.jpg")),
            ("PORT", &port),
        ],
    );
    assert!(output.contains("dashboard flow: ok"), "{output}");

    // What the browser did is what the server holds.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (_, endpoints) = server
            .api(
                Auth::Basic("private_acme"),
                "GET",
                "/v1/accounts/url-endpoints",
                "",
            )
            .await;
        let (_, origins) = server
            .api(
                Auth::Basic("private_acme"),
                "GET",
                "/v1/accounts/origins",
                "",
            )
            .await;
        let id_of = |name: &str| {
            origins
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["name"] == name)
                .unwrap()["id"]
                .clone()
        };
        let products = endpoints
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["urlPrefix"] == "products")
            .expect("the endpoint added in the browser");
        assert_eq!(
            products["origins"],
            serde_json::json!([id_of("first"), id_of("second")])
        );
        assert_eq!(products["description"], "Product photos");
        let names: Vec<&str> = origins
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "the refused origin was not stored: {names:?}"
        );
        assert_eq!(
            endpoints.as_array().unwrap().len(),
            3,
            "default, legacy, products"
        );

        // The uploads are in the library, and the custom domain serves.
        let client = pixelway_testkit::http_client();
        let uploaded = client
            .get(server.url("/acme/cups.jpg"))
            .send()
            .await
            .unwrap();
        assert_eq!(&uploaded.bytes().await.unwrap()[..], CUPS);
        let deleted = client
            .get(server.url("/acme/pastel-hills.jpg"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            deleted.status(),
            StatusCode::NOT_FOUND,
            "deleted in the browser"
        );
        let through_domain = pixelway_testkit::http_client()
            .get(server.url("/shoes/red.jpg"))
            .header("host", "img.acme.test")
            .send()
            .await
            .unwrap();
        assert_eq!(through_domain.status(), StatusCode::OK);
        assert_eq!(
            &through_domain.bytes().await.unwrap()[..],
            CUPS,
            "products tries first, then second"
        );
    });
}

fn start() -> Pixelway {
    let web = WebOrigin::start();
    Pixelway::start(BIN, Some(&config(&web)))
}

async fn page(
    server: &Pixelway,
    session: Option<&DashboardSession>,
    path: &str,
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.get(server.url(path));
    if let Some(session) = session {
        request = request.header("cookie", &session.cookie);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_every_change_needs_the_csrf_token() {
    let server = start();
    let session = server.sign_in(Some("acme"), "private_acme").await.unwrap();
    assert!(
        session.set_cookie.contains("HttpOnly"),
        "{}",
        session.set_cookie
    );
    assert!(
        session.set_cookie.contains("SameSite=Strict"),
        "{}",
        session.set_cookie
    );
    // Behind plain HTTP the cookie cannot be Secure, or browsers would drop it.
    assert!(
        !session.set_cookie.contains("Secure"),
        "{}",
        session.set_cookie
    );

    let body = r#"{"urlPrefix":"csrf-test","origins":[]}"#;
    let path = "/v1/accounts/url-endpoints";
    let (status, _) = server
        .api(Auth::Session(&session, None), "POST", path, body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _) = server
        .api(Auth::Session(&session, Some("forged")), "POST", path, body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong CSRF token");
    let (status, listed) = server
        .api(Auth::Basic("private_acme"), "GET", path, "")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !listed.to_string().contains("csrf-test"),
        "nothing was created: {listed}"
    );
    let (status, _) = server
        .api(
            Auth::Session(&session, Some(&session.csrf)),
            "POST",
            path,
            body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "with the token");

    // Sign-out is a form: without the token it is refused and the session lives on.
    let client = pixelway_testkit::http_client();
    let refused = client
        .post(server.url("/dashboard/sign-out"))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        page(&server, Some(&session), "/dashboard/origins")
            .await
            .status(),
        StatusCode::OK
    );
    let signed_out = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url("/dashboard/sign-out"))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", session.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let after = page(&server, Some(&session), "/dashboard/origins").await;
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the old cookie opens nothing"
    );
    let (status, _) = server
        .api(
            Auth::Session(&session, Some(&session.csrf)),
            "GET",
            path,
            "",
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_sign_ins_are_limited_and_rotated_keys_end_sessions() {
    let server = start();
    // Three wrong keys are answered as such; then this client's network has to wait.
    for _ in 0..3 {
        assert_eq!(
            server.sign_in(Some("acme"), "wrong").await.unwrap_err(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        server.sign_in(Some("acme"), "wrong").await.unwrap_err(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server
            .sign_in(Some("acme"), "private_acme")
            .await
            .unwrap_err(),
        StatusCode::TOO_MANY_REQUESTS,
        "from the guessing network, the right key waits too"
    );
    // The wait is this network's: rival, from the same address, also waits.
    assert_eq!(
        server
            .sign_in(Some("rival"), "private_rival")
            .await
            .unwrap_err(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner elsewhere is not locked out by someone else's guesses.
    server
        .sign_in_from([127, 0, 0, 2].into(), Some("acme"), "private_acme")
        .await
        .expect("a correct key from a clean address signs in");

    let other = start();
    let operator = other.sign_in(None, "operator-token").await.unwrap();
    // An account made through the operator API (the file's accounts keep the file's keys).
    let (status, made) = other
        .api(
            Auth::Session(&operator, Some(&operator.csrf)),
            "POST",
            "/v1/operator/accounts",
            r#"{"id":"fresh"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let key = made["privateKey"].as_str().unwrap();
    let session = other.sign_in(Some("fresh"), key).await.unwrap();
    // Each session reaches its own side only.
    let (status, _) = other
        .api(
            Auth::Session(&operator, Some(&operator.csrf)),
            "GET",
            "/v1/accounts/origins",
            "",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the operator has no account");
    let (status, _) = other
        .api(
            Auth::Session(&session, Some(&session.csrf)),
            "GET",
            "/v1/operator/accounts",
            "",
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an account is not the operator"
    );
    let open = page(&other, Some(&session), "/dashboard/endpoints").await;
    assert_eq!(open.status(), StatusCode::OK);
    let (status, _) = other
        .api(
            Auth::Session(&operator, Some(&operator.csrf)),
            "POST",
            "/v1/operator/accounts/fresh/keys",
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the operator rotates fresh's keys");
    let ended = page(&other, Some(&session), "/dashboard/endpoints").await;
    assert_eq!(
        ended.status(),
        StatusCode::SEE_OTHER,
        "a session opened with the old key has ended"
    );
}

#[tokio::test]
async fn the_front_page_of_a_public_host_links_to_the_dashboard() {
    let server = start();
    let home = page(&server, None, "/").await;
    assert_eq!(home.status(), StatusCode::OK);
    let text = home.text().await.unwrap();
    assert!(
        text.contains(r#"href="/dashboard""#) && text.contains("/openapi.json"),
        "{text}"
    );
    let signed_out = page(&server, None, "/dashboard/library").await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        signed_out.headers()["location"],
        "/dashboard/sign-in?next=%2Fdashboard%2Flibrary"
    );
    let css = page(&server, None, "/dashboard/assets/dashboard.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

/// A private file's thumbnail in the Media Library is a URL the dashboard signs with the
/// account's key: it loads, while the same URL unsigned is refused.
#[tokio::test]
async fn private_files_have_signed_previews() {
    let server = start();
    let form = pixelway_testkit::multipart::Form::new()
        .text("fileName", "secret.jpg")
        .text("folder", "/vault")
        .text("useUniqueFileName", "false")
        .text("isPrivateFile", "true")
        .file("file", "secret.jpg", CUPS);
    assert_eq!(
        server.upload("private_acme", form).await.status(),
        StatusCode::OK
    );
    let session = server.sign_in(Some("acme"), "private_acme").await.unwrap();
    let library = page(
        &server,
        Some(&session),
        "/dashboard/library?folder=%2Fvault%2F",
    )
    .await
    .text()
    .await
    .unwrap();
    let src = library
        .split("src=\"")
        .skip(1)
        .map(|rest| {
            rest.split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&")
                .replace("&#38;", "&")
        })
        .find(|src| src.contains("secret.jpg"))
        .unwrap_or_else(|| panic!("a thumbnail for the private file:\n{library}"));
    assert!(src.contains("ik-s="), "{src}");
    let signed = page(&server, None, &src).await;
    assert_eq!(signed.status(), StatusCode::OK, "{src}");
    assert!(
        signed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    let unsigned = src.split('?').next().unwrap();
    assert_eq!(
        page(&server, None, unsigned).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
