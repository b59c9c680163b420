//! `cargo run --release -p bench`: throughput, latency and memory of the whole MCP chain over
//! real HTTP, next to the floor of a no-op endpoint measured by the same driver in the same
//! run. See BENCHMARKS.md for what each figure means and what bounds it.
//!
//! The stack (fake-auth0, upstream-api, mcp-server: `stack::TestStack`) and the no-op floor
//! server run on this process's main Tokio runtime; the load driver runs on a second runtime,
//! so the two are scheduled by the kernel as two processes would be — on the same cores.
//! Then the release binaries run as processes, for what one process cannot split: each
//! service's own CPU per call, its readiness and its memory.
//!
//! `cargo run --release -p bench -- soak` runs the soak instead (`soak`): the release
//! binaries under a long steady load, their memory and descriptors sampled over time;
//! `-- replicas` measures one and three mcp-server replicas behind a load balancer (`replicas`);
//! `-- floors` serves the two floors for an outside load generator (`bench/wrk/`).

mod cpu;
mod instructions;
mod load;
mod processes;
mod replicas;
mod report;
mod rmcp_floor;
mod rss;
mod soak;
mod workloads;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use mcp_server::SessionLimits;
use mcp_server::exchange::ExchangeMode;
use serde_json::json;
use stack::{DemoUser, TestStack};

use crate::load::{Measured, Shape, TokenPool, WatchedProcess, Workload};
use crate::report::{Machine, Point, ProcessPhase, Results, TargetCheck};
use crate::workloads::Era;

/// mimalloc instead of glibc's allocator: malloc and free were about a quarter of the
/// instructions of a tool call (callgrind; BENCHMARKS.md, "Instructions per call").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmarks the MCP chain, its floor, and the IdP's token endpoint; writes JSON, markdown
/// and an SVG plot.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Measured seconds per point.
    #[arg(long, env = "BENCH_DURATION_SECS", default_value_t = 3.0)]
    duration_secs: f64,
    /// Unmeasured warm-up per point, milliseconds.
    #[arg(long, env = "BENCH_WARMUP_MS", default_value_t = 500)]
    warmup_ms: u64,
    /// Concurrent clients (comma separated).
    #[arg(long, env = "BENCH_CONCURRENCY", value_delimiter = ',', default_values_t = [1, 16, 64, 256])]
    concurrency: Vec<usize>,
    /// Fresh subject tokens minted for each cache-miss point (at 1 client: half of this).
    #[arg(long, env = "BENCH_MISS_TOKENS", default_value_t = 12_000)]
    miss_tokens: usize,
    /// Worker threads of the load driver's runtime.
    #[arg(long, env = "BENCH_DRIVER_THREADS", default_value_t = 2)]
    driver_threads: usize,
    /// Where results.json, results.md and latency.svg go.
    #[arg(long, env = "BENCH_OUT", default_value = "bench-results")]
    out: PathBuf,
    /// Skip the phase that runs the release binaries as processes.
    #[arg(long, env = "BENCH_SKIP_PROCESSES")]
    skip_processes: bool,
    /// Extra environment of the release binaries in the process phase, `NAME=value`
    /// (repeatable), e.g. `TOKIO_WORKER_THREADS=1`.
    #[arg(long = "service-env", value_name = "NAME=value", value_parser = parse_env_pair)]
    service_env: Vec<(String, String)>,
    /// Concurrent clients of the process phase's per-service CPU points (also the level
    /// whose in-process floor they are compared with).
    #[arg(long, env = "BENCH_PER_SERVICE_CLIENTS", default_value_t = 64)]
    per_service_clients: usize,
    /// Only the chain scenarios whose name contains this text (for profiling one path);
    /// the floors always run.
    #[arg(long, env = "BENCH_ONLY")]
    only: Option<String>,
    /// Skip fake-auth0's token endpoint figures.
    #[arg(long, env = "BENCH_SKIP_IDP")]
    skip_idp: bool,
    /// Instead of the load run: count instructions per call of each service under valgrind's
    /// callgrind (release binaries as processes; `--only` selects scenarios).
    #[arg(long, env = "BENCH_INSTRUCTIONS")]
    instructions: bool,
    /// Counted calls per scenario of `--instructions` (the token exchange counts a fifth).
    #[arg(long, env = "BENCH_INSTRUCTION_CALLS", default_value_t = 1000)]
    instruction_calls: usize,
    /// Another mode instead of the benchmark.
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Debug, clap::Subcommand)]
enum Mode {
    /// The three release binaries under a steady load for a long time (10 min by default):
    /// errors, RSS, open file descriptors and threads of each service over time, into
    /// soak.json, soak.csv and soak.svg.
    Soak(soak::SoakArgs),
    /// Whole-chain calls/s and latency with 1 and with 3 mcp-server release binaries behind
    /// haproxy (round-robin, no stickiness) sharing one Redis, and the 3:1 ratio, into
    /// replicas.json and replicas.md.
    Replicas(replicas::ReplicasArgs),
    /// Serves the two floors, the no-op POST (`/noop`) and rmcp alone (`/mcp`, one tool
    /// named `constant`), on ports of 127.0.0.1 until Ctrl-C, and prints their URLs: for
    /// measuring them with a load generator of your own (`bench/wrk/run` uses wrk).
    Floors,
}

