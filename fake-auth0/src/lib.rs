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

mod grants;
mod http;
mod jwt;
mod oauth;
mod state;

use std::future::Future;
use std::sync::Arc;

use axum::Router;

pub use config::{Cli, Config};
pub use model::{Tenant, TenantError, TokenExchangeProfile};
pub use state::DataDirError;

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

    let app = http::routes(state, initial_tenant);
    Ok(app)
}
