//! The start-up seam: [`App::build`] (or [`App::build_on`] with a listener bound by the
//! caller) reads what start-up needs, assembles the router and binds; nothing is served
//! until [`App::run_until_stopped`]. `main.rs`, the e2e stack, the demo and the tests all
//! start the server this one way.

use std::{future::Future, io, net::SocketAddr, time::Duration};

use bearer_auth::{Verifier, VerifierConfig};
use service_kit::{ServeError, Server};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::Config;
use crate::greet::{Greeter, GreeterBuildError};
use crate::metrics::Metrics;
use crate::router::{self, Parts};
use crate::shared_state::{SharedState, SharedStateSettings};

/// How often the metrics registry drains its histograms' samples when nobody scrapes it.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The flags that choose the listen address, named when it cannot be bound.
const LISTEN_SETTING: &str = "--port / PORT (and --host / MCP_BIND_HOST)";

/// Why the server could not start. Each message is the one line a user needs.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address is taken or not allowed; the message names the flags.
    #[error(transparent)]
    Bind(#[from] service_kit::BindError),
    /// The listener given to [`App::build_on`] has no local address.
    #[error("mcp-server: the listener has no local address: {0}")]
    Listener(#[source] io::Error),
    /// `--ca-file` / AUTH0_CA_FILE cannot be read or holds no certificate; the message
    /// names the file.
    #[error("mcp-server: {0}")]
    CaFile(#[source] io::Error),
    /// The HTTP client for the issuer's discovery and keys could not be built.
    #[error("mcp-server: could not build the HTTP client for the issuer: {0}")]
    IssuerClient(#[source] reqwest::Error),
    /// The token exchange or upstream API client could not be built.
    #[error("mcp-server: {0}")]
    Greeter(#[from] GreeterBuildError),
    /// The Redis client of MCP_REDIS_URL could not be set up (Redis being down is not an
    /// error: the server starts and works on local state).
    #[error("mcp-server: MCP_REDIS_URL: {0}")]
    SharedState(#[source] redis::RedisError),
}

/// The MCP server, built and bound but not yet serving.
#[derive(Debug)]
pub struct App {
    server: Server,
    /// Cancels rmcp's sessions and open streams once shutdown begins.
    sessions: CancellationToken,
    mcp_endpoint: Url,
}

impl App {
    /// Builds the server and binds `config.listen`.
    pub async fn build(config: Config) -> Result<App, StartError> {
        let listener = service_kit::try_bind(config.listen, "mcp-server", LISTEN_SETTING).await?;
        Self::build_on(config, listener).await
    }

    /// Builds the server on a listener the caller bound (a stack that must know every
    /// service's port before any starts); `config.listen` is not used.
    ///
    /// Reads the CA file and builds the HTTP clients; makes no request (keys load in the
    /// background, the token endpoint is discovered on the first exchange).
    pub async fn build_on(config: Config, listener: TcpListener) -> Result<App, StartError> {
        config.log_effective();
        warn_if_audience_is_not_a_prefix(&config);
        let roots = config.root_certificates().map_err(StartError::CaFile)?;
        let issuer_http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .pool_idle_timeout(service_kit::OUTBOUND_POOL_IDLE_TIMEOUT)
            .tls_certs_merge(roots.iter().cloned())
            .build()
            .map_err(StartError::IssuerClient)?;
        let verifier = Verifier::new(
            VerifierConfig::new(config.issuer.clone(), config.audience.clone()),
            issuer_http.clone(),
        );
        let metrics = Metrics::new();
        metrics.spawn_upkeep(METRICS_UPKEEP_INTERVAL);
        let shared_state = config
            .redis_url
            .clone()
            .map(|url| SharedState::connect(&SharedStateSettings::new(url), &metrics))
            .transpose()
            .map_err(StartError::SharedState)?;
        let greeter = Greeter::new(&config, &roots, metrics.clone(), shared_state.as_ref())?;
        let sessions = CancellationToken::new();
        let router = router::router(
            &config,
            Parts {
                verifier,
                metrics,
                greeter: greeter.into(),
                issuer_http,
                sessions: sessions.clone(),
                shared: shared_state,
            },
        );
        let server = Server::new(listener, router, config.limits).map_err(StartError::Listener)?;
        Ok(App {
            server,
            sessions,
            mcp_endpoint: config.mcp_endpoint(),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown` resolves, then closes open MCP streams and drains.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        tracing::info!(address = %self.local_addr(), mcp = %self.mcp_endpoint, "mcp-server listening");
        let sessions = self.sessions;
        self.server
            .run_until_stopped(async move {
                shutdown.await;
                // Open MCP streams would otherwise hold graceful shutdown open forever.
                sessions.cancel();
            })
            .await
    }
}

/// MCP clients check that the protected resource is a prefix of the URL they use.
fn warn_if_audience_is_not_a_prefix(config: &Config) {
    if !config
        .mcp_endpoint()
        .as_str()
        .starts_with(config.audience.as_str())
    {
        tracing::warn!(
            audience = %config.audience,
            mcp_endpoint = %config.mcp_endpoint(),
            "AUTH0_AUDIENCE is not a prefix of the MCP endpoint URL; MCP clients will refuse the protected resource metadata"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_is_refused_naming_the_flags_that_change_it() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = Config {
            listen: taken.local_addr().unwrap(),
            ..Config::default()
        };

        let error = App::build(config).await.unwrap_err();

        assert_eq!(
            error.to_string(),
            format!(
                "mcp-server: address {} is already in use; choose another with --port / PORT (and --host / MCP_BIND_HOST)",
                taken.local_addr().unwrap()
            )
        );
    }

    #[tokio::test]
    async fn a_bad_ca_file_is_refused_at_start_naming_the_file() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = Config {
            ca_file: Some("/nonexistent/fake-auth0/ca.pem".into()),
            ..Config::default()
        };

        let error = App::build_on(config, listener).await.unwrap_err();

        assert!(matches!(error, StartError::CaFile(_)), "{error:?}");
        assert!(
            error.to_string().contains("/nonexistent/fake-auth0/ca.pem"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn the_app_knows_its_address_before_it_serves() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bound = listener.local_addr().unwrap();

        let app = App::build_on(Config::default(), listener).await.unwrap();

        assert_eq!(app.local_addr(), bound);
    }
}
