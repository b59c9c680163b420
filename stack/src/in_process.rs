//! [`TestStack`]: fake-auth0, upstream-api and mcp-server in this process, each configured with
//! the others' real URLs — the one place that knows how the three are wired together in
//! process ([`crate::process::ProcessStack`] is the same wiring for the built binaries).
//!
//! Tests start it on three listeners bound to `127.0.0.1:0`; the root `demo` binary starts it
//! on the contract's ports (:4000, :8787, :3001) with `localhost` URLs. Every service starts
//! through its own `App::build_on(config, listener)` and `run_until_stopped`, the seam its
//! binary uses, so a journey here is a journey through the real code.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use contract::DemoUser;
use service_kit::BindError;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use crate::mcp::{SessionClient, StatelessMcp, connect_session};
use crate::readiness;
use crate::tokens::{self, MCP_SCOPE};

/// The three bound listeners a stack serves on.
#[derive(Debug)]
pub struct Listeners {
    /// fake-auth0's.
    pub idp: TcpListener,
    /// upstream-api's.
    pub upstream: TcpListener,
    /// mcp-server's.
    pub mcp: TcpListener,
}

/// Where one service of the stack listens, and the setting that changes it (named by the
/// one-line [`BindError`] when the address is taken).
#[derive(Debug, Clone, Copy)]
pub struct ListenOn<'a> {
    /// The address to bind.
    pub addr: SocketAddr,
    /// The flag or variable that chooses it, e.g. `--idp-port / DEMO_IDP_PORT`.
    pub setting: &'a str,
}

impl Listeners {
    /// Three listeners on free ports of 127.0.0.1 (tests).
    pub async fn ephemeral() -> anyhow::Result<Self> {
        let any = ListenOn {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            setting: "a free port",
        };
        Ok(Self::bind(any, any, any).await?)
    }

    /// Three listeners on the given addresses, through service-kit's `try_bind`: the error is
    /// the one line naming the service, the address and the setting that changes it.
    pub async fn bind(
        idp: ListenOn<'_>,
        upstream: ListenOn<'_>,
        mcp: ListenOn<'_>,
    ) -> Result<Self, BindError> {
        let one = |service: &'static str, at: ListenOn<'_>| {
            let setting = at.setting.to_owned();
            async move { service_kit::try_bind(at.addr, service, &setting).await }
        };
        Ok(Self {
            idp: one("fake-auth0", idp).await?,
            upstream: one("upstream-api", upstream).await?,
            mcp: one("mcp-server", mcp).await?,
        })
    }
}

type McpTweak = Box<dyn FnOnce(&mut mcp_server::Config) + Send>;
type IdpTweak = Box<dyn FnOnce(&mut fake_auth0::Config) + Send>;

/// How to start a [`TestStack`]: listeners, the host name in public URLs, config tweaks.
pub struct StackBuilder {
    listeners: Option<Listeners>,
    public_host: String,
    tls_dir: Option<PathBuf>,
    mcp_tweak: Option<McpTweak>,
    idp_tweak: Option<IdpTweak>,
    limits: service_kit::ServerLimits,
}

impl std::fmt::Debug for StackBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackBuilder")
            .field("listeners", &self.listeners)
            .field("public_host", &self.public_host)
            .field("tls_dir", &self.tls_dir)
            .finish_non_exhaustive()
    }
}

impl Default for StackBuilder {
    fn default() -> Self {
        Self {
            listeners: None,
            public_host: "127.0.0.1".to_owned(),
            tls_dir: None,
            mcp_tweak: None,
            idp_tweak: None,
            limits: service_kit::ServerLimits::default(),
        }
    }
}

impl StackBuilder {
    /// Serve on these listeners instead of three free ports of 127.0.0.1.
    #[must_use]
    pub fn listeners(mut self, listeners: Listeners) -> Self {
        self.listeners = Some(listeners);
        self
    }

    /// The host name in the services' public URLs (issuer, API identifiers): `127.0.0.1` for
    /// tests, `localhost` for the demo, as in the contract.
    #[must_use]
    pub fn public_host(mut self, host: impl Into<String>) -> Self {
        self.public_host = host.into();
        self
    }

    /// Serves fake-auth0 over HTTPS (`--tls`) with a local CA kept in `dir`; the two resource
    /// servers and [`TestStack::http`] trust its `ca.pem` (`--ca-file`), as a user would set
    /// them up. The certificate names `localhost`, `127.0.0.1` and `::1`.
    #[must_use]
    pub fn tls(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tls_dir = Some(dir.into());
        self
    }

