//! A real HTTP server acting as a web origin, with a scripted answer per path and a count of the
//! requests each path received. Runs on its own thread and runtime, so it outlives any one test's
//! runtime and can be shared.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the origin does for a path.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// 200 with these bytes (after an optional delay, to widen race windows).
    Serve { bytes: Vec<u8>, delay: Duration },
    /// Answer with this status and no body.
    Status(u16),
    /// Accept the request and never answer.
    Hang,
    /// 302 to this URL.
    Redirect(String),
    /// 200 with a body that stops half-way: the connection is dropped.
    Truncated(Vec<u8>),
}

#[derive(Debug, Default)]
struct State {
    routes: Mutex<HashMap<String, Behaviour>>,
    hits: Mutex<HashMap<String, usize>>,
    last_headers: Mutex<HashMap<String, HeaderMap>>,
}

/// A running HTTP origin.
#[derive(Debug, Clone)]
pub struct WebOrigin {
    /// `http://127.0.0.1:PORT` (or the address given to [`WebOrigin::start_on`])
    pub base_url: String,
    state: Arc<State>,
}

impl WebOrigin {
    /// Starts a server on 127.0.0.1 and a random port.
    pub fn start() -> Self {
        Self::start_on("127.0.0.1")
    }

    /// Starts a server on another loopback address (e.g. `127.0.0.2`: a second "host" for
    /// tests of address policies), on a random port.
    pub fn start_on(ip: &str) -> Self {
        let state = Arc::new(State::default());
        let listener = std::net::TcpListener::bind((ip, 0)).expect("bind web origin");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let served = Arc::clone(&state);
        std::thread::Builder::new()
            .name(format!("web-origin-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                        answer(Arc::clone(&served), uri, headers)
                    });
                    axum::serve(listener, app).await.expect("web origin serve");
                });
            })
            .expect("spawn web origin");
        Self {
            base_url: format!("http://{ip}:{port}"),
            state,
        }
    }

    /// Scripts the answer for `path` (leading '/', decoded).
    pub fn set(&self, path: &str, behaviour: Behaviour) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), behaviour);
    }

    /// Serves `bytes` at `path`.
    pub fn serve(&self, path: &str, bytes: &[u8]) {
        self.set(
            path,
            Behaviour::Serve {
                bytes: bytes.to_vec(),
                delay: Duration::ZERO,
            },
        );
    }

    /// How many requests `path` received.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// The headers of the last request `path` received.
    pub fn last_headers(&self, path: &str) -> Option<HeaderMap> {
        self.state.last_headers.lock().unwrap().get(path).cloned()
    }
}

async fn answer(state: Arc<State>, uri: Uri, headers: HeaderMap) -> Response {
    let path = percent_decode(uri.path());
    *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    state
        .last_headers
        .lock()
        .unwrap()
        .insert(path.clone(), headers);
    let behaviour = state.routes.lock().unwrap().get(&path).cloned();
    match behaviour {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Behaviour::Serve { bytes, delay }) => {
            tokio::time::sleep(delay).await;
            ([(header::CONTENT_TYPE, "text/plain")], bytes).into_response()
        }
        Some(Behaviour::Status(code)) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Some(Behaviour::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(Behaviour::Redirect(to)) => {
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        Some(Behaviour::Truncated(bytes)) => {
            let half = bytes[..bytes.len() / 2].to_vec();
            let stream = futures::stream::iter(vec![
                Ok::<_, std::io::Error>(bytes::Bytes::from(half)),
                Err(std::io::Error::other("connection dropped")),
            ]);
            Response::builder()
                .header(header::CONTENT_LENGTH, bytes.len())
                .body(Body::from_stream(stream))
                .expect("response")
        }
    }
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&raw[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
