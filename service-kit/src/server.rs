//! The start-up seam every service shares: bind with a typed error that names the setting
//! to change, then serve a router until told to stop.
//!
//! A service's own `App::build(config)` binds with [`try_bind`] (or takes a listener the
//! caller bound, for a stack that must know every port first), assembles its router, and
//! wraps both in a [`Server`], which knows its address before it serves.

use std::{fmt, future::Future, io, net::SocketAddr, pin::Pin, process::ExitCode};

use axum::{Router, serve::ListenerExt as _};
use tokio::net::TcpListener;

/// An address that could not be bound, with the setting that chooses another.
///
/// Its text is the one line a user needs, e.g. `mcp-server: address 127.0.0.1:3001 is
/// already in use; choose another with --port / PORT (and --host / MCP_BIND_HOST)`.
#[derive(Debug, thiserror::Error)]
#[error("{service}: address {address} {}; choose another with {setting}", Why(&self.source))]
pub struct BindError {
    service: String,
    address: SocketAddr,
    setting: String,
    #[source]
    source: io::Error,
}

impl BindError {
    /// Why the operating system refused (`AddrInUse`, `PermissionDenied`, …).
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// The address that was asked for.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

/// The middle of [`BindError`]'s message: what went wrong, in words.
struct Why<'a>(&'a io::Error);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind() {
            io::ErrorKind::AddrInUse => f.write_str("is already in use"),
            io::ErrorKind::PermissionDenied => f.write_str("needs privileges this process lacks"),
            _ => write!(f, "cannot be bound ({})", self.0),
        }
    }
}

impl From<BindError> for io::Error {
    fn from(error: BindError) -> Self {
        io::Error::new(error.kind(), error.to_string())
    }
}

/// Binds `address` for `service`; `setting` names the flag and environment variable that
/// choose the address (e.g. `"--listen / UPSTREAM_API_LISTEN"`), for the error.
pub async fn try_bind(
    address: SocketAddr,
    service: &str,
    setting: &str,
) -> Result<TcpListener, BindError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| BindError {
            service: service.to_owned(),
            address,
            setting: setting.to_owned(),
            source,
        })
}

/// Binds `address`, or explains in one line which setting to change.
///
/// `setting` names the flag and environment variable that choose the address, e.g.
/// `"--listen / FAKE_AUTH0_LISTEN"`, so a user whose port is taken knows what to do.
/// [`try_bind`] is the same with a typed error.
pub async fn bind(address: SocketAddr, service: &str, setting: &str) -> io::Result<TcpListener> {
    try_bind(address, service, setting)
        .await
        .map_err(io::Error::from)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains open connections.
/// Handlers can extract the caller's address with `ConnectInfo<SocketAddr>`.
///
/// `axum::serve` leaves Nagle's algorithm on. With streamed (SSE) replies, Nagle and the
/// client's delayed ACK add about 40 ms to every response, so every accepted socket gets
/// `TCP_NODELAY`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        // A socket that refuses the option still works, only slower: not worth failing.
        let _ = tcp.set_nodelay(true);
    });
    // The peer address is an extension of every request (`ConnectInfo<SocketAddr>`), for
    // routes that only loopback callers may use.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serving stopped with an error (accepting connections failed); logged by the binary.
#[derive(Debug, thiserror::Error)]
#[error("serving failed: {0}")]
pub struct ServeError(#[from] io::Error);

/// A bound listener and the router to serve on it: built, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    router: Router,
    local_addr: SocketAddr,
}

impl Server {
    /// Pairs `listener` with `router`; fails only if the listener has no local address.
    pub fn new(listener: TcpListener, router: Router) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            router,
            local_addr,
        })
    }

    /// The address the listener is bound to (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then drains open connections; see [`serve`].
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        serve(self.listener, self.router, shutdown).await?;
        Ok(())
    }
}

/// Reports a configuration the binary cannot run with: one line on stderr, exit code 2.
pub fn invalid_configuration(service: &str, error: &dyn fmt::Display) -> ExitCode {
    eprintln!("{service}: invalid configuration: {error}");
    ExitCode::from(2)
}

/// The end of every service binary's `main`: serves what `App::build` returned until Ctrl-C
/// or SIGTERM ([`crate::shutdown_signal`]). A start-up error is printed as its one line
/// (exit 1); an error while serving is logged (exit 1).
///
/// `run` is the service's `App::run_until_stopped`.
pub async fn serve_until_signal<A, E, R>(
    service: &str,
    built: Result<A, E>,
    run: impl FnOnce(A, Pin<Box<dyn Future<Output = ()> + Send>>) -> R,
) -> ExitCode
where
    E: fmt::Display,
    R: Future<Output = Result<(), ServeError>>,
{
    let app = match built {
        Ok(app) => app,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match run(app, Box::pin(crate::signal::shutdown_signal())).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "{service} stopped");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_names_the_setting_that_changes_it() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = taken.local_addr().unwrap();

        let error = try_bind(address, "upstream-api", "--listen / UPSTREAM_API_LISTEN")
            .await
            .unwrap_err();

        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(error.address(), address);
        assert_eq!(
            error.to_string(),
            format!(
                "upstream-api: address {address} is already in use; choose another with --listen / UPSTREAM_API_LISTEN"
            )
        );
    }

    #[tokio::test]
    async fn a_server_knows_its_address_before_it_serves_and_stops_when_told() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bound = listener.local_addr().unwrap();
        let router = Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        let server = Server::new(listener, router).unwrap();
        assert_eq!(server.local_addr(), bound);

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run_until_stopped(async {
            let _ = stopped.await;
        }));
        assert_eq!(crate::healthcheck(bound).await, ExitCode::SUCCESS);
        stop.send(()).unwrap();
        serving.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn bind_names_the_setting_when_the_port_is_taken() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = taken.local_addr().unwrap();
        let error = bind(address, "fake-auth0", "--listen / FAKE_AUTH0_LISTEN")
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        let message = error.to_string();
        assert!(message.contains(&address.to_string()), "{message}");
        assert!(message.contains("already in use"), "{message}");
        assert!(message.contains("FAKE_AUTH0_LISTEN"), "{message}");
    }
}