/// One row family of the chain table.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    name: &'static str,
    era: Era,
    tool: &'static str,
    fresh_tokens: bool,
    /// Against the second stack, whose MCP server uses Auth0's On-Behalf-Of exchange (the
    /// first uses Custom Token Exchange, the demo's).
    on_behalf_of: bool,
}

const SCENARIOS: [Scenario; 8] = [
    Scenario {
        name: "get_current_time",
        era: Era::Stateless,
        tool: "get_current_time",
        fresh_tokens: false,
        on_behalf_of: false,
    },
    Scenario {
        name: "whoami",
        era: Era::Stateless,
        tool: "whoami",
        fresh_tokens: false,
        on_behalf_of: false,
    },
    Scenario {
        name: "greet (cache hit)",
        era: Era::Stateless,
        tool: "greet",
        fresh_tokens: false,
        on_behalf_of: false,
    },
    Scenario {
        name: "greet (cache miss)",
        era: Era::Stateless,
        tool: "greet",
        fresh_tokens: true,
        on_behalf_of: false,
    },
    Scenario {
        name: "whoami",
        era: Era::Session,
        tool: "whoami",
        fresh_tokens: false,
        on_behalf_of: false,
    },
    Scenario {
        name: "greet (cache hit)",
        era: Era::Session,
        tool: "greet",
        fresh_tokens: false,
        on_behalf_of: false,
    },
    Scenario {
        name: "greet OBO (cache hit)",
        era: Era::Stateless,
        tool: "greet",
        fresh_tokens: false,
        on_behalf_of: true,
    },
    Scenario {
        name: "greet OBO (cache miss)",
        era: Era::Stateless,
        tool: "greet",
        fresh_tokens: true,
        on_behalf_of: true,
    },
];

const FLOOR: &str = "floor: no-op POST";
/// The per-user session cap of the benchmark's servers: every session client is the same
/// user (admin@example.com) with a session of its own, and the sessions of one point stay
/// open through the next ones (until they idle out), so the cap that keeps one user from
/// exhausting a real server (32 by default) becomes the replica's cap.
const SESSIONS_PER_USER: usize = SessionLimits::DEFAULT.max_sessions;

/// rmcp alone with a constant tool (`rmcp_floor`): what the framework itself costs.
const RMCP_FLOOR: &str = "floor: rmcp alone";

fn era_name(era: Era) -> &'static str {
    match era {
        Era::Stateless => "stateless",
        Era::Session => "session",
    }
}

struct Bench {
    cli: Cli,
    driver: tokio::runtime::Runtime,
}

impl Bench {
    fn shape(&self, concurrency: usize) -> Shape {
        Shape {
            concurrency,
            warmup: Duration::from_millis(self.cli.warmup_ms),
            duration: Duration::from_secs_f64(self.cli.duration_secs),
        }
    }

    /// Whether `--only` leaves `scenario` in.
    fn selected(&self, scenario: &Scenario) -> bool {
        let label = format!("{} [{}]", scenario.name, era_name(scenario.era));
        self.cli
            .only
            .as_ref()
            .is_none_or(|only| label.contains(only.as_str()))
    }

