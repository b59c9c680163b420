//! The Python environments of the journeys that run real Python clients, made on first use.
//!
//! Each environment is a folder `e2e/python/<name>/` holding `requirements.txt` (every
//! package pinned with `==`) and the scripts that run in it. [`Env::ensure`] makes it a
//! virtual environment under `<target-dir>/python/<name>/` with `python3 -m venv` and pip,
//! and stamps it with the SHA-256 of the requirements file: an edited pin rebuilds it, and
//! `cargo clean` removes it. A file lock (`<target-dir>/python/<name>.lock`) makes parallel
//! tests and test binaries create it once; the others wait for it. Environments are
//! separate because peers need incompatible versions (two MCP SDK majors, Auth0's SDKs).
//!
//! `E2E_PYTHON_<NAME>` (e.g. `E2E_PYTHON_MCP_SDK`), or `E2E_PYTHON` for every environment,
//! names an interpreter to use instead; it is checked to have the pinned versions.
//! Without `python3` or without a reachable package index the journey fails and says what
//! was tried: a journey that did not run proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

use stack::cargo_target::{CargoTarget, workspace_root};
use stack::process::eprintln_uncaptured;

/// The environment of the official MCP Python SDK (`e2e/python/mcp_sdk/`).
pub const MCP_SDK: &str = "mcp_sdk";

/// The file in a made environment that records the requirements it was made from.
const STAMP: &str = "e2e-requirements.sha256";

/// Checks that every `name==version` line of a requirements file is what the interpreter has
/// installed; prints each mismatch and exits 1 if there is one. Argument: the file.
const CHECK_PINS: &str = r##"
import sys
from importlib import metadata
wrong = []
for line in open(sys.argv[1], encoding="utf-8"):
    requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
    if not requirement:
        continue
    name, _, pinned = requirement.partition("==")
    try:
        installed = metadata.version(name.strip())
    except metadata.PackageNotFoundError:
        installed = "not installed"
    if installed != pinned.strip():
        wrong.append(f"{name.strip()}=={pinned.strip()} ({installed})")
if wrong:
    print("; ".join(wrong))
    sys.exit(1)
"##;

/// A ready Python environment.
#[derive(Debug, Clone)]
pub struct Env {
    name: String,
    python: PathBuf,
}

impl Env {
    /// The environment `name` (a folder of `e2e/python/`), made or remade first when it does
    /// not match its requirements file. Blocks while it installs (seconds to a minute).
    pub fn ensure(name: &str) -> anyhow::Result<Self> {
        let requirements = Self::folder_of(name).join("requirements.txt");
        let pins = std::fs::read(&requirements).with_context(|| {
            format!(
                "no Python environment named {name:?}: cannot read {}",
                requirements.display()
            )
        })?;
        if let Some((variable, python)) = override_for(name) {
            check_pins(&python, &requirements).with_context(|| {
                format!(
                    "{} (from {variable}) is not the environment {name:?}",
                    python.display()
                )
            })?;
            return Ok(Self {
                name: name.to_owned(),
                python,
            });
        }
        let stamp = hex_sha256(&pins);
        let dir = CargoTarget::of_current_exe()?.dir.join("python");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock_path = dir.join(format!("{name}.lock"));
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        // Held until `lock` is dropped at the end of this function.
        lock.lock()
            .with_context(|| format!("locking {}", lock_path.display()))?;

        let venv = dir.join(name);
        let python = venv.join("bin").join("python");
        let stamped = std::fs::read_to_string(venv.join(STAMP)).is_ok_and(|old| old == stamp);
        if !(stamped && check_pins(&python, &requirements).is_ok()) {
            create(name, &venv, &requirements)?;
            check_pins(&python, &requirements)
                .with_context(|| format!("pip installed {}", requirements.display()))?;
            std::fs::write(venv.join(STAMP), &stamp)?;
        }
        Ok(Self {
            name: name.to_owned(),
            python,
        })
    }

    /// `e2e/python/<name>/`: the environment's requirements and scripts.
    fn folder_of(name: &str) -> PathBuf {
        workspace_root().join("e2e").join("python").join(name)
    }

    /// The environment's interpreter.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// A script of the environment's folder (`e2e/python/<name>/<file>`).
    pub fn script(&self, file: &str) -> PathBuf {
        Self::folder_of(&self.name).join(file)
    }
}

/// The variables that override the environment `name`, most specific first.
fn override_variables(name: &str) -> [String; 2] {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    [format!("E2E_PYTHON_{upper}"), "E2E_PYTHON".to_owned()]
}

/// The interpreter the environment is overridden with, and the variable that says so.
fn override_for(name: &str) -> Option<(String, PathBuf)> {
    override_variables(name).into_iter().find_map(|variable| {
        let python = std::env::var_os(&variable)?;
        Some((variable, PathBuf::from(python)))
    })
}

