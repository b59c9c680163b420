//! The three release binaries as child processes: how long each takes to be ready, and each
//! one's own resident memory idle and under load — figures an in-process stack cannot give,
//! since there the three services and the load driver share one process's RSS.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;
use stack::process::{ProcessStack, ServiceProcess};

use crate::load::WatchedProcess;

/// Resident memory of a service now, MB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_mb(service: &ServiceProcess) -> Option<f64> {
    let pid = service.pid()?;
    crate::rss::rss_mb_of(&format!("/proc/{pid}/status"))
}

/// Threads of a service now (`Threads` of `/proc/<pid>/status`).
pub fn threads(service: &ServiceProcess) -> Option<u64> {
    let pid = service.pid()?;
    crate::rss::threads_of(&format!("/proc/{pid}/status"))
}

/// Open file descriptors of a service now (the entries of `/proc/<pid>/fd`): sockets,
/// files, pipes and eventfds alike, so a leak of any of them shows.
pub fn open_fds(service: &ServiceProcess) -> Option<usize> {
    let pid = service.pid()?;
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// The running services among `services`, for a load point to read each one's CPU.
pub fn watched<'a>(services: impl IntoIterator<Item = &'a ServiceProcess>) -> Vec<WatchedProcess> {
    services
        .into_iter()
        .filter_map(|service| {
            Some(WatchedProcess {
                service: service.name().to_owned(),
                pid: service.pid()?,
            })
        })
        .collect()
}

/// Figures of one service in the process phase.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceFigures {
    /// The binary.
    pub service: String,
    /// Spawn to ready (`/ready` 200, or `/health` for the IdP), ms.
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

/// The stack's own process wiring, on the release binaries in `dir`, logging warnings only
/// (a log line per request would be part of what is measured), with the demo's exchange as
/// in the in-process CTE rows (the binary with no subject token type would use OBO), and
/// `extra_env` on top.
pub async fn start(
    dir: &Path,
    extra_env: &[(&'static str, String)],
) -> anyhow::Result<ProcessStack> {
    let dir = dir.to_path_buf();
    let mut env = vec![
        ("RUST_LOG", "warn".to_owned()),
        (
            "MCP_AUTH0_SUBJECT_TOKEN_TYPE",
            contract::SUBJECT_TOKEN_TYPE.to_owned(),
        ),
    ];
    env.extend(extra_env.iter().cloned());
    ProcessStack::start_with(move |name| Ok(dir.join(name)), &env).await
}
