//! The front door: what every request passes through first, and where it goes next.
//!
//! Every request gets: the limit on its header section (431), its request id (`x-request-id`,
//! kept from the client or a new UUID, and returned), its access line ([`crate::access_log`]),
//! and `X-Content-Type-Options: nosniff` on its answer, errors and health checks included.
//!
//! Then reads of delivery URLs — GET and HEAD without a body, of every path whose first segment
//! is not one of the router's (the server crate says which) — go straight to
//! [`crate::deliver::deliver_to`]; the rest (health checks, the management API, the dashboard,
//! other methods and requests with bodies, which get the body limit's 413 or delivery's 405) to
//! the server's axum router, whose fallback is delivery too. A cache hit, most of a CDN's
//! traffic, so pays for no router, no middleware stack and no boxed body.

use crate::Delivery;
use crate::forwarded::Peer;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The front door of the server: shared by every connection.
pub struct Edge {
    app: Arc<Delivery>,
    router: Router,
    for_router: fn(&str) -> bool,
}

impl Edge {
    /// Delivery in front of `router`, which answers the paths `for_router` claims (and, as
    /// its fallback, everything delivery itself does not take).
    pub fn new(app: Arc<Delivery>, router: Router, for_router: fn(&str) -> bool) -> Self {
        Self {
            app,
            router,
            for_router,
        }
    }

    /// Answers one request that came in from `peer`.
    pub async fn handle(&self, request: Request<Incoming>, peer: Option<SocketAddr>) -> Response {
        let id = request_id(request.headers());
        let line = crate::access_log::Line::start(
            (request.method(), request.uri(), request.headers()),
            peer,
            &self.app.settings.trusted_proxies,
            id.to_str().unwrap_or(""),
        );
        let refused = too_large(request.headers(), self.app.settings.max_header_bytes);
        let describe = line.is_some();
        let account_slot = line.as_ref().map(|line| line.account_slot());
        let run = async move {
            match refused {
                Some(answer) => (answer, None),
                None => self.dispatch(request, peer, account_slot, describe).await,
            }
        };
        let (mut response, served) = match &line {
            Some(line) => run.instrument(line.span()).await,
            None => run.await,
        };
        let headers = response.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(REQUEST_ID, id);
        if let Some(line) = line {
            let served = served.or_else(|| response.extensions().get().cloned());
            line.finish(&response, served.as_ref());
        }
        response
    }

    /// Delivery directly, or the router; with what delivery says it served when `describe`.
    async fn dispatch(
        &self,
        request: Request<Incoming>,
        peer: Option<SocketAddr>,
        account_slot: Option<crate::access_log::AccountSlot>,
        describe: bool,
    ) -> (Response, Option<crate::access_log::Served>) {
        // A read without a body: a GET that carries one still meets the router's body limit.
        let reads = matches!(*request.method(), Method::GET | Method::HEAD)
            && hyper::body::Body::is_end_stream(request.body());
        if reads && !(self.for_router)(request.uri().path()) {
            let peer = Peer(peer.map(|address| address.ip()));
            let (method, uri, headers) = (request.method(), request.uri(), request.headers());
            return crate::deliver::deliver_to(&self.app, peer, method, uri, headers, describe)
                .await;
        }
        let mut request = request.map(axum::body::Body::new);
        if let Some(peer) = peer {
            // The client's address, for whoever asks (the limit on failed sign-ins).
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        if let Some(slot) = account_slot {
            request.extensions_mut().insert(slot);
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        };
        (response, None)
    }
}

/// The client's request id, or a new UUID.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    if let Some(id) = headers.get(&REQUEST_ID) {
        return id.clone();
    }
    let mut text = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(text).expect("a UUID is a header value")
}

/// 431 when the request's header section (names and values) is longer than `limit` bytes.
fn too_large(headers: &HeaderMap, limit: usize) -> Option<Response> {
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (size > limit).then(|| {
        let message = format!(
            "request headers are {size} bytes, more than the limit of {limit} (limits.max_header_bytes)\n"
        );
        let mut response =
            (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message.clone()).into_response();
        response
            .extensions_mut()
            .insert(crate::access_log::Reason(message));
        response
    })
}
