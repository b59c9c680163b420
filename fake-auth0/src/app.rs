//! Start-up: from a [`Config`] to an [`App`] that is built and bound but not yet serving,
//! then serving it until shutdown. The binary, the e2e stack, tests and benchmarks all
//! start fake-auth0 through here, so they start the same server.
//!
//! Building does everything that can fail for a reason the user must fix, in the order the
//! binary reports it: bind the listen address, set up TLS (the local CA and the server
//! certificate), open the state (the data dir's database, the signing keys). Each failure
//! is one [`StartError`] with a one-line message saying what to change. Serving, graceful
//! shutdown and the bind message come from `service-kit`, as for the other services.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use url::Url;

use crate::config::{Config, normalize_issuer};
use crate::http::ControlToken;
use crate::model::TenantError;
use crate::state::{AppState, ClientMetadataFetcher, DataDirError, OpenError};
use crate::tls::TlsServer;

/// The flag and environment variable that choose the listen address, for the message
/// when it cannot be bound.
const LISTEN_SETTING: &str = "--listen / FAKE_AUTH0_LISTEN";

/// Why fake-auth0 did not start. Each message is one line that names what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address cannot be bound; the message names the flag that changes it.
    #[error("{0}")]
    Bind(#[source] std::io::Error),
    /// The tenant file cannot be loaded; the message names the file and the path inside it.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The data dir cannot be used; the message names the file and what to do.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The local CA or the server certificate cannot be set up (`--tls`).
    #[error("{0}")]
    Tls(#[source] anyhow::Error),
    /// The signing keys cannot be generated or stored.
    #[error("{0}")]
    Keys(#[source] anyhow::Error),
    /// The HTTP client that fetches Client ID Metadata Documents cannot be built.
    #[error("cannot set up fetching client metadata documents: {0}")]
    ClientMetadata(#[source] anyhow::Error),
    /// The generated control token cannot be written for the operator.
    #[error("{0}")]
    ControlToken(#[source] anyhow::Error),
}

impl StartError {
    /// The binary's exit status: 2 for a configuration the user must fix (the tenant file,
    /// the data dir), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Tenant(_) | Self::DataDir(_) => 2,
            Self::Bind(_)
            | Self::Tls(_)
            | Self::Keys(_)
            | Self::ClientMetadata(_)
            | Self::ControlToken(_) => 1,
        }
    }
}

impl From<OpenError> for StartError {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::DataDir(error) => Self::DataDir(error),
            OpenError::Keys(error) => Self::Keys(error),
        }
    }
}

/// Why a started fake-auth0 stopped serving before it was asked to: service-kit's, as for
/// every service, so `service_kit::serve_until_signal` ends its `main` too.
pub use service_kit::ServeError;

/// fake-auth0, built and bound, not yet serving.
pub struct App {
    listener: TcpListener,
    local_addr: SocketAddr,
    issuer: Url,
    router: Router,
    tls: Option<TlsServer>,
    control_token: Option<ControlToken>,
    limits: service_kit::ServerLimits,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("local_addr", &self.local_addr)
            .field("issuer", &self.issuer.as_str())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Binds `config.listen` and builds the tenant on it.
    pub async fn build(config: Config) -> Result<App, StartError> {
        let listener = service_kit::bind(config.listen, "fake-auth0", LISTEN_SETTING)
            .await
            .map_err(StartError::Bind)?;
        Self::build_on(config, listener).await
    }

    /// Builds the tenant on a listener the caller bound, for a caller that must know every
    /// port before it can configure any service (the stack that wires the three together).
    /// `config.listen` is not used.
    pub async fn build_on(mut config: Config, listener: TcpListener) -> Result<App, StartError> {
        let local_addr = listener.local_addr().map_err(StartError::Bind)?;
        if config.control && config.control_token.is_none() {
            config.control_token = Some(ControlToken::generate());
        }
        let control_token = config.control_token.clone().filter(|_| config.control);
        let issuer = normalize_issuer(config.issuer.clone());
        // With --tls: the CA is made (or loaded) and the server certificate signed first.
        let tls = match &config.tls {
            Some(settings) => Some(settings.server(&issuer).map_err(StartError::Tls)?),
            None => None,
        };
        // The loopback exception of metadata document fetches depends on where this
        // server really listens.
        config.listen = local_addr;
        let limits = config.limits;
        let router = router(config)?;
        Ok(App {
            listener,
            local_addr,
            issuer,
            router,
            tls,
            control_token,
            limits,
        })
    }

