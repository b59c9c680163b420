//! The demo's upstream API: the first-party API the MCP server calls on a user's behalf
//! after Custom Token Exchange.
//!
//! It accepts only tokens its tenant issued for *its own* audience (`API_AUTH0_AUDIENCE`),
//! so a token passed through from the MCP server (audience `http://localhost:3001/`) is
//! refused with 401: the exchange is the only way in. Token rules and challenges come from
//! [`bearer_auth`].
//!
//! # Routes
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /api/private-scope` | bearer token with `read:private` in `scope` or `permissions` | `{"msg": "Hello from upstream API", "sub": …, "scopes": […]}` |
//! | `GET /api/public` | none | `{"msg": …}` |
//! | `GET /health` | none | 200 `{"status": "ok"}` while the process runs |
//! | `GET /ready` | none | 200 once signing keys are loaded, else 503 |
//!
//! Unknown routes answer 404 and wrong methods 405, both as JSON.
//!
//! # Layout
//!
//! - `config`: [`Cli`] (flags and environment) and the typed [`Config`].
//! - `routes`: the router, handlers and the [`ApiError`] wire format.

mod config;
mod routes;

use std::future::Future;

use bearer_auth::{Verifier, VerifierConfig};

pub use config::{Cli, Command, Config};
pub use routes::{ApiError, READ_PRIVATE, router};
pub use service_kit::LogFormat;

/// Builds the verifier for `config`; key loading starts in the background.
pub fn verifier(config: &Config) -> anyhow::Result<Verifier> {
    let mut http = reqwest::Client::builder().connect_timeout(std::time::Duration::from_secs(2));
    if let Some(ca_file) = &config.ca_file {
        http = http.tls_certs_merge(service_kit::read_ca_file(ca_file)?);
    }
    let http = http.build()?;
    let mut verifier_config = VerifierConfig::new(config.issuer.clone(), config.audience.clone());
    verifier_config.leeway = config.leeway;
    verifier_config.jwks = config.jwks.clone();
    Ok(Verifier::new(verifier_config, http))
}

/// Serves the API on `listener` until `shutdown` resolves.
///
/// Returns at once with the server running even if the IdP is down: `/ready` answers 503
/// and protected routes 503 until keys load.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let verifier = verifier(&config)?;
    service_kit::serve(listener, router(verifier), shutdown).await?;
    Ok(())
}
