//! The start-up seam every service shares: bind with a typed error that names the setting
//! to change, then serve a router until told to stop.
//!
//! A service's own `App::build(config)` binds with [`try_bind`] (or takes a listener the
//! caller bound, for a stack that must know every port first), assembles its router, and
//! wraps both in a [`Server`], which knows its address before it serves.

use std::{fmt, future::Future, io, net::SocketAddr, pin::Pin, process::ExitCode, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, Request},
    response::IntoResponse,
    serve::{Listener, ListenerExt as _},
};
use http_body_util::Limited;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::{ServiceBuilder, ServiceExt as _};

use crate::body_deadline;
use crate::limits::ServerLimits;

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

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then drains open
/// connections. Handlers can extract the caller's address with `ConnectInfo<SocketAddr>`.
///
/// `axum::serve` leaves Nagle's algorithm on. With streamed (SSE) replies, Nagle and the
/// client's delayed ACK add about 40 ms to every response, so every accepted socket gets
/// `TCP_NODELAY`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        // A socket that refuses the option still works, only slower: not worth failing.
        let _ = tcp.set_nodelay(true);
    });
    serve_on(listener, app, limits, shutdown).await
}

/// Serves `app` on any listener (fake-auth0's TLS one too) within `limits`: the one serving
/// loop of the workspace.
///
/// - Each connection is served by hyper's HTTP/1.1 connection with a timer, so a request head
///   must arrive within `header_read_timeout`; hyper starts that timer as soon as it waits
///   for a head, so an idle keep-alive connection is closed after the same time. (hyper-util's
///   `auto` builder first waits for the HTTP/2 preface with no timer at all, so a connection
///   that sends nothing would be kept forever: it is not used; no client of the workspace
///   speaks HTTP/2 to it.)
/// - Bodies are capped at `max_body_bytes` and must be complete within `body_read_timeout`
///   of their head. Both fail the body's read (`http_body_util::Limited`'s
///   `LengthLimitError`, [`crate::BodyReadTimeout`]) rather than answer for the service, so
///   the refusal is in each surface's own format (an OAuth error, a JSON-RPC error);
///   tower-http's `RequestBodyLimit` would answer a plain-text 413 itself.
/// - At most `max_connections` are served at once; past that, accepting waits and a warning
///   says so (once per episode).
/// - On `shutdown`, every connection finishes its current request and closes; those still
///   open after `shutdown_grace` (streams that did not end) are closed.
pub async fn serve_on<L>(
    mut listener: L,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
{
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let stopping = CancellationToken::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut at_capacity = false;
    loop {
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => {
                at_capacity = false;
                slot
            }
            Err(_) => {
                if !at_capacity {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached (--max-connections / HTTP_MAX_CONNECTIONS): \
                         new connections wait until one closes"
                    );
                    at_capacity = true;
                }
                tokio::select! {
                    slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        // Finished connections are reaped as they end, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let service = ServiceBuilder::new()
            .map_request(move |request| admit_request(request, peer, limits))
            .service(app.clone())
            .map_response(IntoResponse::into_response);
        let connection =
            http1.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_connection_end(result, peer),
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    log_connection_end(connection.await, peer);
                }
            }
        });
    }
    stopping.cancel();
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(
            open = connections.len(),
            "closing connections still open after the shutdown grace (--shutdown-grace)"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// What every request of a connection carries before the router sees it: the peer address
/// as `ConnectInfo`, the body size cap, and the body read deadline, which starts now that
/// the head has arrived.
fn admit_request(
    request: Request<hyper::body::Incoming>,
    peer: SocketAddr,
    limits: ServerLimits,
) -> Request {
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ConnectInfo(peer));
    let capped = Body::new(Limited::new(body, limits.max_body_bytes));
    Request::from_parts(
        parts,
        body_deadline::with_deadline(capped, limits.body_read_timeout),
    )
}

/// A connection that ended with an error (a reset, a header read timeout) is the client's
/// doing, not the server's: debug level.
fn log_connection_end(result: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection closed");
    }
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
    limits: ServerLimits,
    local_addr: SocketAddr,
}

impl Server {
    /// Pairs `listener` with `router`, served within `limits`; fails only if the listener
    /// has no local address.
    pub fn new(listener: TcpListener, router: Router, limits: ServerLimits) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            router,
            limits,
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
        serve(self.listener, self.router, self.limits, shutdown).await?;
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
        let server = Server::new(listener, router, ServerLimits::default()).unwrap();
        assert_eq!(server.local_addr(), bound);

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run_until_stopped(async {
            let _ = stopped.await;
        }));
        assert_eq!(crate::healthcheck(bound).await, ExitCode::SUCCESS);
        stop.send(()).unwrap();
        serving.await.unwrap().unwrap();
    }

    /// Serves `router` within `limits` on a free port until the returned sender fires.
    async fn serve_for_test(
        router: Router,
        limits: ServerLimits,
    ) -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(serve(listener, router, limits, async {
            let _ = stopped.await;
        }));
        (address, stop, serving)
    }

    /// Sends one HTTP/1.1 request on a new connection and returns the status line.
    async fn status_line(address: SocketAddr, path: &str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer.lines().next().unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn past_the_connection_cap_a_new_connection_waits_for_a_slot_and_is_then_served() {
        let router = Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        let limits = ServerLimits {
            max_connections: 1,
            ..ServerLimits::default()
        };
        let (address, _stop, _serving) = serve_for_test(router, limits).await;
        // The one slot is held by a connection that sends nothing.
        let holder = tokio::net::TcpStream::connect(address).await.unwrap();

        let mut waiting = tokio::spawn(status_line(address, "/health"));
        // While the slot is held the request is not served (a slow machine only makes it
        // wait longer, so this cannot fail spuriously).
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), &mut waiting)
                .await
                .is_err(),
            "a connection past the cap was served"
        );

        // The holder goes away, which frees the slot; the waiting connection is served, not
        // refused.
        drop(holder);
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), waiting)
            .await
            .expect("the waiting connection was served")
            .unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK");
    }

    #[tokio::test]
    async fn shutdown_closes_a_stream_that_never_ends_after_the_grace() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let endless = || async {
            let ticks = futures::stream::unfold((), |()| async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Some((
                    Ok::<_, io::Error>(axum::body::Bytes::from_static(b"tick\n")),
                    (),
                ))
            });
            Body::from_stream(ticks)
        };
        let router = Router::new().route("/stream", axum::routing::get(endless));
        let limits = ServerLimits {
            shutdown_grace: std::time::Duration::from_millis(200),
            ..ServerLimits::default()
        };
        let (address, stop, serving) = serve_for_test(router, limits).await;
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0_u8; 64];
        assert!(
            stream.read(&mut first).await.unwrap() > 0,
            "the stream started"
        );

        stop.send(()).unwrap();

        // The server stops (it does not wait for the endless stream) and the client sees
        // its stream end.
        tokio::time::timeout(std::time::Duration::from_secs(20), serving)
            .await
            .expect("serving stopped despite the open stream")
            .unwrap()
            .unwrap();
        // End of stream or a reset: either way the server let go of it.
        let mut rest = Vec::new();
        let _ended = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            stream.read_to_end(&mut rest),
        )
        .await
        .expect("the stream was closed");
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
