//! The `greet` tool's logic: exchange the caller's token, call the upstream API with the
//! exchanged one, and greet the caller with what the upstream API said.
//!
//! This is the quickstart's point: the MCP server acts on the user's behalf towards
//! another API without ever forwarding the token it received. The inbound token goes to
//! the IdP's token endpoint as `subject_token` and nowhere else; the upstream API only
//! ever sees the exchanged token, whose audience is itself.
//!
//! Who is greeted: the `name` argument if given (trimmed, at most 100 characters), else the token's `name` claim, else its `email` claim, else "there"
//! (Auth0 access tokens carry neither claim unless an Action adds them, so "Hello, there
//! (auth0|…)!" is the usual answer without an argument). The `sub` is always shown, since
//! it is what the upstream API identified.

use bearer_auth::VerifiedToken;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::exchange::{ExchangeConfig, ExchangeError, ExchangeGrant, TokenExchanger};
use crate::metrics::Metrics;
use crate::shared_state::SharedState;
use crate::upstream::{UpstreamBuildError, UpstreamClient, UpstreamConfig, UpstreamError};

/// The longest name `greet` repeats back.
const MAX_NAME_CHARS: usize = 100;

/// The `greet` tool's structured result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GreetOutput {
    /// The greeting, `Hello, <name> (<sub>)!`.
    pub message: String,
    /// The caller's user id (`sub`).
    pub subject: String,
    /// The upstream API's JSON answer to `GET /api/private-scope`, fetched with the
    /// exchanged token.
    pub upstream: serde_json::Value,
}

/// Why `greet` failed; the text is shown to the user as the tool's error and never holds
/// a token or a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GreetError {
    /// The token exchange at the IdP failed.
    #[error("greet could not get a token for the upstream API: {0}")]
    Exchange(#[from] ExchangeError),
    /// The upstream API call failed.
    #[error("greet could not call the upstream API: {0}")]
    Upstream(#[from] UpstreamError),
}

/// Why a [`Greeter`] could not be built (at start-up).
#[derive(Debug, thiserror::Error)]
pub enum GreeterBuildError {
    /// The token exchange's HTTP client could not be built.
    #[error("could not build the token exchange's HTTP client: {0}")]
    Exchanger(#[source] reqwest::Error),
    /// The upstream API client could not be built.
    #[error(transparent)]
    Upstream(#[from] UpstreamBuildError),
}

/// Runs `greet`. Send + Sync; cheap to clone.
#[derive(Clone, Debug)]
pub struct Greeter {
    exchanger: TokenExchanger,
    upstream: UpstreamClient,
}

impl Greeter {
    /// Builds the exchanger and the upstream client from the server's configuration, trusting
    /// `root_certificates` besides the system's (the `--ca-file`, read once at start), with
    /// the exchange cache's shared tier on `shared_state` when given; makes no request yet
    /// (the IdP's discovery document is fetched on the first `greet`).
    pub fn new(
        config: &Config,
        root_certificates: &[reqwest::Certificate],
        metrics: Metrics,
        shared_state: Option<&SharedState>,
    ) -> Result<Greeter, GreeterBuildError> {
        let grant = ExchangeGrant {
            mode: config.exchange_mode.clone(),
            audience: config.api_audience.clone(),
            scope: Some(config.exchange_scope.trim().to_owned()),
        }
        .without_empty_scope();
        let mut exchange = ExchangeConfig::new(
            config.issuer.clone(),
            config.client_id.clone(),
            config.client_secret.clone(),
            grant,
        );
        exchange.connect_timeout = config.exchange_connect_timeout;
        exchange.timeout = config.exchange_timeout;
        exchange.cache_capacity = config.exchange_cache_capacity;
        exchange.root_certificates = root_certificates.to_vec();
        exchange.shared_state = shared_state.cloned();
        let mut upstream = UpstreamConfig::new(config.api_base_url.clone());
        upstream.timeout = config.upstream_timeout;
        upstream.root_certificates = root_certificates.to_vec();
        Ok(Greeter {
            exchanger: TokenExchanger::new(exchange, metrics.clone())
                .map_err(GreeterBuildError::Exchanger)?,
            upstream: UpstreamClient::new(&upstream, metrics)?,
        })
    }

    /// A greeter from parts built elsewhere (tests, benchmarks).
    pub fn from_parts(exchanger: TokenExchanger, upstream: UpstreamClient) -> Greeter {
        Greeter {
            exchanger,
            upstream,
        }
    }

    /// The token exchanger (and its cache).
    pub fn exchanger(&self) -> &TokenExchanger {
        &self.exchanger
    }

    /// Greets `caller`: exchanges `subject_token` (the caller's raw bearer token, already
    /// verified into `caller`) and calls the upstream API with the result.
    pub async fn greet(
        &self,
        caller: &VerifiedToken,
        subject_token: &str,
        name: Option<String>,
    ) -> Result<GreetOutput, GreetError> {
        let exchanged = self
            .exchanger
            .exchange(subject_token, caller.expires_at)
            .await?;
        let upstream = self.upstream.private_scope(&exchanged.access_token).await?;
        let name = display_name(name.as_deref(), caller);
        Ok(GreetOutput {
            message: format!("Hello, {name} ({})!", caller.subject),
            subject: caller.subject.clone(),
            upstream,
        })
    }
}

/// The name to greet: see the module documentation.
fn display_name(requested: Option<&str>, caller: &VerifiedToken) -> String {
    let claim = |name: &str| caller.claims.get(name).and_then(serde_json::Value::as_str);
    [requested, claim("name"), claim("email")]
        .into_iter()
        .flatten()
        .map(clean)
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "there".to_owned())
}

/// Trims, drops control characters and bounds the length of a name we echo.
fn clean(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_cleaned() {
        assert_eq!(clean("  Ada  "), "Ada");
        assert_eq!(clean("A\u{7}da\n"), "Ada");
        assert_eq!(clean(&"n".repeat(500)).chars().count(), MAX_NAME_CHARS);
        assert_eq!(clean("   "), "");
    }
}
