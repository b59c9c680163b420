//! The start-up seam: [`App::build`] (or [`App::build_on`] with a listener bound by the
//! caller) reads the CA file, builds the verifier and the router, and binds; nothing is
//! served until [`App::run_until_stopped`]. `main.rs`, the e2e stack and the tests all start
//! the API this one way.

use std::{future::Future, io, net::SocketAddr, time::Duration};

use bearer_auth::{Issuer, Verifier, VerifierConfig};
use service_kit::{ServeError, Server};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::routes::router;

/// The flag and variable that choose the listen address, named when it cannot be bound.
const LISTEN_SETTING: &str = "--listen / UPSTREAM_API_LISTEN";

/// Why the API could not start. Each message is the one line a user needs.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address is taken or not allowed; the message names the flag.
    #[error(transparent)]
    Bind(#[from] service_kit::BindError),
    /// The listener given to [`App::build_on`] has no local address.
    #[error("upstream-api: the listener has no local address: {0}")]
    Listener(#[source] io::Error),
    /// `--ca-file` / AUTH0_CA_FILE cannot be read or holds no certificate; the message
    /// names the file.
    #[error("upstream-api: {0}")]
    CaFile(#[source] io::Error),
    /// The HTTP client for the issuer's discovery and keys could not be built.
    #[error("upstream-api: could not build the HTTP client for the issuer: {0}")]
    IssuerClient(#[source] reqwest::Error),
}

/// The upstream API, built and bound but not yet serving.
#[derive(Debug)]
pub struct App {
    server: Server,
    issuer: Issuer,
    audience: String,
}

impl App {
    /// Builds the API and binds `config.listen`.
    pub async fn build(config: Config) -> Result<App, StartError> {
        let listener = service_kit::try_bind(config.listen, "upstream-api", LISTEN_SETTING).await?;
        Self::build_on(config, listener).await
    }

    /// Builds the API on a listener the caller bound (a stack that must know every
    /// service's port before any starts); `config.listen` is not used.
    ///
    /// Key loading starts in the background: the API serves even while the IdP is down,
    /// answering 503 on `/ready` and on protected routes until keys load.
    pub async fn build_on(config: Config, listener: TcpListener) -> Result<App, StartError> {
        let verifier = verifier(&config)?;
        // Every route answers in one piece: all are bound by the request timeout.
        let router = router(verifier).layer(config.limits.request_timeout_layer());
        let server = Server::new(listener, router, config.limits).map_err(StartError::Listener)?;
        Ok(App {
            server,
            issuer: config.issuer,
            audience: config.audience,
        })
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains open connections.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        tracing::info!(
            address = %self.local_addr(),
            issuer = %self.issuer,
            audience = %self.audience,
            "upstream API listening"
        );
        self.server.run_until_stopped(shutdown).await
    }
}

/// The verifier for `config`; key loading starts in the background.
fn verifier(config: &Config) -> Result<Verifier, StartError> {
    let mut http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(service_kit::OUTBOUND_POOL_IDLE_TIMEOUT);
    if let Some(ca_file) = &config.ca_file {
        http =
            http.tls_certs_merge(service_kit::read_ca_file(ca_file).map_err(StartError::CaFile)?);
    }
    let http = http.build().map_err(StartError::IssuerClient)?;
    let mut verifier_config = VerifierConfig::new(config.issuer.clone(), config.audience.clone());
    verifier_config.leeway = config.leeway;
    verifier_config.jwks = config.jwks.clone();
    Ok(Verifier::new(verifier_config, http))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_is_refused_naming_the_flag_that_changes_it() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = Config {
            listen: taken.local_addr().unwrap(),
            ..Config::default()
        };

        let error = App::build(config).await.unwrap_err();

        assert_eq!(
            error.to_string(),
            format!(
                "upstream-api: address {} is already in use; choose another with --listen / UPSTREAM_API_LISTEN",
                taken.local_addr().unwrap()
            )
        );
    }

    #[tokio::test]
    async fn a_bad_ca_file_is_refused_at_start_naming_the_file() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = Config {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Config::default()
        };

        let error = App::build_on(config, listener).await.unwrap_err();

        assert!(matches!(error, StartError::CaFile(_)), "{error:?}");
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }

    #[tokio::test]
    async fn the_app_knows_its_address_before_it_serves() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bound = listener.local_addr().unwrap();

        let app = App::build_on(Config::default(), listener).await.unwrap();

        assert_eq!(app.local_addr(), bound);
    }
}
