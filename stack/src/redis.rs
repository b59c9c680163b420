//! A real `redis-server` (Debian's package `redis-server`) for the tests of the state that
//! replicas share: on a Unix socket in a directory the test owns, so it needs no TCP port,
//! with persistence off, killed when dropped. [`RedisServer::stop`] and
//! [`RedisServer::restart`] (same socket, so clients reconnect to the same URL) are how a
//! test takes the shared tier away and gives it back.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

use crate::process::spawn_debian_daemon;

/// The Debian package that provides `redis-server` and `redis-cli`.
const PACKAGE: &str = "redis-server";

/// How long `redis-server` may take to answer `PING`.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running `redis-server` on `<dir>/redis.sock`.
#[derive(Debug)]
pub struct RedisServer {
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` on a Unix socket in `dir` and waits until it answers `PING`.
    /// Fails naming the Debian package when the binary is missing.
    pub async fn start(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let mut server = Self {
            dir: dir.into(),
            child: None,
        };
        server.spawn().await?;
        Ok(server)
    }

    /// The socket's path.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    /// The URL a client (and MCP_REDIS_URL) uses: `unix:///…/redis.sock`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let socket = self.socket();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir);
        let child = spawn_debian_daemon(&mut command, PACKAGE, &self.dir.join("redis.log"))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if ping(&socket).await {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "redis-server exited with {status}; its log:\n{}",
                    std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "redis-server did not answer PING on {} within {READY_WITHIN:?}",
                    socket.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server and waits until it is gone (its socket refuses connections).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill().ok();
            child
                .wait()
                .await
                .context("waiting for redis-server to exit")?;
        }
        // A killed server leaves its socket file behind; nobody answers on it.
        let _ = std::fs::remove_file(self.socket());
        Ok(())
    }

    /// Stops the server (if running) and starts a fresh, empty one on the same socket.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.spawn().await
    }

    /// Runs `redis-cli` against this server with `args`; its standard output.
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("redis-cli")
            .arg("-s")
            .arg(self.socket())
            .args(args)
            .output()
            .await
            .with_context(|| format!("running redis-cli (Debian package {PACKAGE})"))?;
        if !output.status.success() {
            bail!(
                "redis-cli {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8(output.stdout)?)
    }

    /// Every key (`redis-cli --scan`) with its value (`GET`, or `TYPE` for other types).
    pub async fn dump(&self) -> anyhow::Result<Vec<(String, String)>> {
        let keys = self.cli(&["--scan"]).await?;
        let mut entries = Vec::new();
        for key in keys.lines().filter(|k| !k.is_empty()) {
            let kind = self.cli(&["TYPE", key]).await?;
            let value = if kind.trim() == "string" {
                self.cli(&["GET", key]).await?
            } else {
                format!("<{}>", kind.trim())
            };
            entries.push((key.to_owned(), value));
        }
        Ok(entries)
    }
}

/// True when a Redis server answers `PING` on `socket`.
async fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = tokio::net::UnixStream::connect(socket).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0_u8; 7];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut reply)).await,
        Ok(Ok(_))
    ) && &reply == b"+PONG\r\n"
}
