//! The operational routes, for orchestrators and operators rather than MCP clients:
//! `/health` (alive), `/ready` (signing keys loaded; a JSON body also says whether the
//! shared state is up), `/metrics` (Prometheus), plus the middleware that counts responses.

use axum::{
    Router,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use bearer_auth::Verifier;
use serde_json::json;

use crate::metrics::Metrics;
use crate::shared_state::SharedState;

/// What `/ready` looks at.
#[derive(Clone)]
struct Readiness {
    verifier: Verifier,
    shared: Option<SharedState>,
}

/// `/health`, `/ready` and `/metrics`.
pub(crate) fn routes(verifier: Verifier, metrics: Metrics, shared: Option<SharedState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(
            "/ready",
            get(ready).with_state(Readiness { verifier, shared }),
        )
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

/// 200 once the signing keys are loaded. The shared state does not decide readiness (calls
/// keep working on local state without it) but is reported: `shared_state` is `up`, `down`
/// or `disabled` (no MCP_REDIS_URL).
async fn ready(State(readiness): State<Readiness>) -> Response {
    let shared_state = match &readiness.shared {
        None => "disabled",
        Some(shared) if shared.is_up() => "up",
        Some(_) => "down",
    };
    if readiness.verifier.is_ready() {
        let body = json!({ "status": "ready", "shared_state": shared_state });
        (StatusCode::OK, axum::Json(body)).into_response()
    } else {
        let body = json!({
            "status": "unavailable",
            "reason": "signing keys not loaded yet",
            "shared_state": shared_state,
        });
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    }
}

async fn metrics_text(State(metrics): State<Metrics>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
        .into_response()
}
