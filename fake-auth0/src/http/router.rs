//! Every route of the tenant at Auth0's paths, with the layers they share: CORS on the
//! routes browser-based clients call cross-origin, the body size limit, and the access log
//! (`service_kit::with_access_log`: off by default; it names the endpoint and never the
//! query string or body, which may hold codes, secrets or tokens).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use http::Method;
use tower_http::cors::{Any, CorsLayer};

use super::body::MAX_BODY_BYTES;
use super::control::ControlToken;
use super::{authorize, control, discovery, logout, management, register, revoke, token, userinfo};
use crate::model::Tenant;
use crate::state::AppState;

/// The application: every endpoint over `state`. With `control` (the tenant as loaded at
/// start, what a reset goes back to, and the token control calls must carry) the test
/// control surface is served too.
pub(crate) fn routes(state: Arc<AppState>, control: Option<(Tenant, ControlToken)>) -> Router {
    // Browser-based clients (MCP Inspector) call these cross-origin; none uses cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(Any);
    let cross_origin = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server_metadata),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/oauth/token", post(token::token))
        .route("/oidc/register", post(register::register))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .layer(cors);
    let router = Router::new()
        .route("/authorize", get(authorize::authorize))
        .route(
            "/u/login",
            get(authorize::login_form).post(authorize::login),
        )
        .route("/u/consent", post(authorize::consent))
        .route("/oauth/revoke", post(revoke::revoke))
        .route("/v2/logout", get(logout::logout))
        .route("/health", get(|| async { "OK" }))
        .nest("/api/v2", management::router())
        .merge(cross_origin)
        .merge(match control {
            Some((initial, token)) => control::router(Arc::clone(&state), initial, token),
            None => Router::new(),
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    service_kit::with_access_log(router.with_state(state))
}