/// Makes the virtual environment afresh and installs the requirements into it.
fn create(name: &str, venv: &Path, requirements: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let shown = |path: &Path| {
        path.strip_prefix(workspace_root())
            .unwrap_or(path)
            .display()
            .to_string()
    };
    eprintln_uncaptured(&format!(
        "e2e: making the Python environment {name:?} in {} from {} (first use, or its pins changed)…",
        shown(venv),
        shown(requirements)
    ));
    if venv.exists() {
        std::fs::remove_dir_all(venv).with_context(|| format!("removing {}", venv.display()))?;
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(venv)).map_err(|error| {
        anyhow::anyhow!(
            "{error}\nthe Python journeys need Python 3 with its venv module: install python3 \
             (Debian: apt-get install python3 python3-venv), or set {} to an interpreter \
             that has the packages of {}",
            override_variables(name).join(" or "),
            requirements.display()
        )
    })?;
    let mut pip_install = Command::new(venv.join("bin").join("python"));
    pip_install
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
        ])
        .arg("-r")
        .arg(requirements);
    run(&mut pip_install).map_err(|error| {
        let index = std::env::var("PIP_INDEX_URL")
            .unwrap_or_else(|_| "PyPI, or the index pip is configured with".to_owned());
        anyhow::anyhow!(
            "{error}\npip could not install the pinned packages from {index}: is it reachable?"
        )
    })?;
    eprintln_uncaptured(&format!(
        "e2e: the Python environment {name:?} is ready ({:.0?})",
        started.elapsed()
    ));
    Ok(())
}

/// Runs a command to completion; an error that names the command and quotes the end of
/// what it printed when it cannot start or fails.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| anyhow::anyhow!("tried {shown}: {error}"))?;
    if !output.status.success() {
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<&str> = printed.lines().collect();
        bail!(
            "tried {shown}: it exited with {}:\n{}",
            output.status,
            lines[lines.len().saturating_sub(30)..].join("\n")
        );
    }
    Ok(())
}

/// Fails unless the interpreter has exactly the versions the requirements file pins.
fn check_pins(python: &Path, requirements: &Path) -> anyhow::Result<()> {
    if !python.exists() {
        bail!("{} does not exist", python.display());
    }
    let output = Command::new(python)
        .args(["-c", CHECK_PINS])
        .arg(requirements)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !output.status.success() {
        bail!(
            "it lacks pinned versions of {}: {}{}",
            requirements.display(),
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What a journey run printed.
#[derive(Debug)]
pub struct JourneyRun {
    /// Standard output (the journey's progress lines and its closing count).
    pub stdout: String,
    /// Standard error (failures).
    pub stderr: String,
}

impl JourneyRun {
    /// Fails, with everything the run printed, unless its output holds `summary` (the
    /// closing count, e.g. `fastmcp-journey: 8 passed, 0 failed`).
    pub fn expect_summary(&self, summary: &str) -> anyhow::Result<()> {
        if !self.stdout.contains(summary) {
            bail!(
                "expected {summary:?}:\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout,
                self.stderr
            );
        }
        Ok(())
    }
}

/// Runs the MCP SDK's `journey.py` against the MCP endpoint with extra arguments; fails with
/// its output when the journey fails.
pub async fn run_journey(mcp_endpoint: &url::Url, args: &[&str]) -> anyhow::Result<JourneyRun> {
    let mut all = vec!["--mcp-url", mcp_endpoint.as_str()];
    all.extend_from_slice(args);
    run_script(MCP_SDK, "journey.py", &all, &[]).await
}

/// Runs `script` of the environment `env_name` with `args` and extra environment variables
/// (tokens go there, never in arguments, which other users of the machine can read); fails
/// with its output when it exits non-zero, and prints its last line past the test
/// harness's capture.
pub async fn run_script(
    env_name: &'static str,
    script: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> anyhow::Result<JourneyRun> {
    let env = tokio::task::spawn_blocking(move || Env::ensure(env_name)).await??;
    let output = tokio::process::Command::new(env.python())
        .arg(env.script(script))
        .args(args)
        .envs(envs.iter().copied())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} {script}", env.python().display()))?;
    let run = JourneyRun {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if !output.status.success() {
        bail!(
            "{env_name}/{script} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            run.stdout,
            run.stderr
        );
    }
    // Its closing count, past the test harness's capture: the run shows that it ran.
    if let Some(summary) = run
        .stdout
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
    {
        eprintln_uncaptured(summary);
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_environment_is_overridden_by_its_own_variable_first() {
        assert_eq!(
            override_variables("mcp_sdk"),
            ["E2E_PYTHON_MCP_SDK", "E2E_PYTHON"]
        );
        assert_eq!(
            override_variables("mcp-sdk-1.20"),
            ["E2E_PYTHON_MCP_SDK_1_20", "E2E_PYTHON"]
        );
    }

    #[test]
    fn an_unknown_environment_is_an_error_naming_the_missing_file() {
        let error = Env::ensure("no-such-environment").unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("no-such-environment") && message.contains("requirements.txt"),
            "{message}"
        );
    }
}
