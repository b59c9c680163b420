//! fake-auth0: a local, offline Auth0 tenant for development and tests.
//!
//! FOR DEVELOPMENT AND TESTING ONLY. It issues real RS256 tokens from a key generated at
//! start, to users and clients of a tenant file, at Auth0's paths, so that OAuth clients,
//! Auth0 SDKs and resource servers work against it unchanged.
//!
//! # Layout
//! - [`tenant`]: the tenant model (Auth0 Management API shapes), file loading, the demo.
//! - `keys`, `tokens`: the signing key, JWKS, minting and verifying tokens.
//! - `authorize`: `/authorize`, the login and consent pages.
//! - `token`: `/oauth/token` and its grants; `token_exchange`: Custom Token Exchange.
//! - `register`, `userinfo`, `revoke`, `logout`, `discovery`: the other endpoints.
//! - `management`: the quickstart's subset of the Management API under `/api/v2/`.
//! - `state`, `store`, `clock`, `params`, `client_auth`, `oauth_error`: shared plumbing.

pub mod config;
pub mod keys;
pub mod model;
pub mod tls;

mod authorize;
mod control;
mod discovery;
mod grants;
mod jwt;
mod logout;
mod management;
mod oauth;
mod register;
mod revoke;
mod state;
mod token;
mod userinfo;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use http::Method;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

pub use config::{Cli, Config};
pub use model::{Tenant, TenantError, TokenExchangeProfile};
pub use state::DataDirError;

/// The largest request body accepted; OAuth requests are small.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Serves the tenant on an already-bound listener until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // With --tls: the CA is made (or loaded) and the server certificate signed first.
    let tls = match &config.tls {
        Some(settings) => Some(settings.server(&config::normalize_issuer(config.issuer.clone()))?),
        None => None,
    };
    let app = router(config)?;
    match tls {
        Some(tls) => tls.serve(listener, app, shutdown).await?,
        None => serve_router(app, listener, shutdown).await?,
    }
    Ok(())
}

/// Serves an application built by [`router`] (split from [`serve`] so the binary can log
/// when the key is ready).
pub async fn serve_router(
    app: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    service_kit::serve(listener, app, shutdown).await?;
    Ok(())
}

/// Builds the application: generates the key and wires every endpoint.
pub fn router(config: Config) -> anyhow::Result<Router> {
    let issuer = config::normalize_issuer(config.issuer);
    let mut tenant = config.tenant;
    tenant.rebase_management_api(&issuer);
    // What a control reset goes back to.
    let initial_tenant = config.control.then(|| tenant.clone());
    let state = Arc::new(state::AppState::open(
        issuer.to_string(),
        tenant,
        config.data_dir.as_deref(),
    )?);
    if let Some(every) = config.rotate_every {
        state.spawn_scheduled_rotation(every);
    }

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
    let app = Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/u/login", post(authorize::login))
        .route("/u/consent", post(authorize::consent))
        .route("/oauth/revoke", post(revoke::revoke))
        .route("/v2/logout", get(logout::logout))
        .route("/health", get(|| async { "OK" }))
        .nest("/api/v2", management::router())
        .merge(cross_origin)
        .merge(match initial_tenant {
            Some(initial) => control::router(Arc::clone(&state), initial),
            None => Router::new(),
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // The span names the endpoint, never the query string or body, which may hold
        // codes, secrets or tokens.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &http::Request<_>| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path()
                )
            }),
        )
        .with_state(state);
    Ok(app)
}
