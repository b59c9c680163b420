//! `cargo run --release -p bench -- replicas`: whole-chain calls/s and latency with one and
//! with three mcp-server replicas behind a real load balancer, in one run, and their ratio.
//!
//! Each deployment is started fresh, as the balancer journey (`e2e/tests/journeys/balancer.rs`)
//! starts its own: Debian's redis-server (`stack::redis::RedisServer`) and haproxy
//! (`stack::balancer::Balancer`: round-robin per request, no stickiness) in front of N
//! mcp-server release binaries sharing that Redis, with fake-auth0 and upstream-api as release
//! binaries too. The tenant's MCP API identifier is the balancer's URL, which every replica
//! uses as AUTH0_AUDIENCE and MCP_SERVER_URL, as a deployment behind a balancer would. The
//! one-replica deployment is also measured directly (no balancer), so the balancer hop's own
//! cost shows beside the 3:1 ratio.
//!
//! Measured: stateless (2026-07-28) `whoami` and `greet` (its exchange cache warm) by the same
//! closed-loop driver as every other figure, with the replicas' CPU per call and the Redis
//! commands per call around each point. Errors are counted and fail the run after the results
//! are written. Writes `replicas.json` and `replicas.md` into the results folder.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use serde::Serialize;
use serde_json::{Value, json};
use stack::balancer::Balancer;
use stack::process::{ServiceProcess, free_ports};
use stack::redis::RedisServer;
use url::Url;

use crate::load::{self, Shape, Workload};
use crate::processes;
use crate::report::Machine;
use crate::workloads::{self, Era};

/// `replicas`' options.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplicasArgs {
    /// Measured seconds per point.
    #[arg(long, env = "BENCH_REPLICAS_SECS", default_value_t = 10.0)]
    pub seconds: f64,
    /// Unmeasured warm-up per point, seconds (connections open, every replica's exchange
    /// cache fills).
    #[arg(long, env = "BENCH_REPLICAS_WARMUP_SECS", default_value_t = 3.0)]
    pub warmup_secs: f64,
    /// Concurrent clients (one keep-alive connection each, to the balancer).
    #[arg(long, env = "BENCH_REPLICAS_CLIENTS", default_value_t = 64)]
    pub clients: usize,
    /// How many replicas the scaled deployment runs (the other runs one).
    #[arg(long, env = "BENCH_REPLICAS_SCALED", default_value_t = 3)]
    pub scaled: usize,
}

/// At most this many replicas (the ports are picked together, see [`free_ports`]).
const MAX_REPLICAS: usize = 8;

/// The tools measured, each a stateless call.
const TOOLS: [(&str, &str); 2] = [("whoami", "whoami"), ("greet (cache hit)", "greet")];

/// How long a release binary may take to be ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// One deployment: the IdP, the upstream API, Redis, the balancer and N replicas.
struct Deployment {
    /// Stopped when dropped, as is the balancer.
    redis: RedisServer,
    balancer: Balancer,
    idp: ServiceProcess,
    upstream: ServiceProcess,
    replicas: Vec<ServiceProcess>,
    token: String,
}

/// One measured point.
#[derive(Debug, Clone, Serialize)]
struct Row {
    workload: String,
    /// How the clients reach the replicas.
    path: String,
    replicas: usize,
    behind_balancer: bool,
    measured: load::Measured,
    /// CPU of every mcp-server replica per call (the measured window's share), µs.
    replicas_cpu_us_per_call: f64,
    /// Commands Redis processed per call over the point (warm-up included).
    redis_commands_per_call: f64,
}