    /// The requests of `scenario`: the admin's token on every call, or for a cache-miss
    /// scenario a pool of fresh subject tokens minted now at `idp_url` for `audience` (the
    /// minting rate goes into `grant_rates`).
    #[allow(clippy::too_many_arguments)]
    async fn scenario_workload(
        &self,
        scenario: &Scenario,
        mint_http: &reqwest::Client,
        idp_url: &url::Url,
        audience: &str,
        admin: &str,
        concurrency: usize,
        grant_rates: &mut Vec<f64>,
    ) -> anyhow::Result<(Workload, Option<Arc<TokenPool>>)> {
        let arguments = json!({ "name": "bench" });
        if !scenario.fresh_tokens {
            let workload =
                workloads::tool_call(scenario.era, scenario.tool, &arguments, Some(admin), None)?;
            return Ok((workload, None));
        }
        let count = if concurrency == 1 {
            self.cli.miss_tokens / 2
        } else {
            self.cli.miss_tokens
        };
        let (tokens, rate) =
            workloads::mint_tokens(mint_http, idp_url, audience, count, 32).await?;
        grant_rates.push(rate);
        let pool = Arc::new(TokenPool::new(&tokens)?);
        let workload = workloads::tool_call(
            scenario.era,
            scenario.tool,
            &arguments,
            None,
            Some(Arc::clone(&pool)),
        )?;
        Ok((workload, Some(pool)))
    }

    /// Runs one point on the driver runtime, with the in-process RSS around it and the CPU of
    /// each `watched` process over its measured window.
    async fn point(
        &self,
        scenario: &str,
        era: &str,
        addr: SocketAddr,
        workload: Workload,
        concurrency: usize,
        watched: &[WatchedProcess],
    ) -> anyhow::Result<Point> {
        let shape = self.shape(concurrency);
        let rss_before_mb = rss::rss_mb();
        let watched = watched.to_vec();
        let measured: Measured = self
            .driver
            .spawn(async move { load::run(addr, &workload, shape, watched).await })
            .await
            .context("the driver task panicked")?
            .with_context(|| format!("{scenario} [{era}] at {concurrency} clients"))?;
        let rss_after_mb = rss::rss_mb();
        // In process the services' CPU is this process's other threads; with watched
        // processes it is theirs, one figure each.
        let server_cpu = if measured.processes_cpu.is_empty() {
            format!(
                "server CPU {:>6.1} µs/call",
                measured.services_cpu_us_per_call
            )
        } else {
            measured
                .processes_cpu
                .iter()
                .map(|p| format!("{} {:.1} µs/call", p.service, p.cpu_us_per_call))
                .collect::<Vec<_>>()
                .join("  ")
        };
        eprintln!(
            "  {scenario:<22} {era:<9} c={concurrency:<4} {:>9.0} calls/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {server_cpu}  errors {}{}",
            measured.calls_per_s,
            measured.p50_ms,
            measured.p99_ms,
            measured.errors,
            measured
                .first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
        );
        Ok(Point {
            scenario: scenario.to_owned(),
            era: era.to_owned(),
            measured,
            floor_fraction: None,
            rss_before_mb,
            rss_after_mb,
        })
    }
}

/// `bench floors`: the no-op floor and rmcp alone, served as in every run, until Ctrl-C.
async fn serve_floors() -> anyhow::Result<()> {
    let (noop, _stop_noop) = workloads::spawn_floor().await?;
    let (rmcp, _stop_rmcp) = rmcp_floor::spawn().await?;
    println!("floor: no-op POST  http://{noop}/noop");
    println!(
        "floor: rmcp alone  http://{rmcp}/mcp (tool {})",
        rmcp_floor::TOOL
    );
    println!("pid {}; Ctrl-C stops both", std::process::id());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
}

