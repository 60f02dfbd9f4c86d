//! Calls to a running pixelway's management API as the tests make them by hand (where an SDK
//! would hide the status or refuse the input): JSON in, status and JSON out.

use crate::Pixelway;
use crate::multipart::Form;

/// How a call signs in.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// An account's private key (HTTP Basic, any password).
    Basic(&'a str),
    /// The operator's admin token.
    Bearer(&'a str),
    /// A dashboard session: its cookie, and the CSRF token (`None`: the header is left out).
    Session(&'a DashboardSession, Option<&'a str>),
}

/// A signed-in dashboard session, as a browser holds it.
#[derive(Debug, Clone)]
pub struct DashboardSession {
    /// `pixelway_session=…`, for a `Cookie` header.
    pub cookie: String,
    /// The token the pages carry (`<meta name="csrf-token">`).
    pub csrf: String,
    /// The whole `Set-Cookie` header the session came with (its attributes).
    pub set_cookie: String,
}

impl Pixelway {
    /// `method path` with a JSON `body`; the status and the answer's JSON (`null` when it has
    /// none).
    pub async fn api(
        &self,
        auth: Auth<'_>,
        method: &str,
        path: &str,
        body: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = crate::http_client()
            .request(method.parse().expect("an HTTP method"), self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        request = match auth {
            Auth::None => request,
            Auth::Basic(key) => request.basic_auth(key, Some("do_not_set")),
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Session(session, csrf) => {
                let request = request.header("cookie", &session.cookie);
                match csrf {
                    Some(token) => request.header("x-csrf-token", token),
                    None => request,
                }
            }
        };
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let bytes = response.bytes().await.expect("a body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Uploads `form` with an account's private key.
    pub async fn upload(&self, key: &str, form: Form) -> reqwest::Response {
        let (content_type, body) = form.finish();
        crate::http_client()
            .post(self.url("/api/v1/files/upload"))
            .basic_auth(key, Some(""))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers")
    }

    /// Uploads `bytes` as `folder/name` with an account's private key, replacing what is there
    /// (`private`: as a private file); panics unless the server took it.
    pub async fn upload_replacing(
        &self,
        key: &str,
        folder: &str,
        name: &str,
        bytes: &[u8],
        private: bool,
    ) {
        let form = Form::new()
            .text("fileName", name)
            .text("folder", folder)
            .text("useUniqueFileName", "false")
            .text("overwriteFile", "true")
            .text("isPrivateFile", if private { "true" } else { "false" })
            .file("file", name, bytes);
        let response = self.upload(key, form).await;
        let status = response.status();
        assert_eq!(status, 200, "{:?}", response.text().await);
    }

    /// Signs in to the dashboard as a browser would (the form, its double-submit cookie, the
    /// redirect); `account` `None` signs in the operator with `key` as the admin token.
    /// `Err(status)` when the sign-in is refused.
    pub async fn sign_in(
        &self,
        account: Option<&str>,
        key: &str,
    ) -> Result<DashboardSession, reqwest::StatusCode> {
        self.sign_in_from([127, 0, 0, 1].into(), account, key).await
    }

    /// [`Pixelway::sign_in`] from the loopback address `from` (127.0.0.2, …: another client).
    pub async fn sign_in_from(
        &self,
        from: std::net::IpAddr,
        account: Option<&str>,
        key: &str,
    ) -> Result<DashboardSession, reqwest::StatusCode> {
        assert!(
            from.is_loopback(),
            "tests sign in from loopback addresses only"
        );
        let client = reqwest::Client::builder()
            .no_proxy()
            .local_address(from)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client");
        let form = client
            .get(self.url("/dashboard/sign-in"))
            .send()
            .await
            .expect("the sign-in page");
        let form_cookie = cookie_pair(&form, "pixelway_sign_in").expect("the form's cookie");
        let page = form.text().await.expect("the sign-in page's text");
        let csrf = between(&page, r#"name="csrf" value=""#, "\"").expect("the form's token");
        let mut fields = vec![("csrf", csrf.as_str()), ("key", key)];
        match account {
            Some(id) => fields.push(("account", id)),
            None => fields.push(("role", "operator")),
        }
        let answer = client
            .post(self.url("/dashboard/sign-in"))
            .header("cookie", form_cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                fields
                    .iter()
                    .map(|(name, value)| format!("{name}={}", form_encode(value)))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
            .send()
            .await
            .expect("the sign-in answer");
        if answer.status() != reqwest::StatusCode::SEE_OTHER {
            return Err(answer.status());
        }
        let cookie = cookie_pair(&answer, "pixelway_session").expect("a session cookie");
        let set_cookie = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("pixelway_session="))
            .unwrap_or_default()
            .to_string();
        let overview = client
            .get(self.url("/dashboard"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("the overview")
            .text()
            .await
            .expect("its text");
        let csrf = between(&overview, r#"name="csrf-token" content=""#, "\"")
            .expect("the page's CSRF token");
        Ok(DashboardSession {
            cookie,
            csrf,
            set_cookie,
        })
    }
}

/// `name=value` of the response's `Set-Cookie` for `name`.
pub fn cookie_pair(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The text between `start` and the next `end` in `text`.
fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_string())
}
