//! What every service binary in this workspace does the same way.
//!
//! The three services differ in what they serve, not in how they start and stop. Keeping
//! the start-up plumbing here means a fix (a missed signal, a missing socket option) is
//! made once, and the binaries stay thin: parse configuration, call into their library.
//!
//! - [`LogFormat`] and [`init_tracing`]: pretty logs for people, JSON for machines.
//! - [`bind`] and [`try_bind`]: bind a listener, and say which flag to change when the port
//!   is taken ([`BindError`]).
//! - [`serve`]: `axum::serve` with `TCP_NODELAY` and graceful shutdown.
//! - [`Server`]: the start-up seam's last step, a bound listener and its router, which
//!   knows its address before it serves and stops when told ([`ServeError`]).
//! - [`invalid_configuration`] and [`serve_until_signal`]: how every `main` ends, so the
//!   binaries print start-up errors and exit the same way.
//! - [`shutdown_signal`]: resolves on Ctrl-C or SIGTERM.
//! - [`healthcheck`]: the `healthcheck` subcommand that container images run instead of curl.
//! - [`read_ca_file`]: extra root certificates for outbound HTTPS (`--ca-file`), e.g. the
//!   local CA of `fake-auth0 --tls`.
//!
//! Everything listed is public, because it exists to be called by the services' libraries
//! and binaries; the healthcheck's URL and HTTP helpers are private.

use std::{future::Future, io, net::SocketAddr, path::Path, process::ExitCode, time::Duration};

use axum::{Router, serve::ListenerExt as _};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

mod server;

pub use server::{
    BindError, ServeError, Server, invalid_configuration, serve_until_signal, try_bind,
};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Multi-line, coloured output for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global tracing subscriber.
///
/// `RUST_LOG` wins when set; otherwise `default_filter` applies (for example
/// `"fake_auth0=info,tower_http=info"`). Calling it twice is harmless: the second call
/// keeps the first subscriber, which is what a process running several services wants.
pub fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _already_installed = match format {
        LogFormat::Pretty => builder.pretty().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
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

/// Reads a PEM file of one or more CA certificates to trust for outbound HTTPS in addition
/// to the system's roots (add them with `reqwest::ClientBuilder::tls_certs_merge`).
///
/// The error names the file, so a wrong `--ca-file` is reported at start, not as a TLS
/// failure on the first request.
pub fn read_ca_file(path: &Path) -> io::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|error| {
        io::Error::new(error.kind(), format!("CA file {}: {error}", path.display()))
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("CA file {}: not PEM certificates: {error}", path.display()),
        )
    })?;
    if certificates.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("CA file {}: no certificate in it", path.display()),
        ));
    }
    Ok(certificates)
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, wait for SIGTERM alone.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The `healthcheck` subcommand: `GET http://<listen>/health`, success on a 2xx answer.
///
/// Container images built `FROM scratch` have no curl, so each binary checks itself. An
/// unspecified listen address (`0.0.0.0`, `::`) is reached through loopback.
pub async fn healthcheck(listen: SocketAddr) -> ExitCode {
    check_health(&health_url(listen), reqwest::Client::builder()).await
}

/// [`healthcheck`] for a server speaking HTTPS with a certificate from the CA in `ca_file`
/// (e.g. `fake-auth0 --tls`): `GET https://localhost:<port>/health` when the listen address
/// is loopback or unspecified (the certificate names `localhost`), else the address itself.
pub async fn healthcheck_https(listen: SocketAddr, ca_file: &Path) -> ExitCode {
    let roots = match read_ca_file(ca_file) {
        Ok(roots) => roots,
        Err(error) => {
            eprintln!("healthcheck: {error}");
            return ExitCode::FAILURE;
        }
    };
    let url = if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        format!("https://localhost:{}/health", listen.port())
    } else {
        format!("https://{listen}/health")
    };
    check_health(&url, reqwest::Client::builder().tls_certs_merge(roots)).await
}

async fn check_health(url: &str, client: reqwest::ClientBuilder) -> ExitCode {
    let client = match client.timeout(Duration::from_secs(2)).build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("healthcheck: cannot build an HTTP client: {error}");
            return ExitCode::FAILURE;
        }
    };
    match client.get(url).send().await {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("healthcheck: {url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("healthcheck: {url}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn health_url(listen: SocketAddr) -> String {
    let mut target = listen;
    if target.ip().is_unspecified() {
        target.set_ip(if listen.is_ipv6() {
            std::net::Ipv6Addr::LOCALHOST.into()
        } else {
            std::net::Ipv4Addr::LOCALHOST.into()
        });
    }
    // SocketAddr's Display already brackets IPv6 addresses.
    format!("http://{target}/health")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_url_reaches_unspecified_addresses_through_loopback() {
        assert_eq!(
            health_url("0.0.0.0:4000".parse().unwrap()),
            "http://127.0.0.1:4000/health"
        );
        assert_eq!(
            health_url("[::]:3001".parse().unwrap()),
            "http://[::1]:3001/health"
        );
        assert_eq!(
            health_url("127.0.0.1:8787".parse().unwrap()),
            "http://127.0.0.1:8787/health"
        );
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_with_its_name() {
        let path = std::env::temp_dir().join(format!("service-kit-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let error = read_ca_file(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        let missing = read_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(
            missing.to_string().contains("/nonexistent/ca.pem"),
            "{missing}"
        );
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

    #[tokio::test]
    async fn healthcheck_fails_when_nothing_listens() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        assert_eq!(healthcheck(address).await, ExitCode::FAILURE);
    }

    #[tokio::test]
    async fn healthcheck_succeeds_against_a_served_health_route() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, async {
            let _ = stopped.await;
        }));
        assert_eq!(healthcheck(address).await, ExitCode::SUCCESS);
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