/// `NAME=value`, with a non-empty name.
fn parse_env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=value, got {text:?}")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    if cli.instructions {
        eprintln!("instructions per call (valgrind --tool=callgrind):");
        let counts =
            instructions::run(&cli.out, cli.instruction_calls, cli.only.as_deref()).await?;
        println!("{}", instructions::markdown(&counts));
        eprintln!(
            "wrote {0}/instructions.json, {0}/instructions.md and {0}/callgrind/ in {1:.0} s",
            cli.out.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    if let Some(Mode::Floors) = cli.mode {
        return serve_floors().await;
    }
    let driver = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.driver_threads.max(1))
        .thread_name(cpu::DRIVER_THREAD)
        .enable_all()
        .build()
        .context("building the driver runtime")?;
    let outcome = match &cli.mode {
        Some(Mode::Soak(args)) => Some(soak::run(args, &cli.out, &driver).await),
        Some(Mode::Replicas(args)) => Some(replicas::run(args, &cli.out, &driver).await),
        Some(Mode::Floors) => unreachable!("`floors` is served before the driver is built"),
        None => None,
    };
    if let Some(outcome) = outcome {
        driver.shutdown_background();
        return outcome;
    }
    let settings = json!({
        "duration_s": cli.duration_secs,
        "warmup_ms": cli.warmup_ms,
        "concurrency": cli.concurrency,
        "miss_tokens_per_point": cli.miss_tokens,
        "driver_threads": cli.driver_threads,
        "per_service_clients": cli.per_service_clients,
        "service_env": cli.service_env,
        "stack_runtime_threads": std::thread::available_parallelism().map_or(1, usize::from),
        "driver": "hyper 1 HTTP/1.1 client, one keep-alive connection per client, closed loop",
        "floor": "axum POST /noop via service_kit::serve, same headers and body as a stateless greet",
    });
    let bench = Bench { cli, driver };
    let outcome = report(&bench, settings, started).await;
    // A runtime may not be dropped inside another one's async context: shut the driver's
    // down without waiting (its clients have ended, or failed with the error returned).
    let Bench { driver, .. } = bench;
    driver.shutdown_background();
    outcome
}

/// The load run and its reports.
async fn report(
    bench: &Bench,
    settings: serde_json::Value,
    started: Instant,
) -> anyhow::Result<()> {
    let mut results = run(bench, settings).await?;
    results.total_s = started.elapsed().as_secs_f64();
    results.write(&bench.cli.out)?;
    println!("{}", results.markdown());
    eprintln!(
        "wrote {0}/results.json, {0}/results.md, {0}/latency.svg in {1:.0} s",
        bench.cli.out.display(),
        results.total_s
    );
    Ok(())
}