    /// Serves all three services within these limits (e.g. 1 s timeouts for the hostile
    /// client journeys) instead of the defaults.
    #[must_use]
    pub fn server_limits(mut self, limits: service_kit::ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Adjusts the MCP server's configuration after the stack filled in the URLs
    /// (e.g. shorter timeouts for failure journeys).
    #[must_use]
    pub fn mcp_config(
        mut self,
        tweak: impl FnOnce(&mut mcp_server::Config) + Send + 'static,
    ) -> Self {
        self.mcp_tweak = Some(Box::new(tweak));
        self
    }

    /// Adjusts fake-auth0's configuration after the stack filled in the URLs (e.g. a CA
    /// to trust for Client ID Metadata Documents).
    #[must_use]
    pub fn idp_config(
        mut self,
        tweak: impl FnOnce(&mut fake_auth0::Config) + Send + 'static,
    ) -> Self {
        self.idp_tweak = Some(Box::new(tweak));
        self
    }

    /// Starts the three services and waits until each answers `/health` (and the two
    /// resource servers have loaded the IdP's keys).
    pub async fn start(self) -> anyhow::Result<TestStack> {
        let listeners = match self.listeners {
            Some(listeners) => listeners,
            None => Listeners::ephemeral().await?,
        };
        let url_for = |scheme: &str, listener: &TcpListener| -> anyhow::Result<Url> {
            let port = listener.local_addr()?.port();
            Url::parse(&format!("{scheme}://{}:{port}/", self.public_host))
                .context("building a service URL")
        };
        let tls = self.tls_dir.map(|dir| fake_auth0::tls::TlsSettings { dir });
        let ca_file = match &tls {
            Some(tls) => Some(tls.ensure_ca().context("making fake-auth0's local CA")?),
            None => None,
        };
        let idp_url = url_for(if tls.is_some() { "https" } else { "http" }, &listeners.idp)?;
        let upstream_url = url_for("http", &listeners.upstream)?;
        let mcp_url = url_for("http", &listeners.mcp)?;

        let mut idp_config = fake_auth0::Config {
            tenant: fake_auth0::Tenant::demo_for(mcp_url.as_str(), upstream_url.as_str()),
            tls,
            limits: self.limits,
            ..fake_auth0::Config::default()
        }
        .with_issuer(idp_url.clone());
        if let Some(tweak) = self.idp_tweak {
            tweak(&mut idp_config);
        }

        let issuer = bearer_auth::Issuer::from_auth0_domain(idp_url.as_str())
            .map_err(|e| anyhow!("issuer {idp_url}: {e}"))?;
        let upstream_config = upstream_api::Config {
            issuer: issuer.clone(),
            audience: upstream_url.to_string(),
            listen: listeners.upstream.local_addr()?,
            ca_file: ca_file.clone(),
            limits: self.limits,
            ..upstream_api::Config::default()
        };

        let mut mcp_config = mcp_server::Config {
            listen: listeners.mcp.local_addr()?,
            issuer,
            audience: mcp_url.to_string(),
            server_url: mcp_url.clone(),
            api_audience: upstream_url.to_string(),
            api_base_url: upstream_url.clone(),
            ca_file: ca_file.clone(),
            limits: self.limits,
            ..mcp_server::Config::default()
        };
        if let Some(tweak) = self.mcp_tweak {
            tweak(&mut mcp_config);
        }
        let replica_config = mcp_config.clone();

        let idp_addr = listeners.idp.local_addr()?;
        let idp_restart = IdpRestart {
            addr: idp_addr,
            config: idp_config.clone(),
        };
        let idp_app = fake_auth0::App::build_on(idp_config, listeners.idp)
            .await
            .context("starting fake-auth0")?;
        let idp = spawn_idp(idp_app);
        let upstream = Service::spawn("upstream-api", |shutdown| {
            Box::pin(async move {
                upstream_api::App::build_on(upstream_config, listeners.upstream)
                    .await?
                    .run_until_stopped(shutdown)
                    .await?;
                Ok(())
            })
        });
        let mcp = Service::spawn("mcp-server", |shutdown| {
            Box::pin(async move {
                mcp_server::App::build_on(mcp_config, listeners.mcp)
                    .await?
                    .run_until_stopped(shutdown)
                    .await?;
                Ok(())
            })
        });

        let mut http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ca_file) = &ca_file {
            http = http.tls_certs_merge(service_kit::read_ca_file(ca_file)?);
        }
        let http = http.build().context("building the test HTTP client")?;
        let stack = TestStack {
            idp_url,
            ca_file,
            upstream_url,
            mcp_url,
            http,
            mcp_config: replica_config,
            idp: Some(idp),
            idp_restart,
            upstream: Some(upstream),
            mcp: Some(mcp),
        };
        stack.wait_ready(Duration::from_secs(30)).await?;
        Ok(stack)
    }
}

type ServeFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// fake-auth0 serving in a task of the stack.
fn spawn_idp(app: fake_auth0::App) -> Service {
    Service::spawn("fake-auth0", |shutdown| {
        Box::pin(async move { Ok(app.run_until_stopped(shutdown).await?) })
    })
}

/// What it takes to start fake-auth0 again where it was ([`TestStack::restart_idp`]).
#[derive(Debug)]
struct IdpRestart {
    addr: SocketAddr,
    config: fake_auth0::Config,
}

/// One service task with the sender that stops it.
#[derive(Debug)]
struct Service {
    name: &'static str,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Service {
    fn spawn(
        name: &'static str,
        serve: impl FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> ServeFuture,
    ) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        // A dropped sender also stops the service, so a panicking test leaks no server.
        let shutdown: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            let _ = rx.await;
        });
        let task = tokio::spawn(serve(shutdown));
        Self {
            name,
            shutdown: Some(tx),
            task,
        }
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(Duration::from_secs(10), &mut self.task).await {
            Ok(joined) => joined
                .with_context(|| format!("{} panicked", self.name))?
                .with_context(|| format!("{} failed", self.name)),
            Err(_) => {
                self.task.abort();
                bail!(
                    "{} did not stop within 10 s of its shutdown signal",
                    self.name
                )
            }
        }
    }
}

/// The three services running in this process. Dropping it stops them.
#[derive(Debug)]
pub struct TestStack {
    /// fake-auth0's issuer, e.g. `http://127.0.0.1:PORT/`.
    pub idp_url: Url,
    /// upstream-api's base URL, also its API identifier.
    pub upstream_url: Url,
    /// mcp-server's base URL, also its API identifier (the protected resource).
    pub mcp_url: Url,
    /// The CA certificate to trust for fake-auth0, when it serves HTTPS ([`StackBuilder::tls`]).
    pub ca_file: Option<PathBuf>,
    http: reqwest::Client,
    /// The MCP server's configuration, which [`TestStack::start_mcp_replica`] repeats.
    mcp_config: mcp_server::Config,
    idp: Option<Service>,
    idp_restart: IdpRestart,
    upstream: Option<Service>,
    mcp: Option<Service>,
}

/// One more mcp-server in this process, configured like the stack's (same audience and
/// public URL, same IdP and upstream, same MCP_REDIS_URL) on a port of its own: a replica
/// behind a load balancer. Dropping it stops it.
#[derive(Debug)]
pub struct McpReplica {
    /// Where this replica listens, e.g. `http://127.0.0.1:PORT/`.
    pub url: Url,
    service: Service,
}

impl McpReplica {
    /// This replica's MCP endpoint.
    pub fn mcp_endpoint(&self) -> Url {
        self.url.join("mcp").expect("a relative path joins")
    }

    /// Stops the replica (what a rolling restart does to it).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.service.stop().await
    }
}

