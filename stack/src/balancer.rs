//! A real load balancer (Debian's package `haproxy`) in front of several mcp-server
//! replicas: round-robin per request, no stickiness of any kind, on a loopback port picked
//! from port 0, with the configuration file written by the test. A replica that stops
//! answering is taken out by haproxy's health check (`/health`), and a request whose
//! connection is refused is sent to another replica, as a production balancer would.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};
use url::Url;

use crate::process::{free_port, spawn_debian_daemon};

/// The Debian package that provides `haproxy`.
const PACKAGE: &str = "haproxy";

/// How long haproxy may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// haproxy running in the foreground on `127.0.0.1:<port>`; killed when dropped.
#[derive(Debug)]
pub struct Balancer {
    /// The balancer's base URL, e.g. `http://127.0.0.1:PORT/`.
    pub url: Url,
    dir: PathBuf,
    child: Child,
}

/// The configuration: HTTP mode, one backend per replica, plain round-robin.
fn config(port: u16, backends: &[SocketAddr]) -> String {
    let mut text = format!(
        "global\n\
         \x20   maxconn 512\n\
         defaults\n\
         \x20   mode http\n\
         \x20   timeout connect 1s\n\
         \x20   timeout client 60s\n\
         \x20   timeout server 60s\n\
         \x20   # Each request is balanced on its own: no connection reuse ties a client to\n\
         \x20   # a replica, and there is no cookie or hash stickiness.\n\
         \x20   option http-server-close\n\
         \x20   # A refused connection (a replica just killed) is retried on another one.\n\
         \x20   retries 3\n\
         \x20   option redispatch 1\n\
         \x20   retry-on conn-failure empty-response\n\
         frontend mcp\n\
         \x20   bind 127.0.0.1:{port}\n\
         \x20   default_backend replicas\n\
         backend replicas\n\
         \x20   balance roundrobin\n\
         \x20   option httpchk GET /health\n"
    );
    for (index, backend) in backends.iter().enumerate() {
        let _ = writeln!(
            text,
            "    server replica{index} {backend} check inter 200ms fall 1 rise 1"
        );
    }
    text
}

impl Balancer {
    /// Writes the configuration into `dir`, starts haproxy in front of `backends` and waits
    /// until it accepts connections. Fails naming the Debian package when it is missing.
    pub async fn start(dir: impl Into<PathBuf>, backends: &[SocketAddr]) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let port = free_port()?;
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config(port, backends))
            .with_context(|| format!("writing {}", file.display()))?;
        // -db: foreground, no daemon.
        let child = spawn_debian_daemon(
            Command::new("haproxy").arg("-db").arg("-f").arg(&file),
            PACKAGE,
            &dir.join("haproxy.log"),
        )?;
        let mut balancer = Self {
            url: Url::parse(&format!("http://127.0.0.1:{port}/"))?,
            dir,
            child,
        };
        let deadline = Instant::now() + READY_WITHIN;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = balancer.child.try_wait()? {
                bail!("haproxy exited with {status}; {}", balancer.log());
            }
            if Instant::now() > deadline {
                bail!(
                    "haproxy did not listen on {port} within {READY_WITHIN:?}; {}",
                    balancer.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(balancer)
    }

    /// The MCP endpoint behind the balancer.
    pub fn mcp_endpoint(&self) -> Url {
        self.url.join("mcp").expect("a relative path joins")
    }

    /// haproxy's output, for failure messages.
    pub fn log(&self) -> String {
        format!(
            "haproxy's log:\n{}",
            std::fs::read_to_string(self.dir.join("haproxy.log")).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replica_is_a_round_robin_server_with_a_health_check() {
        let backends: Vec<SocketAddr> = vec![
            "127.0.0.1:4101".parse().unwrap(),
            "127.0.0.1:4102".parse().unwrap(),
        ];
        let text = config(4100, &backends);
        assert!(text.contains("bind 127.0.0.1:4100"), "{text}");
        assert!(text.contains("balance roundrobin"), "{text}");
        assert!(
            text.contains("server replica1 127.0.0.1:4102 check"),
            "{text}"
        );
        let directives = text.lines().map(str::trim).filter(|l| !l.starts_with('#'));
        for directive in directives {
            assert!(
                !["cookie", "stick", "hash-type", "balance source"]
                    .iter()
                    .any(|sticky| directive.starts_with(sticky)),
                "{directive}"
            );
        }
    }
}
