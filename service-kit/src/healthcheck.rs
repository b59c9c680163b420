//! The `healthcheck` subcommand: container images built `FROM scratch` have no curl, so
//! each binary probes its own `/health`.

use std::{net::SocketAddr, path::Path, process::ExitCode, time::Duration};

use crate::ca_file::read_ca_file;

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
    use axum::Router;
    use tokio::net::TcpListener;

    use crate::server::serve;

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
        let server = tokio::spawn(serve(
            listener,
            app,
            crate::ServerLimits::default(),
            async {
                let _ = stopped.await;
            },
        ));
        assert_eq!(healthcheck(address).await, ExitCode::SUCCESS);
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