async fn run(bench: &Bench, settings: serde_json::Value) -> anyhow::Result<Results> {
    let rss_start = rss::rss_mb();
    let stack_started = Instant::now();
    let stack = TestStack::builder()
        .mcp_config(|config| config.session_limits.max_sessions_per_user = SESSIONS_PER_USER)
        .start()
        .await
        .context("starting the in-process stack")?;
    let in_process_ready_ms = stack_started.elapsed().as_secs_f64() * 1000.0;
    let rss_ready = rss::rss_mb();
    eprintln!("in-process stack ready in {in_process_ready_ms:.0} ms");

    // The same stack with the MCP server in On-Behalf-Of mode, for the OBO rows.
    let obo_stack = TestStack::builder()
        .mcp_config(|config| {
            config.exchange_mode = ExchangeMode::OnBehalfOf;
            config.session_limits.max_sessions_per_user = SESSIONS_PER_USER;
        })
        .start()
        .await
        .context("starting the On-Behalf-Of stack")?;

    let (floor_addr, stop_floor) = workloads::spawn_floor().await?;
    let (rmcp_floor_addr, stop_rmcp_floor) = rmcp_floor::spawn().await?;
    let idp_addr = workloads::addr_of(&stack.idp_url)?;
    let admin = stack.token_for(DemoUser::Admin).await?;
    let obo_admin = obo_stack.token_for(DemoUser::Admin).await?;

    // One greet fills the exchange cache for the admin's token: the hit scenarios start warm.
    for (stack, admin) in [(&stack, &admin), (&obo_stack, &obo_admin)] {
        let warm = stack
            .stateless(admin.clone())
            .call_tool("greet", json!({ "name": "bench" }))
            .await?;
        anyhow::ensure!(
            !warm.is_error,
            "greet does not work on this stack: {}",
            warm.text
        );
    }

    let mint_http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let mut password_grants_per_s = Vec::new();
    let mut chain = Vec::new();
    for &concurrency in &bench.cli.concurrency {
        eprintln!("{concurrency} concurrent clients:");
        let floor = bench
            .point(
                FLOOR,
                "http",
                floor_addr,
                workloads::floor(&admin)?,
                concurrency,
                &[],
            )
            .await?;
        let floor_rate = floor.measured.calls_per_s;
        chain.push((0, floor));
        for era in [Era::Stateless, Era::Session] {
            let workload =
                workloads::tool_call(era, rmcp_floor::TOOL, &json!({}), Some(&admin), None)?;
            let mut point = bench
                .point(
                    RMCP_FLOOR,
                    era_name(era),
                    rmcp_floor_addr,
                    workload,
                    concurrency,
                    &[],
                )
                .await?;
            point.floor_fraction = Some(point.measured.calls_per_s / floor_rate);
            chain.push((0, point));
        }
        for (index, scenario) in SCENARIOS.iter().enumerate() {
            if !bench.selected(scenario) {
                continue;
            }
            let (target, admin) = if scenario.on_behalf_of {
                (&obo_stack, &obo_admin)
            } else {
                (&stack, &admin)
            };
            let (workload, pool) = bench
                .scenario_workload(
                    scenario,
                    &mint_http,
                    &target.idp_url,
                    target.mcp_url.as_str(),
                    admin,
                    concurrency,
                    &mut password_grants_per_s,
                )
                .await?;
            let mut point = bench
                .point(
                    scenario.name,
                    era_name(scenario.era),
                    workloads::addr_of(&target.mcp_url)?,
                    workload,
                    concurrency,
                    &[],
                )
                .await?;
            point.floor_fraction = Some(point.measured.calls_per_s / floor_rate);
            if let Some(pool) = pool {
                eprintln!("    used {} of {} fresh tokens", pool.used(), pool.len());
            }
            chain.push((index + 1, point));
        }
    }
    chain.sort_by_key(|(index, point)| (*index, point.measured.concurrency));
    let chain: Vec<Point> = chain.into_iter().map(|(_, point)| point).collect();

    eprintln!("fake-auth0 token endpoint:");
    let management = workloads::management_audience(&mint_http, &stack.idp_url).await?;
    let upstream_audience = stack.upstream_url.to_string();
    let mut idp = Vec::new();
    let idp_levels: Vec<usize> = if bench.cli.skip_idp {
        Vec::new()
    } else {
        bench
            .cli
            .concurrency
            .iter()
            .copied()
            .filter(|c| *c <= 64)
            .collect()
    };
    for &concurrency in &idp_levels {
        idp.push(
            bench
                .point(
                    "client_credentials",
                    "http",
                    idp_addr,
                    workloads::client_credentials(&management)?,
                    concurrency,
                    &[],
                )
                .await?,
        );
    }
    for (name, on_behalf_of) in [
        ("token exchange", false),
        ("token exchange (on-behalf-of)", true),
    ] {
        for &concurrency in &idp_levels {
            let workload = workloads::token_exchange(&admin, &upstream_audience, on_behalf_of)?;
            idp.push(
                bench
                    .point(name, "http", idp_addr, workload, concurrency, &[])
                    .await?,
            );
        }
    }
    let _ = stop_floor.send(());
    let _ = stop_rmcp_floor.send(());
    stack.shutdown().await?;
    obo_stack.shutdown().await?;

    let processes = if bench.cli.skip_processes {
        None
    } else {
        let floor: Vec<&Point> = chain.iter().filter(|p| p.scenario == FLOOR).collect();
        process_phase(bench, &floor).await?
    };

    let mut results = Results {
        date: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        machine: Machine::detect(),
        settings,
        in_process_ready_ms,
        in_process_rss_mb: (rss_start, rss_ready),
        chain,
        idp,
        password_grants_per_s,
        processes,
        targets: Vec::new(),
        total_s: 0.0,
    };
    results.targets = targets(&results);
    Ok(results)
}