impl TestStack {
    /// Starts a stack on three free ports of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        StackBuilder::default().start().await
    }

    /// A builder for other listeners, URLs or configuration.
    pub fn builder() -> StackBuilder {
        StackBuilder::default()
    }

    /// The MCP endpoint, `<mcp_url>mcp`.
    pub fn mcp_endpoint(&self) -> Url {
        self.mcp_url.join("mcp").expect("a relative path joins")
    }

    /// An HTTP client for tests (no redirects followed, so a 302 is seen as a 302; trusting
    /// fake-auth0's CA when it serves HTTPS).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    async fn wait_ready(&self, within: Duration) -> anyhow::Result<()> {
        let checks = [
            ("fake-auth0", self.idp_url.join("health")?),
            // Keys loaded: before that, a valid token would be answered 503.
            ("upstream-api", self.upstream_url.join("ready")?),
            ("mcp-server", self.mcp_url.join("ready")?),
        ];
        for (name, url) in checks {
            readiness::wait_until_ok(&self.http, name, &url, within, || Ok(())).await?;
        }
        Ok(())
    }

    /// An access token for the MCP server, for a demo user, by the password grant of the
    /// first-party client `demo-cli` (what a CLI would do; browsers use the code flow).
    pub async fn token_for(&self, user: DemoUser) -> anyhow::Result<String> {
        self.token_for_audience(user, self.mcp_url.as_str(), MCP_SCOPE)
            .await
    }

    /// A password-grant access token for the MCP server for which the client asked only for
    /// `scope` (a client granted less than the user has: the step-up cases).
    pub async fn token_with_scope(&self, user: DemoUser, scope: &str) -> anyhow::Result<String> {
        self.token_for_audience(user, self.mcp_url.as_str(), scope)
            .await
    }

    /// A password-grant access token for any audience and scope.
    pub async fn token_for_audience(
        &self,
        user: DemoUser,
        audience: &str,
        scope: &str,
    ) -> anyhow::Result<String> {
        tokens::password_grant(&self.http, &self.idp_url, user, audience, scope).await
    }

    /// A stateless (2026-07-28) MCP client with this token.
    pub fn stateless(&self, token: impl Into<String>) -> StatelessMcp {
        StatelessMcp::new(self.http.clone(), self.mcp_endpoint()).with_token(token)
    }

    /// A stateless MCP client signed in as a demo user.
    pub async fn stateless_as(&self, user: DemoUser) -> anyhow::Result<StatelessMcp> {
        Ok(self.stateless(self.token_for(user).await?))
    }

    /// A session-era client (rmcp's own), signed in as a demo user.
    pub async fn session_as(&self, user: DemoUser) -> anyhow::Result<SessionClient> {
        let token = self.token_for(user).await?;
        connect_session(&self.mcp_endpoint(), &token).await
    }

    /// Starts another mcp-server configured like the stack's, on a free port, and waits
    /// until it is ready.
    pub async fn start_mcp_replica(&self) -> anyhow::Result<McpReplica> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a replica's port")?;
        let url = Url::parse(&format!("http://{}/", listener.local_addr()?))?;
        let mut config = self.mcp_config.clone();
        config.listen = listener.local_addr()?;
        let service = Service::spawn("mcp-server replica", |shutdown| {
            Box::pin(async move {
                mcp_server::App::build_on(config, listener)
                    .await?
                    .run_until_stopped(shutdown)
                    .await?;
                Ok(())
            })
        });
        readiness::wait_until_ok(
            &self.http,
            "mcp-server replica",
            &url.join("ready")?,
            Duration::from_secs(30),
            || Ok(()),
        )
        .await?;
        Ok(McpReplica { url, service })
    }

    /// Stops fake-auth0 (the failure journeys: the IdP is down).
    pub async fn stop_idp(&mut self) -> anyhow::Result<()> {
        match self.idp.take() {
            Some(service) => service.stop().await,
            None => Ok(()),
        }
    }

    /// Starts fake-auth0 again, after [`TestStack::stop_idp`], on the same address with the
    /// same configuration, and waits until it answers (the outage journeys' recovery). With
    /// a data dir (`idp_config`) its keys survive, so tokens issued before still verify.
    pub async fn restart_idp(&mut self) -> anyhow::Result<()> {
        if self.idp.is_some() {
            bail!("fake-auth0 is still running: stop it first");
        }
        let listener = service_kit::try_bind(
            self.idp_restart.addr,
            "fake-auth0",
            "the address it had before",
        )
        .await?;
        let app = fake_auth0::App::build_on(self.idp_restart.config.clone(), listener)
            .await
            .context("restarting fake-auth0")?;
        self.idp = Some(spawn_idp(app));
        let health = self.idp_url.join("health")?;
        readiness::wait_until_ok(
            &self.http,
            "fake-auth0",
            &health,
            Duration::from_secs(30),
            || Ok(()),
        )
        .await
    }

    /// Stops upstream-api (the failure journeys: the upstream is down).
    pub async fn stop_upstream(&mut self) -> anyhow::Result<()> {
        match self.upstream.take() {
            Some(service) => service.stop().await,
            None => Ok(()),
        }
    }

    /// Stops every service and reports the first that failed.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        for service in [self.mcp.take(), self.upstream.take(), self.idp.take()]
            .into_iter()
            .flatten()
        {
            if let Err(error) = service.stop().await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Waits until a service task ends by itself (it should not): the demo's main loop selects
    /// on this and Ctrl-C. Afterwards [`TestStack::shutdown`] stops the others.
    pub async fn wait_for_exit(&mut self) -> anyhow::Result<()> {
        let idp = self.idp.as_mut().map(|s| &mut s.task);
        let upstream = self.upstream.as_mut().map(|s| &mut s.task);
        let mcp = self.mcp.as_mut().map(|s| &mut s.task);
        let (Some(idp), Some(upstream), Some(mcp)) = (idp, upstream, mcp) else {
            bail!("a service was already stopped");
        };
        let (name, result) = tokio::select! {
            r = idp => ("fake-auth0", r),
            r = upstream => ("upstream-api", r),
            r = mcp => ("mcp-server", r),
        };
        // That task's handle is consumed: forget the service so `shutdown` does not poll it again.
        for slot in [&mut self.idp, &mut self.upstream, &mut self.mcp] {
            if slot.as_ref().is_some_and(|service| service.name == name) {
                slot.take();
            }
        }
        match result {
            Ok(Ok(())) => bail!("{name} stopped unexpectedly"),
            Ok(Err(error)) => Err(error.context(format!("{name} failed"))),
            Err(join) => Err(anyhow!("{name} panicked: {join}")),
        }
    }
}
