//! A pass-through HTTP relay that completes responses with the headers real cloud services send
//! and an emulator leaves out (`Last-Modified`, `ETag`). It changes no status and no body.

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;

/// Starts a relay to `upstream` on a random port; returns its base URL.
pub fn start(upstream: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind relay");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    std::thread::Builder::new()
        .name(format!("relay-{port}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let client = reqwest::Client::new();
                let app = axum::Router::new().fallback(move |request: Request| {
                    forward(client.clone(), upstream.clone(), request)
                });
                axum::serve(listener, app).await.expect("relay serve");
            });
        })
        .expect("spawn relay");
    format!("http://127.0.0.1:{port}")
}

async fn forward(client: reqwest::Client, upstream: String, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut outgoing = client.request(parts.method, format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != "host" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => {
            return Response::builder()
                .status(502)
                .body(Body::from(e.to_string()))
                .expect("response");
        }
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    if !answer.headers().contains_key("last-modified") {
        response = response.header(
            "last-modified",
            HeaderValue::from_static("Thu, 01 Jan 2026 00:00:00 GMT"),
        );
    }
    let missing_etag = !answer.headers().contains_key("etag");
    let bytes = answer.bytes().await.unwrap_or_default();
    if missing_etag {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        response = response.header("etag", format!("\"{:016x}\"", hasher.finish()));
    }
    response.body(Body::from(bytes)).expect("response")
}
