//! [`Node`]: a running node's parts, and the axum router that puts the surfaces together
//! behind the front door.

use axum::Router;
use axum::routing::get;
use pixelway_api::App;
use pixelway_control::Control;
use pixelway_delivery::Delivery;
use pixelway_delivery::edge::Edge;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

/// A running node: the control plane, the delivery state, and what the management API and
/// the dashboard share.
pub struct Node {
    pub control: Arc<Control>,
    pub delivery: Arc<Delivery>,
    pub app: Arc<App>,
}

impl Node {
    pub fn new(control: Arc<Control>, delivery: Arc<Delivery>) -> Self {
        let app = Arc::new(App::new(Arc::clone(&control), Arc::clone(&delivery)));
        Self {
            control,
            delivery,
            app,
        }
    }

    /// The front door of this node: delivery first, the router behind it.
    pub fn edge(&self) -> Edge {
        Edge::new(Arc::clone(&self.delivery), router(self), for_router)
    }
}

/// The first path segments the router answers (besides delivery, its fallback): health checks,
/// the management API and its document, the metrics, the dashboard and `/`. Any other path is
/// a delivery URL, which the edge hands to delivery without the router. Keep in step with the
/// routes below and in `pixelway_api` and `pixelway_dashboard` (a test checks every route of the
/// OpenAPI document against it, and the account ids the validator reserves).
pub const ROUTER_SEGMENTS: &[&str] = &[
    "",
    "api",
    "dashboard",
    "healthz",
    "metrics",
    "openapi.json",
    "readyz",
    "v1",
];

/// Whether the router may answer `path` with something other than delivery.
pub fn for_router(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ROUTER_SEGMENTS.contains(&first)
}

/// The HTTP surface behind the edge: health checks, the management API and the dashboard (on
/// public hosts), then delivery for every other path; request size limits in front of
/// everything.
pub fn router(node: &Node) -> Router {
    let max_request_body = node.delivery.settings.max_request_body;
    let control = Arc::clone(&node.control);
    let health = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let control = Arc::clone(&control);
                async move {
                    let (ready, text) = control.readiness().report();
                    let status = match ready {
                        true => axum::http::StatusCode::OK,
                        false => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    };
                    (status, text)
                }
            }),
        );
    let surfaces = Router::new()
        .merge(pixelway_api::router(Arc::clone(&node.app)))
        .merge(pixelway_dashboard::router(Arc::clone(&node.app)))
        .with_state(Arc::clone(&node.app));
    let delivery = Router::new()
        .fallback(pixelway_delivery::deliver)
        .with_state(Arc::clone(&node.delivery));
    // Uploads have their own body limit; everything else the general one.
    let limited = health
        .merge(surfaces)
        .merge(delivery)
        .layer(RequestBodyLimitLayer::new(max_request_body));
    Router::new()
        .merge(pixelway_api::upload_router(Arc::clone(&node.app)).with_state(Arc::clone(&node.app)))
        .merge(limited)
}

#[cfg(test)]
mod tests {
    use super::{ROUTER_SEGMENTS, for_router};

    #[test]
    fn only_the_router_s_own_first_segments_go_to_it() {
        for path in [
            "/",
            "/healthz",
            "/readyz",
            "/v1/files",
            "/api/v1/files/upload",
            "/openapi.json",
            "/metrics",
            "/dashboard",
            "/dashboard/endpoints/3",
        ] {
            assert!(for_router(path), "{path}");
        }
        for path in [
            "/demo/a.jpg",
            "/demo/tr:w-10/a.jpg",
            "/healthz2/a.jpg",
            "/v1x/a.jpg",
            "/dashboards/a.jpg",
        ] {
            assert!(!for_router(path), "{path}");
        }
    }

    #[test]
    fn every_management_api_route_goes_to_the_router() {
        use utoipa::OpenApi;
        let document = pixelway_api::openapi::ApiDoc::openapi();
        assert!(document.paths.paths.contains_key("/api/v1/files/upload"));
        assert!(document.paths.paths.len() > 20);
        for path in document.paths.paths.keys() {
            assert!(for_router(path), "{path} would be taken for a delivery URL");
        }
    }

    /// No account id can shadow a path the router answers: the validator reserves each of the
    /// router's first segments.
    #[test]
    fn every_router_segment_is_a_reserved_account_id() {
        for segment in ROUTER_SEGMENTS.iter().filter(|s| !s.is_empty()) {
            assert!(
                pixelway_control::validate::account_id(segment).is_err(),
                "{segment} could be taken by an account"
            );
        }
    }
}
