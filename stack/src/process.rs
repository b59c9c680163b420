//! Runs the workspace's service binaries as child processes, configured only through
//! environment variables — the way `cargo run -p <service>` users and containers run them.
//! [`ProcessStack`] is the three wired together (the process journeys and the benchmarks'
//! memory and start-up figures use it); [`ServiceProcess`] is one of them.
//!
//! `CARGO_BIN_EXE_<name>` exists only for a package's own binaries, so [`binary`] asks cargo
//! for the others: once per process it runs `cargo test --workspace --no-run` with the
//! running executable's profile, target and target directory, and takes the paths of the
//! binaries from cargo's JSON messages. That is what `cargo test --workspace` builds before
//! it runs any test (cargo builds a package's binaries for its integration tests), with the
//! same feature resolution: under `cargo test --workspace` it finds everything fresh and
//! takes about a second; under `cargo test -p e2e` it builds what is missing or stale, and
//! what it builds is reused by the next workspace run. Cargo releases its build-directory
//! lock before it runs tests, so the nested cargo does not deadlock, and that lock
//! serialises test binaries that ask at the same time.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use contract::{DemoUser, MCP_AUDIENCE, UPSTREAM_AUDIENCE};
use tokio::process::{Child, Command};
use url::Url;

use crate::cargo_target::{CargoTarget, workspace_root};
use crate::readiness;
use crate::tokens::{self, MCP_SCOPE};

/// A service binary running as a child process; killed when dropped.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    child: Child,
    log: PathBuf,
    /// Where the service listens, e.g. `http://127.0.0.1:PORT/`.
    pub base_url: Url,
    /// Time from spawn to the probe's first 200, in milliseconds.
    pub ready_ms: f64,
}

/// The workspace's binaries by name, or why building them failed: asked of cargo once per
/// process.
static BUILT: Mutex<Option<Result<BTreeMap<String, PathBuf>, String>>> = Mutex::new(None);

/// The path of one of the workspace's binaries, built first when it is missing or stale; an
/// error when that build fails.
///
/// `E2E_BIN_DIR` names a directory of prebuilt binaries instead (e.g. release builds): they
/// are used as they are, never built. The first call in a process blocks while cargo checks
/// (and, if need be, builds) the binaries.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("E2E_BIN_DIR") {
        let path = PathBuf::from(dir).join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if !path.is_file() {
            bail!("{} does not exist (E2E_BIN_DIR is set)", path.display());
        }
        return Ok(path);
    }
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let binaries = built
        .get_or_insert_with(|| build_workspace().map_err(|error| format!("{error:#}")))
        .as_ref()
        .map_err(|error| anyhow!("{error}"))?;
    binaries.get(name).cloned().with_context(|| {
        format!(
            "`cargo test --workspace --no-run` built no binary named {name} (cargo builds a \
             package's binaries for its integration tests; it built: {})",
            binaries.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })
}

/// `cargo test --workspace --no-run` for the running executable's layout; the binaries it
/// reports, by name.
fn build_workspace() -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let target = CargoTarget::of_current_exe()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args = vec![
        "test".to_owned(),
        "--workspace".to_owned(),
        "--no-run".to_owned(),
        "--locked".to_owned(),
        "--message-format=json".to_owned(),
    ];
    args.extend(target.build_args());
    let command_line = format!("{} {}", cargo.to_string_lossy(), args.join(" "));
    let started = Instant::now();
    // Straight to stderr, past the test harness's output capture: a build can take minutes.
    eprintln_uncaptured(&format!(
        "e2e: checking the workspace's binaries with `{command_line}`"
    ));
    let mut child = std::process::Command::new(&cargo)
        .args(&args)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running `{command_line}`"))?;
    let stdout = child.stdout.take().context("cargo's piped stdout")?;
    let mut binaries = BTreeMap::new();
    let mut built = 0;
    let mut errors = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line?) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                built += usize::from(message["fresh"] == false);
                let is_bin = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"));
                if is_bin
                    && message["profile"]["test"] == false
                    && let (Some(name), Some(path)) = (
                        message["target"]["name"].as_str(),
                        message["executable"].as_str(),
                    )
                {
                    binaries.insert(name.to_owned(), PathBuf::from(path));
                }
            }
            Some("compiler-message") if message["message"]["level"] == "error" => {
                errors.extend(message["message"]["rendered"].as_str().map(str::to_owned));
            }
            _ => {}
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "building the workspace's binaries for the journeys failed: `{command_line}` exited \
             with {status}:\n{}",
            errors.join("\n")
        );
    }
    eprintln_uncaptured(&format!(
        "e2e: binaries ready ({built} units compiled, {:.0?})",
        started.elapsed()
    ));
    Ok(binaries)
}