/// Calls/s with the scaled deployment over calls/s with one replica, both behind the balancer.
#[derive(Debug, Clone, Serialize)]
struct Ratio {
    workload: String,
    one: f64,
    scaled: f64,
    ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
struct ReplicasResults {
    date: String,
    machine: Machine,
    settings: Value,
    rows: Vec<Row>,
    ratios: Vec<Ratio>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs both deployments one after the other on `driver` and writes the results.
pub async fn run(
    args: &ReplicasArgs,
    out: &Path,
    driver: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    ensure!(
        (2..=MAX_REPLICAS).contains(&args.scaled),
        "--scaled must be 2 to {MAX_REPLICAS}"
    );
    ensure!(args.clients >= 1, "--clients must be at least 1");
    let dir = processes::binary_dir()?;
    ensure!(
        processes::binaries_present(&dir),
        "replicas runs the release binaries, which are not built in {} \
         (`cargo build --release -p fake-auth0 -p upstream-api -p mcp-server`)",
        dir.display()
    );
    let shape = Shape {
        concurrency: args.clients,
        warmup: Duration::from_secs_f64(args.warmup_secs),
        duration: Duration::from_secs_f64(args.seconds),
    };
    let scratch = std::env::temp_dir().join(format!("bench-replicas-{}", std::process::id()));
    let mut rows = Vec::new();
    for count in [1, args.scaled] {
        let _ = std::fs::remove_dir_all(&scratch);
        let deployment = Deployment::start(&dir, &scratch.join(count.to_string()), count).await?;
        eprintln!(
            "{count} replica(s) behind haproxy at {}:",
            deployment.balancer.url
        );
        let mut targets = vec![(true, workloads::addr_of(&deployment.balancer.url)?)];
        if count == 1 {
            targets.push((false, workloads::addr_of(&deployment.replicas[0].base_url)?));
        }
        for (behind_balancer, addr) in targets {
            for (name, tool) in TOOLS {
                let workload = workloads::tool_call(
                    Era::Stateless,
                    tool,
                    &json!({ "name": "bench" }),
                    Some(&deployment.token),
                    None,
                )?;
                let row = deployment
                    .point(driver, name, workload, addr, behind_balancer, shape)
                    .await?;
                rows.push(row);
            }
        }
        deployment.stop().await?;
    }
    let _ = std::fs::remove_dir_all(&scratch);

    let ratios = TOOLS
        .iter()
        .filter_map(|(name, _)| {
            let rate = |replicas: usize| {
                rows.iter()
                    .find(|r| r.workload == *name && r.behind_balancer && r.replicas == replicas)
                    .map(|r| r.measured.calls_per_s)
            };
            let (one, scaled) = (rate(1)?, rate(args.scaled)?);
            Some(Ratio {
                workload: (*name).to_owned(),
                one,
                scaled,
                ratio: scaled / one.max(1e-9),
            })
        })
        .collect();
    let errors = rows.iter().map(|r| r.measured.errors).sum();
    let first_error = rows.iter().find_map(|r| r.measured.first_error.clone());
    let results = ReplicasResults {
        date: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        machine: Machine::detect(),
        settings: json!({
            "measured_s": args.seconds,
            "warmup_s": args.warmup_secs,
            "clients": args.clients,
            "replicas": [1, args.scaled],
            "era": workloads::MODERN,
            "balancer": "Debian haproxy, round-robin per request, http-server-close, no stickiness",
            "shared_state": "one Debian redis-server on a Unix socket (MCP_REDIS_URL)",
            "driver": "hyper 1 HTTP/1.1 client, one keep-alive connection per client, closed loop",
        }),
        rows,
        ratios,
        errors,
        first_error,
    };
    results.write(out)?;
    println!("{}", results.markdown());
    eprintln!("wrote {0}/replicas.json and {0}/replicas.md", out.display());
    ensure!(
        results.errors == 0,
        "{} calls failed (first: {})",
        results.errors,
        results.first_error.as_deref().unwrap_or("?")
    );
    Ok(())
}

impl Deployment {
    /// Starts Redis, the balancer, fake-auth0 (its tenant naming the balancer as the MCP API),
    /// upstream-api and `count` replicas from the release binaries in `binaries`, waits until
    /// every replica has its shared state up, mints a token and checks that both tools answer
    /// through the balancer.
    async fn start(binaries: &Path, scratch: &Path, count: usize) -> anyhow::Result<Self> {
        std::fs::create_dir_all(scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let redis = RedisServer::start(scratch.join("redis")).await?;
        let ports = free_ports::<{ MAX_REPLICAS + 2 }>()?;
        let (idp_port, upstream_port) = (ports[0], ports[1]);
        let backends: Vec<SocketAddr> = ports[2..2 + count]
            .iter()
            .map(|port| SocketAddr::from(([127, 0, 0, 1], *port)))
            .collect();
        let balancer = Balancer::start(scratch.join("haproxy"), &backends).await?;
        let audience = balancer.url.to_string();
        let issuer = format!("http://127.0.0.1:{idp_port}/");
        let upstream_url = format!("http://127.0.0.1:{upstream_port}/");

        let tenant_file = scratch.join("tenant.json");
        write_tenant(&tenant_file, &audience, &upstream_url)?;
        // A log line per request would be part of what is measured.
        let quiet = ("RUST_LOG", "warn".to_owned());
        let start = |name: &'static str,
                     url: String,
                     probe: &'static str,
                     env: Vec<(&'static str, String)>| {
            let program = binaries.join(name);
            async move {
                ServiceProcess::start_program(
                    name,
                    program,
                    Url::parse(&url)?,
                    probe,
                    &env,
                    READY_WITHIN,
                )
                .await
            }
        };
        let idp = start(
            "fake-auth0",
            issuer.clone(),
            "health",
            vec![
                ("FAKE_AUTH0_LISTEN", format!("127.0.0.1:{idp_port}")),
                ("FAKE_AUTH0_ISSUER", issuer.clone()),
                ("FAKE_AUTH0_TENANT", tenant_file.display().to_string()),
                quiet.clone(),
            ],
        )
        .await?;
        let upstream = start(
            "upstream-api",
            upstream_url.clone(),
            "ready",
            vec![
                ("UPSTREAM_API_LISTEN", format!("127.0.0.1:{upstream_port}")),
                ("AUTH0_DOMAIN", issuer.clone()),
                ("API_AUTH0_AUDIENCE", upstream_url.clone()),
                quiet.clone(),
            ],
        )
        .await?;
        let mut replicas = Vec::with_capacity(count);
        for backend in &backends {
            let env = vec![
                ("PORT", backend.port().to_string()),
                ("AUTH0_DOMAIN", issuer.clone()),
                ("AUTH0_AUDIENCE", audience.clone()),
                ("MCP_SERVER_URL", audience.clone()),
                ("API_AUTH0_AUDIENCE", upstream_url.clone()),
                ("API_BASE_URL", upstream_url.clone()),
                (
                    "MCP_AUTH0_SUBJECT_TOKEN_TYPE",
                    contract::SUBJECT_TOKEN_TYPE.to_owned(),
                ),
                ("MCP_REDIS_URL", redis.url()),
                quiet.clone(),
            ];
            replicas.push(start("mcp-server", format!("http://{backend}/"), "ready", env).await?);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        for replica in &replicas {
            stack::readiness::wait_shared_state_up(&http, &replica.base_url, READY_WITHIN).await?;
        }
        wait_balancer_serves(&http, &balancer).await?;
        let (mut tokens, _) = workloads::mint_tokens(&http, &idp.base_url, &audience, 1, 1).await?;
        let token = tokens.pop().context("no token minted")?;
        // Twice round the replicas with each tool: every replica answers both before timing.
        let balancer_addr = workloads::addr_of(&balancer.url)?;
        for (name, tool) in TOOLS {
            let workload = workloads::tool_call(
                Era::Stateless,
                tool,
                &json!({ "name": "bench" }),
                Some(&token),
                None,
            )?;
            load::run_in_sequence(balancer_addr, std::iter::repeat_n(&workload, 2 * count))
                .await
                .with_context(|| format!("{name} through the balancer; {}", balancer.log()))?;
        }
        Ok(Self {
            redis,
            balancer,
            idp,
            upstream,
            replicas,
            token,
        })
    }

    /// One point on `driver` against `addr`, with the replicas' CPU and Redis's command count
    /// around it.
    async fn point(
        &self,
        driver: &tokio::runtime::Runtime,
        name: &str,
        workload: Workload,
        addr: SocketAddr,
        behind_balancer: bool,
        shape: Shape,
    ) -> anyhow::Result<Row> {
        let watched = processes::watched(self.replicas.iter());
        let commands_before = commands_processed(&self.redis).await?;
        let measured = driver
            .spawn(async move { load::run(addr, &workload, shape, watched).await })
            .await
            .context("the driver task panicked")?
            .with_context(|| format!("{name} against {addr}"))?;
        let commands = commands_processed(&self.redis).await? - commands_before;
        let all_calls = measured.calls_per_s * (shape.warmup + shape.duration).as_secs_f64();
        let replicas = self.replicas.len();
        let path = if behind_balancer {
            format!("{replicas} behind haproxy")
        } else {
            "1, direct (no balancer)".to_owned()
        };
        let row = Row {
            workload: name.to_owned(),
            path,
            replicas,
            behind_balancer,
            replicas_cpu_us_per_call: measured
                .processes_cpu
                .iter()
                .map(|p| p.cpu_us_per_call)
                .sum(),
            redis_commands_per_call: commands as f64 / all_calls.max(1.0),
            measured,
        };
        eprintln!(
            "  {:<18} {:<24} {:>8.0} calls/s  p50 {:>6.2} ms  p99 {:>6.2} ms  replicas' CPU {:>5.0} µs/call  Redis {:.3} cmds/call  errors {}{}",
            row.workload,
            row.path,
            row.measured.calls_per_s,
            row.measured.p50_ms,
            row.measured.p99_ms,
            row.replicas_cpu_us_per_call,
            row.redis_commands_per_call,
            row.measured.errors,
            row.measured
                .first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
        );
        Ok(row)
    }

    /// Stops the replicas first, then the services they call; Redis and haproxy go when
    /// dropped.
    async fn stop(self) -> anyhow::Result<()> {
        for replica in self.replicas {
            replica.stop().await?;
        }
        self.upstream.stop().await?;
        self.idp.stop().await
    }
}

/// Writes the demo tenant with the MCP API named `audience` (the balancer's URL) and the
/// upstream API `upstream` as a tenant file for fake-auth0 (`FAKE_AUTH0_TENANT`).
fn write_tenant(file: &Path, audience: &str, upstream: &str) -> anyhow::Result<()> {
    let tenant = fake_auth0::Tenant::demo_for(audience, upstream);
    std::fs::write(file, serde_json::to_vec_pretty(&tenant)?)
        .with_context(|| format!("writing {}", file.display()))
}

/// Commands Redis has processed since it started (`total_commands_processed` of `INFO stats`).
async fn commands_processed(redis: &RedisServer) -> anyhow::Result<u64> {
    let info = redis.cli(&["INFO", "stats"]).await?;
    info.lines()
        .find_map(|line| line.strip_prefix("total_commands_processed:"))
        .and_then(|value| value.trim().parse().ok())
        .context("INFO stats has no total_commands_processed")
}

/// Polls the balancer's `/health` until it answers 200: haproxy has seen a replica pass its
/// health check (until then it answers 503, and the others join within a check interval,
/// well inside the warm-up).
async fn wait_balancer_serves(http: &reqwest::Client, balancer: &Balancer) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_WITHIN;
    let health = balancer.url.join("health")?;
    loop {
        let answer = http.get(health.clone()).send().await;
        if answer.as_ref().is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "the balancer never served /health: {answer:?}; {}",
            balancer.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl ReplicasResults {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(
            dir.join("replicas.json"),
            serde_json::to_string_pretty(self)?,
        )?;
        std::fs::write(dir.join("replicas.md"), self.markdown())?;
        Ok(())
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Replicas: {} clients, {} s per point after {} s of warm-up, stateless ({}) calls; {}\n",
            self.settings["clients"],
            self.settings["measured_s"],
            self.settings["warmup_s"],
            workloads::MODERN,
            if self.errors == 0 {
                "0 errors".to_owned()
            } else {
                format!(
                    "**{} errors** (first: {})",
                    self.errors,
                    self.first_error.as_deref().unwrap_or("?")
                )
            }
        );
        out.push_str(
            "| tool | replicas | calls/s | p50 ms | p99 ms | replicas' CPU µs/call | Redis commands/call | errors |\n",
        );
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for row in &self.rows {
            let m = &row.measured;
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.3} | {} |",
                row.workload,
                row.path,
                m.calls_per_s,
                m.p50_ms,
                m.p99_ms,
                row.replicas_cpu_us_per_call,
                row.redis_commands_per_call,
                m.errors
            );
        }
        out.push_str("\n| tool | 1 replica calls/s | ");
        let scaled = self.settings["replicas"][1].as_u64().unwrap_or(0);
        let _ = writeln!(out, "{scaled} replicas calls/s | {scaled}:1 |");
        out.push_str("|---|---:|---:|---:|\n");
        for ratio in &self.ratios {
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.0} | {:.2} |",
                ratio.workload, ratio.one, ratio.scaled, ratio.ratio
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        workload: &str,
        replicas: usize,
        behind_balancer: bool,
        calls_per_s: f64,
        errors: u64,
    ) -> Row {
        Row {
            workload: workload.to_owned(),
            path: format!("{replicas}"),
            replicas,
            behind_balancer,
            measured: load::Measured {
                concurrency: 64,
                calls: 100,
                errors,
                first_error: (errors > 0).then(|| "HTTP 502".to_owned()),
                window_s: 10.0,
                calls_per_s,
                p50_ms: 1.0,
                p90_ms: 2.0,
                p99_ms: 3.0,
                max_ms: 4.0,
                pool_exhausted: false,
                services_cpu_us_per_call: 0.0,
                driver_cpu_us_per_call: 0.0,
                cpu_busy: 0.0,
                processes_cpu: Vec::new(),
            },
            replicas_cpu_us_per_call: 0.0,
            redis_commands_per_call: 0.0,
        }
    }