    /// The address the server is bound to (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The issuer identifier tokens carry, with its trailing slash.
    pub fn issuer(&self) -> &Url {
        &self.issuer
    }

    /// With `--tls`, the CA certificate clients must trust.
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(TlsServer::ca_file)
    }

    /// With the control surface on, the token its calls must carry (the configured one, or
    /// the one generated at start-up).
    pub fn control_token(&self) -> Option<&ControlToken> {
        self.control_token.as_ref()
    }

    /// Writes the control token to `path`, readable by its owner only, for the operator
    /// who started the binary (the secret itself is never logged).
    pub fn write_control_token(&self, path: &Path) -> Result<(), StartError> {
        let token = self.control_token.as_ref().ok_or_else(|| {
            StartError::ControlToken(anyhow::anyhow!("the control surface is off"))
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|error| {
                StartError::ControlToken(anyhow::anyhow!(
                    "cannot create {} for the control token: {error}",
                    dir.display()
                ))
            })?;
        }
        crate::tls::write_private(path, &format!("{}\n", token.expose()))
            .map_err(StartError::ControlToken)
    }

    /// Serves until `shutdown` resolves, then drains open connections.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        match self.tls {
            Some(tls) => {
                tls.serve_within(self.listener, self.router, self.limits, shutdown)
                    .await?;
            }
            None => service_kit::serve(self.listener, self.router, self.limits, shutdown).await?,
        }
        Ok(())
    }
}

/// The application without a socket, for callers that drive it in process (`oneshot`):
/// the state is opened and every endpoint wired, as [`App::build`] does.
pub fn router(config: Config) -> Result<Router, StartError> {
    let issuer = normalize_issuer(config.issuer);
    let mut tenant = config.tenant;
    tenant.rebase_management_api(&issuer);
    // What a control reset goes back to, and the token control calls carry.
    let control = config.control.then(|| {
        let token = config
            .control_token
            .clone()
            .unwrap_or_else(ControlToken::generate);
        (tenant.clone(), token)
    });
    let state = Arc::new(AppState::open(
        issuer.to_string(),
        tenant,
        config.data_dir.as_deref(),
        config.max_registrations,
        client_metadata_fetcher(
            config.listen,
            config.tls.as_ref(),
            config.ca_file.as_deref(),
        )?,
    )?);
    if let Some(every) = config.rotate_every {
        state.spawn_scheduled_rotation(every);
    }
    // Every route answers in one piece: all are bound by the request timeout.
    Ok(crate::http::routes(state, control).layer(config.limits.request_timeout_layer()))
}

/// The metadata document fetcher: it may reach the loopback address this server listens
/// on (the draft's one exception), and trusts the `--tls` CA and `--ca-file` besides the
/// system's roots so that documents served by local test servers can be fetched.
fn client_metadata_fetcher(
    listen: SocketAddr,
    tls: Option<&crate::tls::TlsSettings>,
    ca_file: Option<&Path>,
) -> Result<ClientMetadataFetcher, StartError> {
    let own_loopback = Some(listen.ip()).filter(std::net::IpAddr::is_loopback);
    let mut roots = Vec::new();
    if let Some(tls) = tls {
        let ca_file = tls.ensure_ca().map_err(StartError::Tls)?;
        roots.extend(service_kit::read_ca_file(&ca_file).map_err(|e| StartError::Tls(e.into()))?);
    }
    if let Some(ca_file) = ca_file {
        roots.extend(
            service_kit::read_ca_file(ca_file).map_err(|e| StartError::ClientMetadata(e.into()))?,
        );
    }
    ClientMetadataFetcher::new(own_loopback, roots).map_err(StartError::ClientMetadata)
}

/// Builds on `listener` and serves until `shutdown` resolves: [`App::build_on`], then
/// [`App::run_until_stopped`]. For the tests of other crates that start a tenant in a
/// task.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    App::build_on(config, listener)
        .await?
        .run_until_stopped(shutdown)
        .await?;
    Ok(())
}
