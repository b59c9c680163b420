//! A real `redis-server` (Debian's package `redis-server`) for the tests of shared state:
//! [`RedisServer::start`] runs it on a Unix socket in a directory of the caller's, with no
//! TCP port (`--port 0`, so nothing to collide with) and no persistence, and waits until it
//! answers `PING`. [`RedisServer::stop`] and [`RedisServer::restart`] (same socket, so
//! clients reconnect to the same URL) let a test take it away mid-run; dropping it kills it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};

/// The Debian package that provides the binary, named when it is missing.
const PACKAGE: &str = "redis-server";
/// How long Redis may take to answer its first `PING`.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// Unix socket paths are at most 107 bytes on Linux (`sun_path`).
const MAX_SOCKET_PATH: usize = 107;

/// A `redis-server` child process on a Unix socket; killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    dir: PathBuf,
    socket: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` with its socket, log and working directory in `dir` (created if
    /// need be), and waits until it answers. Fails naming the Debian package when the binary
    /// is not installed.
    pub async fn start(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let socket = dir.join("redis.sock");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            bail!(
                "{} is too long for a Unix socket path (at most {MAX_SOCKET_PATH} bytes)",
                socket.display()
            );
        }
        let mut server = Self {
            dir,
            socket,
            child: None,
        };
        server.spawn().await?;
        Ok(server)
    }

    /// The URL clients connect with (`redis+unix://…`).
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// The socket Redis listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Kills Redis (as a crash or an outage would) and waits until it is gone. Everything it
    /// held is lost (no persistence).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.context("killing redis-server")?;
        }
        // A killed server leaves its socket file behind; clients must see it refuse.
        let _ = std::fs::remove_file(&self.socket);
        Ok(())
    }

    /// Starts Redis again on the same socket (empty), and waits until it answers.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.spawn().await
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))
            .context("opening redis.log")?;
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&self.socket)
            .args(["--unixsocketperm", "700", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    anyhow::anyhow!(
                        "redis-server is not installed: install the Debian package {PACKAGE} (apt-get install -y {PACKAGE})"
                    )
                } else {
                    anyhow::Error::new(e).context("starting redis-server")
                }
            })?;
        self.child = Some(child);
        self.wait_ready().await
    }

    /// Polls `PING` on the socket until `+PONG`, or fails past [`READY_WITHIN`] naming the log.
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if ping(&self.socket).await {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "redis-server exited with {status}; see {}",
                    self.dir.join("redis.log").display()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "redis-server did not answer PING on {} within {READY_WITHIN:?}; see {}",
                    self.socket.display(),
                    self.dir.join("redis.log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One inline `PING`, answered `+PONG`.
async fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut answer)).await,
        Ok(Ok(_))
    ) && &answer == b"+PONG\r\n"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}