    #[test]
    fn the_tenant_file_loads_back_naming_the_balancer_as_the_mcp_api() {
        let dir = std::env::temp_dir().join(format!("bench-tenant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tenant.json");
        write_tenant(&file, "http://127.0.0.1:4100/", "http://127.0.0.1:4200/").unwrap();
        let tenant = fake_auth0::Tenant::from_file(&file).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let identifiers: Vec<&str> = tenant
            .resource_servers
            .iter()
            .map(|api| api.identifier.as_str())
            .collect();
        assert!(
            identifiers.contains(&"http://127.0.0.1:4100/"),
            "{identifiers:?}"
        );
        assert!(
            identifiers.contains(&"http://127.0.0.1:4200/"),
            "{identifiers:?}"
        );
        assert!(
            !identifiers.contains(&contract::MCP_AUDIENCE),
            "{identifiers:?}"
        );
    }

    #[test]
    fn the_table_gives_the_ratio_and_a_run_with_errors_says_so() {
        let results = ReplicasResults {
            date: String::new(),
            machine: Machine::detect(),
            settings: json!({ "clients": 64, "measured_s": 10.0, "warmup_s": 3.0, "replicas": [1, 3] }),
            rows: vec![
                row("whoami", 1, true, 4000.0, 0),
                row("whoami", 3, true, 3000.0, 2),
            ],
            ratios: vec![Ratio {
                workload: "whoami".to_owned(),
                one: 4000.0,
                scaled: 3000.0,
                ratio: 0.75,
            }],
            errors: 2,
            first_error: Some("HTTP 502".to_owned()),
        };
        let table = results.markdown();
        assert!(table.contains("**2 errors** (first: HTTP 502)"), "{table}");
        assert!(table.contains("| whoami | 4000 | 3000 | 0.75 |"), "{table}");
        assert!(table.contains("| 3 replicas calls/s | 3:1 |"), "{table}");
    }
}