/// The release binaries as processes: ready times and idle RSS; RSS after load at the
/// highest concurrency (stateless greet, then session greet, which keeps one session per
/// client); then each service's own CPU per call in every Custom Token Exchange scenario at
/// `--per-service-clients` (what the in-process stack, one process for all three, cannot
/// split). `floor` gives the in-process floor's points for the `× floor` column.
async fn process_phase(bench: &Bench, floor: &[&Point]) -> anyhow::Result<Option<ProcessPhase>> {
    let dir = processes::binary_dir()?;
    if !processes::binaries_present(&dir) {
        eprintln!(
            "skipping the process phase: fake-auth0, upstream-api and mcp-server are not built in {} \
             (`cargo build --release -p fake-auth0 -p upstream-api -p mcp-server`)",
            dir.display()
        );
        return Ok(None);
    }
    eprintln!("release binaries as processes:");
    let mut env = vec![("MCP_MAX_SESSIONS_PER_USER", SESSIONS_PER_USER.to_string())];
    // The names live as long as the process: the CLI's, leaked once into `&'static str`.
    env.extend(
        bench
            .cli
            .service_env
            .iter()
            .map(|(name, value)| (&*name.clone().leak(), value.clone())),
    );
    let stack = processes::start(&dir, &env).await?;
    let watched = processes::watched(stack.services());
    let mut services: Vec<processes::ServiceFigures> = stack
        .services()
        .iter()
        .map(|service| processes::ServiceFigures {
            service: service.name().to_owned(),
            ready_ms: service.ready_ms,
            rss_idle_mb: processes::rss_mb(service),
            rss_after_mb: Vec::new(),
        })
        .collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let (tokens, _) =
        workloads::mint_tokens(&http, &stack.idp.base_url, contract::MCP_AUDIENCE, 1, 1).await?;
    let token = &tokens[0];
    let mcp_addr = workloads::addr_of(&stack.mcp.base_url)?;

    let concurrency = bench.cli.concurrency.iter().copied().max().unwrap_or(64);
    let arguments = json!({ "name": "bench" });
    let mut steps = Vec::new();
    for era in [Era::Stateless, Era::Session] {
        let workload = workloads::tool_call(era, "greet", &arguments, Some(token), None)?;
        let point = bench
            .point(
                "greet (cache hit)",
                era_name(era),
                mcp_addr,
                workload,
                concurrency,
                &watched,
            )
            .await?;
        for (figures, service) in services.iter_mut().zip(stack.services()) {
            figures.rss_after_mb.push(processes::rss_mb(service));
        }
        steps.push(of_processes(point));
    }

    let clients = bench.cli.per_service_clients;
    eprintln!("  each service's CPU per call, {clients} clients:");
    let floor_rate = floor
        .iter()
        .find(|p| p.measured.concurrency == clients)
        .map(|p| p.measured.calls_per_s);
    let mut per_service = Vec::new();
    let mut grant_rates = Vec::new();
    for scenario in SCENARIOS
        .iter()
        .filter(|s| !s.on_behalf_of && bench.selected(s))
    {
        let (workload, _pool) = bench
            .scenario_workload(
                scenario,
                &http,
                &stack.idp.base_url,
                contract::MCP_AUDIENCE,
                token,
                clients,
                &mut grant_rates,
            )
            .await?;
        let mut point = bench
            .point(
                scenario.name,
                era_name(scenario.era),
                mcp_addr,
                workload,
                clients,
                &watched,
            )
            .await?;
        point.floor_fraction = floor_rate.map(|rate| point.measured.calls_per_s / rate);
        per_service.push(of_processes(point));
    }
    stack.stop().await?;
    Ok(Some(ProcessPhase {
        per_service,
        steps,
        services,
    }))
}

/// A point whose services are child processes: their CPU is the watched processes' (this
/// process's own non-driver threads are idle), and this process's RSS means nothing.
fn of_processes(mut point: Point) -> Point {
    let m = &mut point.measured;
    m.services_cpu_us_per_call = m.processes_cpu.iter().map(|p| p.cpu_us_per_call).sum();
    m.cpu_busy =
        (m.services_cpu_us_per_call + m.driver_cpu_us_per_call) * m.calls as f64 / 1e6 / m.window_s;
    point.rss_before_mb = None;
    point.rss_after_mb = None;
    point
}

