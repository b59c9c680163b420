//! Runs the workspace's service binaries as child processes, configured only through
//! environment variables — the way `cargo run -p <service>` users and containers run them.
//!
//! `CARGO_BIN_EXE_<name>` exists only for a package's own binaries, so [`binary`] finds the
//! others beside the running executable (`target/<profile>/<bin>`). Under
//! `cargo test --workspace` cargo has built them before any test runs (each service package
//! has integration tests, and cargo builds a package's binaries for those). Under
//! `cargo test -p e2e` they may be missing or older than their sources: then [`binary`]
//! builds them with a nested `cargo build` into the same target directory and profile. Cargo
//! releases its build-directory lock before it runs tests, so the nested build does not
//! deadlock, and cargo's own lock serialises parallel test binaries.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use crate::cargo_target::{CargoTarget, workspace_root};

/// A service binary running as a child process; killed when dropped.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    child: Child,
    log: PathBuf,
    /// Where the service listens, e.g. `http://127.0.0.1:PORT/`.
    pub base_url: url::Url,
}

/// The binaries already checked (or built) by this process, by name.
static CHECKED: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());

/// The path of one of the workspace's binaries, built first when it is missing or older than
/// any of its sources; an error when that build fails.
///
/// `E2E_BIN_DIR` names a directory of prebuilt binaries instead (e.g. release builds): they
/// are used as they are, never built. This blocks while it builds; each binary is checked
/// once per process.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let file_name = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    if let Some(dir) = std::env::var_os("E2E_BIN_DIR") {
        let path = PathBuf::from(dir).join(file_name);
        if !path.is_file() {
            bail!("{} does not exist (E2E_BIN_DIR is set)", path.display());
        }
        return Ok(path);
    }
    let mut checked = CHECKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(path) = checked.get(name) {
        return Ok(path.clone());
    }
    let target = CargoTarget::of_current_exe()?;
    let path = target.profile_dir.join(file_name);
    let dep_info = target.profile_dir.join(format!("{name}.d"));
    let path = if is_up_to_date(&path, &dep_info) {
        path
    } else {
        build(&target, name)?
    };
    checked.insert(name.to_owned(), path.clone());
    Ok(path)
}

/// Whether the binary exists and is newer than every input cargo built it from: the source
/// files its dep-info (`<bin>.d`, which cargo writes beside it) lists, the manifests of the
/// packages they belong to, and `Cargo.lock`. Registry sources are immutable, so a change
/// of dependency shows as a change of `Cargo.lock`.
fn is_up_to_date(binary: &Path, dep_info: &Path) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|meta| meta.modified()) else {
        return false;
    };
    let Ok(dep_info) = std::fs::read_to_string(dep_info) else {
        return false;
    };
    let sources = dep_info_inputs(&dep_info);
    if sources.is_empty() {
        return false;
    }
    let root = workspace_root();
    let manifests: BTreeSet<PathBuf> = sources
        .iter()
        .filter_map(|source| source.strip_prefix(&root).ok())
        .filter_map(|relative| relative.components().next())
        .map(|package| root.join(package).join("Cargo.toml"))
        .filter(|manifest| manifest.is_file())
        .chain([root.join("Cargo.toml"), root.join("Cargo.lock")])
        .collect();
    sources.iter().chain(&manifests).all(|input| {
        std::fs::metadata(input)
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified: SystemTime| modified <= built)
    })
}

/// The prerequisites of a Makefile-style dep-info file (`target: input input…`, spaces in
/// paths escaped as `\ `).
fn dep_info_inputs(dep_info: &str) -> Vec<PathBuf> {
    let Some(line) = dep_info.lines().next() else {
        return Vec::new();
    };
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            ' ' => words.push(std::mem::take(&mut word)),
            c => word.push(c),
        }
    }
    words.push(word);
    words
        .into_iter()
        .filter(|word| !word.is_empty())
        .skip_while(|word| !word.ends_with(':'))
        .skip(1)
        .map(PathBuf::from)
        .collect()
}

/// `cargo build --workspace --bin <name>` with the running executable's profile, target and target
/// directory; returns the path cargo reports for the built executable.
fn build(target: &CargoTarget, name: &str) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args = vec![
        "build".to_owned(),
        "--locked".to_owned(),
        // `--bin` alone looks in the default members only.
        "--workspace".to_owned(),
        "--bin".to_owned(),
        name.to_owned(),
        "--message-format=json-render-diagnostics".to_owned(),
    ];
    args.extend(target.build_args());
    let command_line = format!("{} {}", cargo.to_string_lossy(), args.join(" "));
    // Straight to stderr, past the test harness's output capture: cargo's progress follows.
    eprintln_uncaptured(&format!(
        "e2e: {name} is missing or older than its sources; building it: {command_line}"
    ));
    let mut child = std::process::Command::new(&cargo)
        .args(&args)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running `{command_line}` to build {name}"))?;
    let stdout = child.stdout.take().context("cargo's piped stdout")?;
    let mut executable = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let message: serde_json::Value = match serde_json::from_str(&line?) {
            Ok(message) => message,
            Err(_) => continue,
        };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == name
            && let Some(path) = message["executable"].as_str()
        {
            executable = Some(PathBuf::from(path));
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "building {name} for the process journeys failed: `{command_line}` exited with \
             {status} (cargo's messages are above)"
        );
    }
    executable.with_context(|| {
        format!("`{command_line}` succeeded but reported no executable named {name}")
    })
}

