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
}