/// Writes a line to the process's stderr directly: the test harness captures `eprintln!`,
/// and a build or an install that takes minutes must be seen while it runs.
pub fn eprintln_uncaptured(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Starts a daemon from a Debian package in the foreground, its output into `log`, killed
/// when the returned child is dropped; a missing binary is an error naming the package.
pub(crate) fn spawn_debian_daemon(
    command: &mut Command,
    package: &str,
    log: &std::path::Path,
) -> anyhow::Result<Child> {
    let program = command
        .as_std()
        .get_program()
        .to_string_lossy()
        .into_owned();
    let log = std::fs::File::create(log)
        .with_context(|| format!("creating the log file {}", log.display()))?;
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => anyhow!(
                "{program} is not installed: install the Debian package {package} \
                 (apt-get install -y {package})"
            ),
            _ => anyhow::Error::new(err).context(format!("starting {program}")),
        })
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
    /// Starts the workspace binary `name` (see [`binary`]); see [`ServiceProcess::start_program`].
    pub async fn start(
        name: &str,
        base_url: Url,
        probe: &str,
        env: &[(&str, String)],
        ready_within: Duration,
    ) -> anyhow::Result<Self> {
        Self::start_program(name, binary(name)?, base_url, probe, env, ready_within).await
    }

    /// Starts `program` with exactly `env` on top of a cleared environment (plus PATH and
    /// RUST_LOG, which `env` may override), so a developer's own `.env` or shell variables
    /// cannot leak into it, then waits for `GET {base_url}{probe}` (e.g. `ready`) to answer 200.
    /// [`DEFAULT_LOGGING`] in `env` leaves RUST_LOG unset: the binary's own default filter.
    pub async fn start_program(
        name: &str,
        program: PathBuf,
        base_url: Url,
        probe: &str,
        env: &[(&str, String)],
        ready_within: Duration,
    ) -> anyhow::Result<Self> {
        let log = std::env::temp_dir().join(format!(
            "e2e-{name}-{}-{}.log",
            base_url.port().unwrap_or_default(),
            std::process::id()
        ));
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("creating the log file {}", log.display()))?;
        // A scratch working directory: a `.env` in the workspace must not configure the child.
        let workdir = std::env::temp_dir();
        let started = Instant::now();
        let mut command = Command::new(&program);
        command
            .env_clear()
            .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())));
        if env
            .iter()
            .any(|(key, value)| (*key, value) == (DEFAULT_LOGGING.0, &DEFAULT_LOGGING.1))
        {
            command.env_remove("RUST_LOG");
        }
        command
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
            ready_ms: 0.0,
        };
        process.wait_healthy(probe, ready_within).await?;
        process.ready_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(process)
    }

    /// Polls the probe path until it answers 200, the child exits, or the deadline passes.
    async fn wait_healthy(&mut self, probe: &str, within: Duration) -> anyhow::Result<()> {
        let url = self.base_url.join(probe)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let (name, log, child) = (&self.name, &self.log, &mut self.child);
        readiness::wait_until_ok(&http, name, &url, within, || {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{name} exited with {status} before it was ready; its log:\n{}",
                    log_tail(log)
                );
            }
            Ok(())
        })
        .await
        .map_err(|error| anyhow!("{error:#}; its log:\n{}", log_tail(log)))
    }

    /// The binary's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operating system's id of the process, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// How many bytes the process has written to its log (stdout and stderr) so far.
    pub fn log_bytes(&self) -> anyhow::Result<u64> {
        Ok(std::fs::metadata(&self.log)
            .with_context(|| format!("reading the size of {}", self.log.display()))?
            .len())
    }

    /// The last lines the process wrote, for failure messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Stops the process and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.start_kill().ok();
        self.child.wait().await?;
        Ok(())
    }
}

/// The last 40 lines of a log file.
fn log_tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// An `env` entry that leaves RUST_LOG unset for the child, so it logs at its own default
/// level (what a user who sets nothing sees), whatever the parent's RUST_LOG.
pub const DEFAULT_LOGGING: (&str, String) = ("RUST_LOG", String::new());