/// Writes a line to the process's stderr directly: the test harness captures `eprintln!`,
/// and a build or an install that takes minutes must be seen while it runs.
pub(crate) fn eprintln_uncaptured(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released for the child to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(free_ports::<1>()?[0])
}

/// `N` distinct free TCP ports on 127.0.0.1. All are held until all are chosen, so the kernel
/// cannot hand the same port out twice (as `free_port` called `N` times may).
pub fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("binding 127.0.0.1:0 for free ports")?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

impl ServiceProcess {
    /// Starts `name` with exactly `env` on top of a cleared environment (plus PATH and
    /// RUST_LOG), so a developer's own `.env` or shell variables cannot leak into the test,
    /// then waits for `GET {base_url}{probe}` (e.g. `health`) to answer 200.
    pub async fn start(
        name: &str,
        base_url: url::Url,
        probe: &str,
        env: &[(&str, String)],
        ready_within: Duration,
    ) -> anyhow::Result<Self> {
        let program = binary(name)?;
        let log = std::env::temp_dir().join(format!(
            "e2e-{name}-{}-{}.log",
            base_url.port().unwrap_or_default(),
            std::process::id()
        ));
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("creating the log file {}", log.display()))?;
        // A scratch working directory: a `.env` in the workspace must not configure the child.
        let workdir = std::env::temp_dir();
        let mut command = Command::new(&program);
        command
            .env_clear()
            .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut process = Self {
            name: name.to_owned(),
            child,
            log,
            base_url,
        };
        process.wait_healthy(probe, ready_within).await?;
        Ok(process)
    }

    /// Polls the probe path until it answers 200, the child exits, or the deadline passes.
    async fn wait_healthy(&mut self, probe: &str, within: Duration) -> anyhow::Result<()> {
        let health = self.base_url.join(probe)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited with {status} before it was healthy; its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(response) = http.get(health.clone()).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not answer {health} with 200 within {within:?}; its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            // Polling interval, not synchronisation: the loop ends on the health answer.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines the process wrote, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Stops the process and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.start_kill().ok();
        self.child.wait().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dep_info_lists_the_inputs_after_the_target_with_escaped_spaces() {
        let inputs = dep_info_inputs(
            "/t/debug/fake-auth0: /w/src/main.rs /w/my\\ dir/lib.rs /w/templates/login.html\n",
        );
        assert_eq!(
            inputs,
            [
                PathBuf::from("/w/src/main.rs"),
                PathBuf::from("/w/my dir/lib.rs"),
                PathBuf::from("/w/templates/login.html"),
            ]
        );
        assert!(dep_info_inputs("").is_empty());
    }

    /// A scratch binary with a dep-info file naming one source, modified `source_age` before
    /// the binary (no source file when `None`).
    fn scratch(name: &str, source_age: Option<Duration>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("e2e-fresh-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("main.rs");
        let binary = dir.join("service");
        std::fs::write(&binary, "").unwrap();
        std::fs::write(
            dep_info_of(&binary),
            format!("{}: {}\n", binary.display(), source.display()),
        )
        .unwrap();
        // The binary is newer than the workspace's manifests and lock file.
        let built = SystemTime::now() + Duration::from_secs(3600);
        set_modified(&binary, built);
        if let Some(age) = source_age {
            std::fs::write(&source, "fn main() {}").unwrap();
            set_modified(&source, built - age);
        }
        binary
    }

    fn set_modified(path: &Path, time: SystemTime) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(time).unwrap();
    }

    fn dep_info_of(binary: &Path) -> PathBuf {
        binary.with_file_name("service.d")
    }

    #[test]
    fn a_binary_newer_than_its_sources_is_up_to_date() {
        let binary = scratch("newer", Some(Duration::from_secs(60)));
        assert!(is_up_to_date(&binary, &dep_info_of(&binary)));
        std::fs::remove_dir_all(binary.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_source_edited_after_the_build_makes_the_binary_stale() {
        let binary = scratch("older", Some(Duration::ZERO));
        let source = binary.with_file_name("main.rs");
        let later = SystemTime::now() + Duration::from_secs(7200);
        set_modified(&source, later);
        assert!(!is_up_to_date(&binary, &dep_info_of(&binary)));
        std::fs::remove_dir_all(binary.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_missing_source_or_dep_info_makes_the_binary_stale() {
        let binary = scratch("missing", None);
        assert!(
            !is_up_to_date(&binary, &dep_info_of(&binary)),
            "the source does not exist"
        );
        std::fs::remove_file(dep_info_of(&binary)).unwrap();
        assert!(
            !is_up_to_date(&binary, &dep_info_of(&binary)),
            "no dep-info"
        );
        std::fs::remove_dir_all(binary.parent().unwrap()).unwrap();
        assert!(!is_up_to_date(&binary, &dep_info_of(&binary)), "no binary");
    }
}