fn find<'a>(
    points: &'a [Point],
    scenario: &str,
    era: &str,
    concurrency: usize,
) -> Option<&'a Point> {
    points
        .iter()
        .find(|p| p.scenario == scenario && p.era == era && p.measured.concurrency == concurrency)
}

fn targets(results: &Results) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    let hit = find(&results.chain, "greet (cache hit)", "stateless", 64);
    checks.push(TargetCheck {
        target: "greet cache hit ≥ 8,000 calls/s at 64 clients, p99 ≤ 20 ms, zero errors"
            .to_owned(),
        measured: hit.map_or_else(
            || "–".to_owned(),
            |p| {
                format!(
                    "{:.0} calls/s, p99 {:.2} ms, {} errors",
                    p.measured.calls_per_s, p.measured.p99_ms, p.measured.errors
                )
            },
        ),
        met: hit.map(|p| {
            p.measured.calls_per_s >= 8000.0 && p.measured.p99_ms <= 20.0 && p.measured.errors == 0
        }),
    });
    let whoami = find(&results.chain, "whoami", "stateless", 64);
    checks.push(TargetCheck {
        target: "whoami ≥ 12,000 calls/s at 64 clients".to_owned(),
        measured: whoami.map_or_else(
            || "–".to_owned(),
            |p| format!("{:.0} calls/s", p.measured.calls_per_s),
        ),
        met: whoami.map(|p| p.measured.calls_per_s >= 12_000.0),
    });
    let miss = results
        .chain
        .iter()
        .filter(|p| p.scenario == "greet (cache miss)" && p.measured.errors == 0)
        .max_by(|a, b| a.measured.calls_per_s.total_cmp(&b.measured.calls_per_s));
    checks.push(TargetCheck {
        target: "greet cache miss ≥ 1,500 calls/s".to_owned(),
        measured: miss.map_or_else(
            || "–".to_owned(),
            |p| {
                format!(
                    "{:.0} calls/s at {} clients",
                    p.measured.calls_per_s, p.measured.concurrency
                )
            },
        ),
        met: miss.map(|p| p.measured.calls_per_s >= 1500.0),
    });
    // Per core = one second of CPU divided by the IdP's CPU per token: the in-process IdP
    // shares the cores with the driver and the other services (and, on a shared machine,
    // with other processes), so tokens/s ÷ cores would understate it.
    let cc = results
        .idp
        .iter()
        .filter(|p| p.scenario == "client_credentials" && p.measured.services_cpu_us_per_call > 0.0)
        .min_by(|a, b| {
            a.measured
                .services_cpu_us_per_call
                .total_cmp(&b.measured.services_cpu_us_per_call)
        });
    checks.push(TargetCheck {
        target: "fake-auth0 ≥ 3,500 client_credentials tokens/s per core".to_owned(),
        measured: cc.map_or_else(
            || "–".to_owned(),
            |p| {
                format!(
                    "{:.0} tokens/s per core ({:.0} µs of server CPU per token); {:.0} tokens/s measured with {:.2} cores busy",
                    1e6 / p.measured.services_cpu_us_per_call,
                    p.measured.services_cpu_us_per_call,
                    p.measured.calls_per_s,
                    p.measured.cpu_busy,
                )
            },
        ),
        met: cc.map(|p| 1e6 / p.measured.services_cpu_us_per_call >= 3500.0),
    });
    checks.extend(per_call_budgets(results));
    let mcp = results
        .processes
        .as_ref()
        .and_then(|phase| phase.services.iter().find(|s| s.service == "mcp-server"));
    checks.push(TargetCheck {
        target: "mcp-server RSS ≤ 30 MB idle".to_owned(),
        measured: mcp.map_or_else(
            || "–".to_owned(),
            |s| format!("{} MB", report_opt(s.rss_idle_mb)),
        ),
        met: mcp.and_then(|s| s.rss_idle_mb).map(|mb| mb <= 30.0),
    });
    let peak = mcp.and_then(|s| s.rss_after_mb.iter().flatten().copied().reduce(f64::max));
    checks.push(TargetCheck {
        target: "mcp-server RSS ≤ 120 MB at 256 clients".to_owned(),
        measured: peak.map_or_else(
            || "–".to_owned(),
            |mb| format!("{mb:.1} MB (highest after load)"),
        ),
        met: peak.map(|mb| mb <= 120.0),
    });
    let slowest = results.processes.as_ref().and_then(|phase| {
        phase
            .services
            .iter()
            .max_by(|a, b| a.ready_ms.total_cmp(&b.ready_ms))
    });
    checks.push(TargetCheck {
        target: "each service ready ≤ 300 ms after start".to_owned(),
        measured: results.processes.as_ref().map_or_else(
            || "–".to_owned(),
            |phase| {
                phase
                    .services
                    .iter()
                    .map(|s| format!("{} {:.0} ms", s.service, s.ready_ms))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        met: slowest.map(|s| s.ready_ms <= 300.0),
    });
    checks
}

/// The per-call CPU budgets of each service and greet's p99, judged on the process phase's
/// per-service points (one process per service, the driver on the same cores).
fn per_call_budgets(results: &Results) -> Vec<TargetCheck> {
    let points = results
        .processes
        .as_ref()
        .map_or(&[][..], |phase| &phase.per_service[..]);
    let cpu = |scenario: &str, era: &str, service: &str| {
        points
            .iter()
            .find(|p| p.scenario == scenario && p.era == era)
            .and_then(|p| p.measured.process_cpu_us(service))
    };
    let budget = |target: String, measured: Option<f64>, limit: Option<f64>| TargetCheck {
        target,
        measured: measured.map_or_else(|| "–".to_owned(), |us| format!("{us:.1} µs")),
        met: measured.zip(limit).map(|(us, limit)| us <= limit),
    };
    let clients = bench_clients(points);
    let mut checks = Vec::new();
    for (era, limit) in [("session", 45.0), ("stateless", 35.0)] {
        checks.push(budget(
            format!("whoami ≤ {limit} µs of mcp-server CPU per call [{era}], {clients} clients"),
            cpu("whoami", era, "mcp-server"),
            Some(limit),
        ));
    }
    for era in ["session", "stateless"] {
        let whoami = cpu("whoami", era, "mcp-server");
        checks.push(budget(
            format!(
                "greet (cache hit) ≤ whoami + 35 µs of mcp-server CPU per call [{era}] ({} µs)",
                whoami.map_or_else(|| "–".to_owned(), |us| format!("{:.1}", us + 35.0))
            ),
            cpu("greet (cache hit)", era, "mcp-server"),
            whoami.map(|us| us + 35.0),
        ));
        checks.push(budget(
            format!("upstream-api ≤ 15 µs of CPU per greet (cache hit) [{era}]"),
            cpu("greet (cache hit)", era, "upstream-api"),
            Some(15.0),
        ));
    }
    checks.push(budget(
        "a cache-miss exchange ≤ 300 µs of fake-auth0 CPU (greet (cache miss) [stateless])"
            .to_owned(),
        cpu("greet (cache miss)", "stateless", "fake-auth0"),
        Some(300.0),
    ));
    for era in ["stateless", "session"] {
        let hit = points
            .iter()
            .find(|p| p.scenario == "greet (cache hit)" && p.era == era);
        checks.push(TargetCheck {
            target: format!(
                "greet (cache hit) p99 ≤ 10 ms at {clients} clients [{era}], driver on the same cores"
            ),
            measured: hit.map_or_else(
                || "–".to_owned(),
                |p| format!("{:.2} ms, {} errors", p.measured.p99_ms, p.measured.errors),
            ),
            met: hit.map(|p| p.measured.p99_ms <= 10.0 && p.measured.errors == 0),
        });
    }
    checks
}

/// The clients of the per-service points, for the targets' wording.
fn bench_clients(points: &[Point]) -> String {
    points
        .first()
        .map_or_else(|| "–".to_owned(), |p| p.measured.concurrency.to_string())
}

fn report_opt(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}