/// How long a service binary may take to be ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The environment of one service binary: variable and value.
pub type ServiceEnv = Vec<(&'static str, String)>;

/// fake-auth0, upstream-api and mcp-server as child processes on free loopback ports, wired
/// to each other by environment variables alone. The API identifiers stay the contract's
/// defaults: an identifier is a name, not an address, so the embedded demo tenant works
/// unchanged while the services listen elsewhere.
#[derive(Debug)]
pub struct ProcessStack {
    /// fake-auth0 (its base URL is the issuer).
    pub idp: ServiceProcess,
    /// upstream-api.
    pub upstream: ServiceProcess,
    /// mcp-server.
    pub mcp: ServiceProcess,
    envs: [(&'static str, ServiceEnv); 3],
}

impl ProcessStack {
    /// Starts the workspace's binaries (see [`binary`]).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(binary, &[]).await
    }

    /// Starts the binaries `binary_of` finds, each with `extra_env` added to its wiring
    /// (e.g. `RUST_LOG=warn` or `LOG_FORMAT=json`); each is ready (`/health`, then `/ready` for
    /// the resource servers: keys loaded) before the next starts.
    pub async fn start_with(
        binary_of: impl Fn(&str) -> anyhow::Result<PathBuf>,
        extra_env: &[(&'static str, String)],
    ) -> anyhow::Result<Self> {
        Self::start_within(binary_of, extra_env, READY_WITHIN).await
    }

    /// [`ProcessStack::start_with`], each service given `ready_within` to be ready (a
    /// binary under valgrind needs far longer than 30 s to make its keys).
    pub async fn start_within(
        binary_of: impl Fn(&str) -> anyhow::Result<PathBuf>,
        extra_env: &[(&'static str, String)],
        ready_within: Duration,
    ) -> anyhow::Result<Self> {
        let [idp_port, api_port, mcp_port] = free_ports::<3>()?;
        let issuer = format!("http://127.0.0.1:{idp_port}/");
        let api_url = format!("http://127.0.0.1:{api_port}/");
        let mcp_url = format!("http://127.0.0.1:{mcp_port}/");
        let with_extra = |mut env: ServiceEnv| {
            env.extend(extra_env.iter().cloned());
            env
        };
        let idp_env = with_extra(vec![
            ("FAKE_AUTH0_LISTEN", format!("127.0.0.1:{idp_port}")),
            ("FAKE_AUTH0_ISSUER", issuer.clone()),
        ]);
        let api_env = with_extra(vec![
            ("UPSTREAM_API_LISTEN", format!("127.0.0.1:{api_port}")),
            ("AUTH0_DOMAIN", issuer.clone()),
            ("API_AUTH0_AUDIENCE", UPSTREAM_AUDIENCE.to_owned()),
        ]);
        let mcp_env = with_extra(vec![
            ("PORT", mcp_port.to_string()),
            ("AUTH0_DOMAIN", issuer.clone()),
            ("AUTH0_AUDIENCE", MCP_AUDIENCE.to_owned()),
            ("MCP_SERVER_URL", mcp_url.clone()),
            ("API_AUTH0_AUDIENCE", UPSTREAM_AUDIENCE.to_owned()),
            ("API_BASE_URL", api_url.clone()),
        ]);
        let start = |name: &'static str, url: &str, probe: &'static str, env: &ServiceEnv| {
            let program = binary_of(name);
            let url = Url::parse(url);
            let env = env.clone();
            async move {
                ServiceProcess::start_program(name, program?, url?, probe, &env, ready_within).await
            }
        };
        let idp = start("fake-auth0", &issuer, "health", &idp_env).await?;
        let upstream = start("upstream-api", &api_url, "ready", &api_env).await?;
        let mcp = start("mcp-server", &mcp_url, "ready", &mcp_env).await?;
        Ok(Self {
            idp,
            upstream,
            mcp,
            envs: [
                ("fake-auth0", idp_env),
                ("upstream-api", api_env),
                ("mcp-server", mcp_env),
            ],
        })
    }

    /// Each binary's name and the environment it was started with.
    pub fn envs(&self) -> &[(&'static str, ServiceEnv); 3] {
        &self.envs
    }

    /// The three, in start order.
    pub fn services(&self) -> [&ServiceProcess; 3] {
        [&self.idp, &self.upstream, &self.mcp]
    }

    /// The MCP endpoint, `<mcp base URL>mcp`.
    pub fn mcp_endpoint(&self) -> Url {
        self.mcp
            .base_url
            .join("mcp")
            .expect("a relative path joins")
    }

    /// An access token for the MCP server (the contract's identifier) for a demo user.
    pub async fn token_for(
        &self,
        http: &reqwest::Client,
        user: DemoUser,
    ) -> anyhow::Result<String> {
        tokens::password_grant(http, &self.idp.base_url, user, MCP_AUDIENCE, MCP_SCOPE).await
    }

    /// Stops all three, the MCP server first.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.mcp.stop().await?;
        self.upstream.stop().await?;
        self.idp.stop().await
    }
}
