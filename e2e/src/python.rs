//! Runs the Python MCP SDK journey (`e2e/python/journey.py`) from Rust tests.
//!
//! The interpreter is the workspace's virtual environment (`.venv/bin/python`, or `E2E_PYTHON`)
//! that `.ci/run` and `just e2e` create. A missing interpreter or SDK is a failure that says how
//! to create it, never a silent skip: a journey that did not run proves nothing.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context as _, bail};
use tokio::process::Command;

/// The workspace root (the e2e crate's parent directory).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// The journey script.
pub fn journey_script() -> PathBuf {
    workspace_root()
        .join("e2e")
        .join("python")
        .join("journey.py")
}

const HOW_TO_CREATE: &str = "create it from the workspace root with:\n  \
    python3 -m venv .venv && .venv/bin/pip install -r e2e/python/requirements.txt\n\
    (.ci/run and `just e2e` do this), or point E2E_PYTHON at an interpreter that has it";

/// The interpreter to run the journey with, checked to have the pinned SDK importable.
pub async fn interpreter() -> anyhow::Result<PathBuf> {
    let python = match std::env::var_os("E2E_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join(".venv").join("bin").join("python"),
    };
    if !python.exists() {
        bail!(
            "no Python interpreter at {} for the MCP SDK journey; {HOW_TO_CREATE}",
            python.display()
        );
    }
    let probe = Command::new(&python)
        .args([
            "-c",
            "import mcp, httpx2; from mcp.client.auth import OAuthClientProvider",
        ])
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {}", python.display()))?;
    if !probe.status.success() {
        bail!(
            "{} cannot import the MCP SDK ({}); {HOW_TO_CREATE}",
            python.display(),
            String::from_utf8_lossy(&probe.stderr).trim()
        );
    }
    Ok(python)
}

/// What a journey run printed.
#[derive(Debug)]
pub struct JourneyRun {
    /// Standard output (the journey's progress lines and its closing count).
    pub stdout: String,
    /// Standard error (failures).
    pub stderr: String,
}

/// Runs `journey.py` against the MCP endpoint with extra arguments; fails with its output
/// when the journey fails.
pub async fn run_journey(mcp_endpoint: &url::Url, args: &[&str]) -> anyhow::Result<JourneyRun> {
    let python = interpreter().await?;
    let output = Command::new(&python)
        .arg(journey_script())
        .arg("--mcp-url")
        .arg(mcp_endpoint.as_str())
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} journey.py", python.display()))?;
    let run = JourneyRun {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if !output.status.success() {
        bail!(
            "the Python MCP SDK journey failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            run.stdout,
            run.stderr
        );
    }
    Ok(run)
}
