//! The operational routes, for orchestrators and operators rather than MCP clients:
//! `/health` (alive), `/ready` (signing keys loaded), `/metrics` (Prometheus), plus the
//! middleware that counts responses.

use axum::{
    Router,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use bearer_auth::Verifier;

use crate::metrics::Metrics;

/// `/health`, `/ready` and `/metrics`.
pub(crate) fn routes(verifier: Verifier, metrics: Metrics) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready).with_state(verifier))
        .route("/metrics", get(metrics_text).with_state(metrics))
}

/// Counts every response by status (`mcp_http_requests_total`).
pub(crate) async fn count_status(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    metrics.http_request(response.status().as_u16());
    response
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(verifier): State<Verifier>) -> Response {
    if verifier.is_ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "signing keys not loaded yet",
        )
            .into_response()
    }
}

async fn metrics_text(State(metrics): State<Metrics>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
        .into_response()
}
