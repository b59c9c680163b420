//! Runs the built service binaries as child processes, configured only through environment
//! variables — the way `cargo run -p <service>` users and containers run them.
//!
//! The binaries are found next to the running test executable's target directory
//! (`target/<profile>/<bin>`), because `CARGO_BIN_EXE_<name>` exists only for a package's own
//! binaries. `.ci/run` (and `just test`) builds the whole workspace before testing, so they
//! are there and current; when one is missing the error says which command builds it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

/// A service binary running as a child process; killed when dropped.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    child: Child,
    log: PathBuf,
    /// Where the service listens, e.g. `http://127.0.0.1:PORT/`.
    pub base_url: url::Url,
}

/// The directory holding the workspace's built binaries (`target/debug` for tests).
///
/// `E2E_BIN_DIR` overrides it (e.g. to test release builds).
pub fn binary_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("E2E_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    // A test executable lives in target/<profile>/deps/; the binaries in target/<profile>/.
    let exe = std::env::current_exe().context("locating the test executable")?;
    let mut dir = exe.parent().map(Path::to_path_buf);
    while let Some(candidate) = dir {
        if candidate.file_name().is_some_and(|name| name == "deps") {
            return candidate
                .parent()
                .map(Path::to_path_buf)
                .context("target/<profile>/deps has no parent");
        }
        dir = candidate.parent().map(Path::to_path_buf);
    }
    exe.parent()
        .map(Path::to_path_buf)
        .context("the test executable has no parent directory")
}

/// The path of one of the workspace's binaries, or an error saying how to build it.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let path = binary_dir()?.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "{} is not built; run `cargo build --workspace` first (.ci/run and `just test` do), \
             or set E2E_BIN_DIR to the directory holding the binaries",
            path.display()
        );
    }
    Ok(path)
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
