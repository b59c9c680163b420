//! The HTTP surface: routes, handlers, and the one JSON error format of this API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bearer_auth::{Authenticated, BearerAuthLayer, Challenge, Verifier};
use serde_json::json;

/// The permission `GET /api/private-scope` requires, in the token's `scope` (an Auth0
/// `permissions` claim alone does not grant it: `bearer_auth::Access`).
pub(crate) const READ_PRIVATE: &str = "read:private";

/// Every non-authentication error this API answers, with its fixed wire format
/// `{"error": "…", "error_description": "…"}`. Authentication errors are
/// [`bearer_auth::Challenge`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// No such route.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "No such route"),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "The route does not accept this method",
            ),
        };
        (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    }
}

#[derive(Clone)]
struct AppState {
    verifier: Verifier,
    auth: BearerAuthLayer,
}

/// The API's router; `verifier` decides which tokens are accepted.
pub(crate) fn router(verifier: Verifier) -> Router {
    let auth = BearerAuthLayer::new(verifier.clone());
    let state = AppState {
        verifier,
        auth: auth.clone(),
    };
    let protected = Router::new()
        .route("/api/private-scope", get(private_scope))
        // route_layer, so a wrong method still gets 405 and not a challenge.
        .route_layer(auth);
    let router = Router::new()
        .route("/api/public", get(public))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(protected)
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state);
    service_kit::with_access_log(router)
}

async fn private_scope(
    State(state): State<AppState>,
    Authenticated(token): Authenticated,
) -> Response {
    let access = token.access(READ_PRIVATE);
    if !access.is_granted() {
        tracing::debug!(sub = %token.subject, ?access, "token's scope lacks read:private");
        return state
            .auth
            .challenge(Challenge::insufficient_scope(READ_PRIVATE))
            .into_response();
    }
    // What the token grants: its `scope`.
    let mut answer =
        json!({ "msg": "Hello from upstream API", "sub": token.subject, "scopes": token.scopes });
    // RFC 8693 §4.1: who called on the user's behalf (an On-Behalf-Of exchange writes it),
    // so a caller can see the delegation chain its token went through.
    if let Some(act) = token.claims.get("act") {
        answer["act"] = act.clone();
    }
    Json(answer).into_response()
}

async fn public() -> Json<serde_json::Value> {
    Json(json!({ "msg": "Hello from a public endpoint of the upstream API; no token needed" }))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.verifier.is_ready() {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reason": "signing keys not loaded" })),
        )
            .into_response()
    }
}
