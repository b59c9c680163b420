//! The three release binaries as child processes: how long each takes to be ready, and each
//! one's own resident memory idle and under load — figures an in-process stack cannot give,
//! since there the three services and the load driver share one process's RSS.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;
use tokio::process::{Child, Command};
use url::Url;

/// The contract's API identifiers: names, not addresses, so the embedded tenant works as is.
pub const MCP_AUDIENCE: &str = "http://localhost:3001/";
/// The upstream API's identifier.
pub const API_AUDIENCE: &str = "http://localhost:8787/";

/// One running service binary; killed when dropped.
#[derive(Debug)]
pub struct Service {
    /// The binary's name.
    pub name: &'static str,
    /// Its base URL.
    pub base_url: Url,
    /// Time from spawn to the readiness probe's first 200.
    pub ready_ms: f64,
    child: Child,
}

impl Service {
    /// Resident memory now, MB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_mb(&self) -> Option<f64> {
        let pid = self.child.id()?;
        crate::rss::rss_mb_of(&format!("/proc/{pid}/status"))
    }

    /// CPU seconds used so far (`utime + stime` of `/proc/<pid>/stat`).
    pub fn cpu_s(&self) -> Option<f64> {
        let pid = self.child.id()?;
        crate::cpu::process_cpu_s(&format!("/proc/{pid}/stat"))
    }

    /// Kills the process and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Figures of one service in the process phase.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceFigures {
    /// The binary.
    pub service: String,
    /// Spawn to ready (`/ready` 200, or discovery for the IdP), ms.
    pub ready_ms: f64,
    /// RSS right after ready, MB.
    pub rss_idle_mb: Option<f64>,
    /// RSS after each load step, MB, in the order of `ProcessPhase::steps`.
    pub rss_after_mb: Vec<Option<f64>>,
}

/// The directory holding the release binaries: the one this benchmark runs from.
pub fn binary_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the bench executable")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("the bench executable has no directory")
}

/// Whether all three binaries are built next to this one.
pub fn binaries_present(dir: &Path) -> bool {
    ["fake-auth0", "upstream-api", "mcp-server"]
        .iter()
        .all(|name| dir.join(name).is_file())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

async fn spawn(
    dir: &Path,
    name: &'static str,
    base_url: Url,
    probe: &str,
    env: &[(&str, String)],
) -> anyhow::Result<Service> {
    let program = dir.join(name);
    let probe = base_url.join(probe)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let started = Instant::now();
    let mut child = Command::new(&program)
        .env_clear()
        .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let deadline = started + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited with {status} before it was ready");
        }
        if let Ok(response) = http.get(probe.clone()).send().await
            && response.status().is_success()
        {
            break;
        }
        if Instant::now() >= deadline {
            bail!("{name} did not answer {probe} within 20 s");
        }
        // Polling interval, not synchronisation: it bounds the ready time's resolution (5 ms).
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(Service {
        name,
        base_url,
        ready_ms: started.elapsed().as_secs_f64() * 1000.0,
        child,
    })
}

/// The three services started one after the other (each needs the previous one's URL).
#[derive(Debug)]
pub struct Stack {
    /// fake-auth0.
    pub idp: Service,
    /// upstream-api.
    pub upstream: Service,
    /// mcp-server.
    pub mcp: Service,
}

impl Stack {
    /// Starts fake-auth0, upstream-api and mcp-server from `dir` on free loopback ports.
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        let (idp_port, api_port, mcp_port) = (free_port()?, free_port()?, free_port()?);
        let issuer = format!("http://127.0.0.1:{idp_port}/");
        let idp = spawn(
            dir,
            "fake-auth0",
            Url::parse(&issuer)?,
            ".well-known/openid-configuration",
            &[
                ("FAKE_AUTH0_LISTEN", format!("127.0.0.1:{idp_port}")),
                ("FAKE_AUTH0_ISSUER", issuer.clone()),
            ],
        )
        .await?;
        let api_url = format!("http://127.0.0.1:{api_port}/");
        let upstream = spawn(
            dir,
            "upstream-api",
            Url::parse(&api_url)?,
            "ready",
            &[
                ("UPSTREAM_API_LISTEN", format!("127.0.0.1:{api_port}")),
                ("AUTH0_DOMAIN", issuer.clone()),
                ("API_AUTH0_AUDIENCE", API_AUDIENCE.to_owned()),
            ],
        )
        .await?;
        let mcp_url = format!("http://127.0.0.1:{mcp_port}/");
        let mcp = spawn(
            dir,
            "mcp-server",
            Url::parse(&mcp_url)?,
            "ready",
            &[
                ("PORT", mcp_port.to_string()),
                ("AUTH0_DOMAIN", issuer),
                ("AUTH0_AUDIENCE", MCP_AUDIENCE.to_owned()),
                ("MCP_SERVER_URL", mcp_url.clone()),
                ("API_AUTH0_AUDIENCE", API_AUDIENCE.to_owned()),
                ("API_BASE_URL", api_url),
                // The demo's exchange, as in the in-process CTE rows (unset would be OBO).
                ("MCP_AUTH0_SUBJECT_TOKEN_TYPE", "urn:fastmcp:mcp".to_owned()),
            ],
        )
        .await?;
        Ok(Self { idp, upstream, mcp })
    }

    /// The three, in start order.
    pub fn services(&self) -> [&Service; 3] {
        [&self.idp, &self.upstream, &self.mcp]
    }

    /// Stops all three.
    pub async fn stop(self) {
        self.mcp.stop().await;
        self.upstream.stop().await;
        self.idp.stop().await;
    }
}
