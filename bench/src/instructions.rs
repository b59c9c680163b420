//! `bench --instructions`: how many instructions each service executes per call, counted by
//! valgrind's callgrind — a figure that does not move with the machine's load or clock
//! speed, so a regression shows as a changed count. Calls/s and CPU µs per call
//! move with whoever else uses the cores; instruction counts do not.
//!
//! Each scenario runs twice on the release binaries (`stack::ProcessStack`, each service
//! at its default log level), with the measured services under `valgrind --tool=callgrind`:
//! once with only the warm-up calls, once with the warm-up plus `calls` more, all on one
//! keep-alive connection. Instructions per call = (Ir(warm-up + calls) − Ir(warm-up)) ÷
//! calls: the connection, the session and the first (cache-miss) call cancel out. Start-up
//! is not counted at all: each counted service runs with callgrind's instrumentation off
//! until it is ready (`--instr-atstart=no`, then `callgrind_control -i on`). Subtracting it
//! would not do: fake-auth0's RSA key generation searches for primes a random number of
//! steps, and quanta's clock calibration (in the metrics exporter) loops for a stretch of
//! wall-clock time, so neither costs the same twice. Every service thread counts; the
//! driver is this process, outside valgrind, and does not.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::json;
use stack::process::{DEFAULT_LOGGING, ProcessStack, ServiceProcess};

use crate::load::{self, Workload};
use crate::workloads::{self, Era};

/// The services whose instructions a scenario counts.
const MCP: &str = "mcp-server";
const UPSTREAM: &str = "upstream-api";
const IDP: &str = "fake-auth0";

/// What one scenario's calls are.
#[derive(Debug, Clone, Copy)]
enum Calls {
    /// `tools/call` of `tool` in `era` with admin@example.com's token, the same every call.
    Tool { era: Era, tool: &'static str },
    /// The MCP server's exact token exchange request at fake-auth0, a fresh subject token
    /// every call (what a cache miss at the MCP server sends).
    Exchange,
}

/// One row of the instruction table.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    name: &'static str,
    calls: Calls,
    /// The services run under callgrind; the others run natively.
    counted: &'static [&'static str],
    /// Divides `--instruction-calls` (an RS256 signature per call is slow under valgrind).
    calls_divisor: usize,
}

const SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "whoami [session]",
        calls: Calls::Tool {
            era: Era::Session,
            tool: "whoami",
        },
        counted: &[MCP],
        calls_divisor: 1,
    },
    Scenario {
        name: "whoami [stateless]",
        calls: Calls::Tool {
            era: Era::Stateless,
            tool: "whoami",
        },
        counted: &[MCP],
        calls_divisor: 1,
    },
    Scenario {
        name: "greet (cache hit) [stateless]",
        calls: Calls::Tool {
            era: Era::Stateless,
            tool: "greet",
        },
        counted: &[MCP, UPSTREAM],
        calls_divisor: 1,
    },
    Scenario {
        name: "greet (cache hit) [session]",
        calls: Calls::Tool {
            era: Era::Session,
            tool: "greet",
        },
        counted: &[MCP, UPSTREAM],
        calls_divisor: 1,
    },
    Scenario {
        name: "token exchange, new subject token (fake-auth0)",
        calls: Calls::Exchange,
        counted: &[IDP],
        calls_divisor: 5,
    },
];

/// Calls before the counted ones, in both runs of a scenario: they fill the caches.
const WARMUP_CALLS: usize = 20;

/// How long a service under callgrind may take to be ready (fake-auth0 makes two RSA keys).
const READY_UNDER_VALGRIND: Duration = Duration::from_secs(300);

/// How long `callgrind_control` may take to switch a service's instrumentation on.
const SWITCH_WITHIN: Duration = Duration::from_secs(60);

/// How long a service under callgrind may take to write its profile after SIGTERM.
const EXIT_WITHIN: Duration = Duration::from_secs(120);

/// The figures of one service in one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    /// The scenario (the name of the chain table, with its era).
    pub scenario: String,
    /// The service whose instructions these are.
    pub service: String,
    /// Counted calls (beyond the warm-up).
    pub calls: usize,
    /// Instructions of the run with the warm-up only.
    pub ir_warmup: u64,
    /// Instructions of the run with the warm-up and the counted calls.
    pub ir_total: u64,
    /// (ir_total − ir_warmup) ÷ calls.
    pub instructions_per_call: f64,
    /// Instructions per call by function (inclusive and exclusive), relative to `--out`.
    pub listing: String,
}

/// The scenarios whose name contains `only` (all without it); none is an error that lists
/// them, not an empty report.
fn chosen(only: Option<&str>) -> anyhow::Result<Vec<Scenario>> {
    let chosen: Vec<_> = SCENARIOS
        .iter()
        .filter(|s| only.is_none_or(|only| s.name.contains(only)))
        .copied()
        .collect();
    if chosen.is_empty() {
        let names: Vec<_> = SCENARIOS.iter().map(|s| s.name).collect();
        bail!(
            "--only {:?} is in no scenario's name; the scenarios are: {}",
            only.unwrap_or_default(),
            names.join("; ")
        );
    }
    Ok(chosen)
}

/// Runs every scenario (or those whose name contains `only`) with `calls` counted calls;
/// writes `instructions.json`, `instructions.md` and one listing per service and scenario
/// under `out`.
pub async fn run(out: &Path, calls: usize, only: Option<&str>) -> anyhow::Result<Vec<Count>> {
    let scenarios = chosen(only)?;
    let binaries = crate::processes::binary_dir()?;
    if !crate::processes::binaries_present(&binaries) {
        bail!(
            "the release binaries are not built in {} (`cargo build --release -p fake-auth0 -p \
             upstream-api -p mcp-server`)",
            binaries.display()
        );
    }
    which_valgrind()?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    // The wrapper scripts run from each service's own working directory, so they and the
    // profiles they write are named by absolute paths (`--out` is relative by default);
    // the listings are named relative to the same resolved `out` in the report.
    let out =
        &std::fs::canonicalize(out).with_context(|| format!("resolving {}", out.display()))?;
    let work = out.join("callgrind");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let mut counts = Vec::new();
    for scenario in &scenarios {
        let calls = (calls / scenario.calls_divisor).max(1);
        let started = Instant::now();
        // Both runs prepare the same (minting fresh subject tokens is IdP work too).
        let prepared = WARMUP_CALLS + calls;
        let short = run_once(scenario, &binaries, &work, WARMUP_CALLS, prepared).await?;
        let long = run_once(scenario, &binaries, &work, prepared, prepared).await?;
        for ((service, ir_warmup, warmup_profile), (_, ir_total, profile)) in
            short.into_iter().zip(long)
        {
            // callgrind_control says "OK" whatever vgdb managed: a profile that counted
            // nothing (or less for more calls) means the switch did not take.
            anyhow::ensure!(
                ir_warmup > 0 && ir_total > ir_warmup,
                "callgrind counted {ir_warmup} instructions for {service}'s warm-up and \
                 {ir_total} with {calls} more calls: its instrumentation was not switched on"
            );
            let listing = write_listing(&warmup_profile, &profile, calls, out)?;
            let count = Count {
                scenario: scenario.name.to_owned(),
                service: service.to_owned(),
                calls,
                ir_warmup,
                ir_total,
                instructions_per_call: (ir_total.saturating_sub(ir_warmup)) as f64 / calls as f64,
                listing,
            };
            eprintln!(
                "  {:<48} {:<13} {:>10.1}k instructions/call ({} calls, {:.0} s)",
                count.scenario,
                count.service,
                count.instructions_per_call / 1000.0,
                calls,
                started.elapsed().as_secs_f64()
            );
            counts.push(count);
        }
    }
    std::fs::write(
        out.join("instructions.json"),
        serde_json::to_string_pretty(&json!({
            "method": "valgrind --tool=callgrind on the release binaries; (Ir(warm-up + N) − Ir(warm-up)) / N",
            "warmup_calls": WARMUP_CALLS,
            "counts": counts,
        }))?,
    )?;
    std::fs::write(out.join("instructions.md"), markdown(&counts))?;
    Ok(counts)
}

/// The table of BENCHMARKS.md.
pub fn markdown(counts: &[Count]) -> String {
    let mut text = String::from(
        "| scenario | service | instructions per call | counted calls |\n|---|---|---:|---:|\n",
    );
    for count in counts {
        let _ = writeln!(
            text,
            "| {} | {} | {:.1}k | {} |",
            count.scenario,
            count.service,
            count.instructions_per_call / 1000.0,
            count.calls
        );
    }
    text
}

fn which_valgrind() -> anyhow::Result<()> {
    let status = std::process::Command::new("valgrind")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        _ => bail!("valgrind is not installed (Debian package `valgrind`)"),
    }
}

/// One run of a scenario: start the stack with the counted services under callgrind,
/// prepare `prepared` calls (fresh subject tokens are minted at the IdP), send the first
/// `count` of them, stop the counted services with SIGTERM so callgrind writes its
/// profile. Returns each counted service with its instruction total and profile.
async fn run_once(
    scenario: &Scenario,
    binaries: &Path,
    work: &Path,
    count: usize,
    prepared: usize,
) -> anyhow::Result<Vec<(&'static str, u64, PathBuf)>> {
    let slug: String = scenario
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut profiles = Vec::new();
    for service in scenario.counted {
        let profile = work.join(format!("{slug}.{service}.{count}.out"));
        let _ = std::fs::remove_file(&profile);
        let wrapper = work.join(format!("{slug}.{service}.sh"));
        write_wrapper(&wrapper, &binaries.join(service), &profile)?;
        profiles.push((*service, wrapper, profile));
    }
    let binary_of = |name: &str| -> anyhow::Result<PathBuf> {
        Ok(profiles
            .iter()
            .find(|(service, _, _)| *service == name)
            .map_or_else(|| binaries.join(name), |(_, wrapper, _)| wrapper.clone()))
    };
    let stack = ProcessStack::start_within(
        binary_of,
        &[
            DEFAULT_LOGGING,
            (
                "MCP_AUTH0_SUBJECT_TOKEN_TYPE",
                contract::SUBJECT_TOKEN_TYPE.to_owned(),
            ),
        ],
        READY_UNDER_VALGRIND,
    )
    .await
    .with_context(|| format!("starting the stack for {}", scenario.name))?;
    let mut driven = Ok(());
    for service in [&stack.mcp, &stack.upstream, &stack.idp] {
        if scenario.counted.contains(&service.name()) && driven.is_ok() {
            driven = instrument_from_now(service).await;
        }
    }
    if driven.is_ok() {
        driven = drive(scenario, &stack, count, prepared).await;
    }
    // The counted services stop first, gracefully, so that callgrind writes the profile.
    let mut stopped = Ok(());
    for service in [&stack.mcp, &stack.upstream, &stack.idp] {
        if scenario.counted.contains(&service.name()) && stopped.is_ok() {
            stopped = stop_gracefully(service).await;
        }
    }
    stack.stop().await?;
    driven.with_context(|| format!("driving {}", scenario.name))?;
    stopped?;
    profiles
        .into_iter()
        .map(|(service, _, profile)| Ok((service, total_instructions(&profile)?, profile)))
        .collect()
}

/// Prepares `prepared` calls and sends the first `count`, one after the other on one
/// connection.
async fn drive(
    scenario: &Scenario,
    stack: &ProcessStack,
    count: usize,
    prepared: usize,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let idp = &stack.idp.base_url;
    match scenario.calls {
        Calls::Tool { era, tool } => {
            let (tokens, _) =
                workloads::mint_tokens(&http, idp, contract::MCP_AUDIENCE, 1, 1).await?;
            let workload = workloads::tool_call(
                era,
                tool,
                &json!({ "name": "bench" }),
                Some(&tokens[0]),
                None,
            )?;
            let address = workloads::addr_of(&stack.mcp.base_url)?;
            load::run_in_sequence(address, std::iter::repeat_n(&workload, count)).await
        }
        Calls::Exchange => {
            let (tokens, _) =
                workloads::mint_tokens(&http, idp, contract::MCP_AUDIENCE, prepared, 4).await?;
            let exchanges = tokens
                .iter()
                .map(|token| workloads::token_exchange(token, contract::UPSTREAM_AUDIENCE, false))
                .collect::<anyhow::Result<Vec<Workload>>>()?;
            load::run_in_sequence(workloads::addr_of(idp)?, &exchanges[..count]).await
        }
    }
}

/// A script that runs `binary` under callgrind, writing its profile to `profile`, counting
/// nothing until [`instrument_from_now`]. The process keeps its pid (`exec`), so signals
/// and `callgrind_control` reach valgrind.
fn write_wrapper(wrapper: &Path, binary: &Path, profile: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let script = format!(
        "#!/bin/sh\nexec valgrind --tool=callgrind --quiet --instr-atstart=no --callgrind-out-file='{}' '{}' \"$@\"\n",
        profile.display(),
        binary.display()
    );
    std::fs::write(wrapper, script).with_context(|| format!("writing {}", wrapper.display()))?;
    std::fs::set_permissions(wrapper, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Switches callgrind's instrumentation on in a running service (started with
/// `--instr-atstart=no`): from here on its instructions count.
async fn instrument_from_now(service: &ServiceProcess) -> anyhow::Result<()> {
    let pid = service
        .pid()
        .with_context(|| format!("{} is not running", service.name()))?;
    let switch = tokio::process::Command::new("callgrind_control")
        .args(["--instr=on", &pid.to_string()])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SWITCH_WITHIN, switch)
        .await
        .with_context(|| format!("callgrind_control --instr=on {pid} took over {SWITCH_WITHIN:?}"))?
        .context("running callgrind_control (Debian package `valgrind`)")?;
    let said = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success() && said.contains("OK"),
        "callgrind_control --instr=on {pid} ({}) failed: {said}{}",
        service.name(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// SIGTERM, then waits until the process has exited (a zombie, or gone): callgrind has
/// written its profile by then.
async fn stop_gracefully(service: &ServiceProcess) -> anyhow::Result<()> {
    let pid = service
        .pid()
        .with_context(|| format!("{} is not running", service.name()))?;
    let status = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    anyhow::ensure!(status.success(), "kill -TERM {pid} failed");
    let deadline = Instant::now() + EXIT_WITHIN;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if matches!(state, None | Some('Z' | 'X')) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not exit within {EXIT_WITHIN:?} of SIGTERM; its log:\n{}",
                service.name(),
                service.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `totals:` (or `summary:`) line of a callgrind profile: all instructions executed.
fn total_instructions(profile: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(profile)
        .with_context(|| format!("reading the callgrind profile {}", profile.display()))?;
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no instruction total in {}", profile.display()))
}

/// Where the instructions of one call go, function by function: `callgrind_annotate` of
/// both runs (inclusive, then exclusive cost), the warm-up run subtracted from the longer
/// one and divided by the counted calls, so start-up and the first call drop out. Written
/// beside the profiles; returns its path relative to `out`.
fn write_listing(warmup: &Path, total: &Path, calls: usize, out: &Path) -> anyhow::Result<String> {
    let mut text = format!(
        "Instructions per call by function: ({}) − ({}), ÷ {calls}\n",
        total.display(),
        warmup.display()
    );
    for (title, inclusive) in [("inclusive", true), ("exclusive (self)", false)] {
        let before = function_costs(warmup, inclusive)?;
        let after = function_costs(total, inclusive)?;
        let mut per_call: Vec<(f64, &str)> = after
            .iter()
            .map(|(function, cost)| {
                let earlier = before.get(function).copied().unwrap_or(0);
                (
                    (*cost as f64 - earlier as f64) / calls as f64,
                    function.as_str(),
                )
            })
            .filter(|(cost, _)| *cost >= 50.0)
            .collect();
        per_call.sort_by(|a, b| b.0.total_cmp(&a.0));
        let _ = writeln!(text, "\n## {title}, top 80\n");
        for (cost, function) in per_call.iter().take(80) {
            let _ = writeln!(text, "{cost:>12.0}  {function}");
        }
    }
    let listing = total.with_extension("per-call.txt");
    std::fs::write(&listing, text)?;
    Ok(listing
        .strip_prefix(out)
        .unwrap_or(&listing)
        .display()
        .to_string())
}

/// Each function's cost in a profile (`callgrind_annotate`, every function), summed over
/// the places it is listed.
fn function_costs(
    profile: &Path,
    inclusive: bool,
) -> anyhow::Result<std::collections::HashMap<String, u64>> {
    let output = std::process::Command::new("callgrind_annotate")
        .arg(format!(
            "--inclusive={}",
            if inclusive { "yes" } else { "no" }
        ))
        .args(["--threshold=100", "--auto=no"])
        .arg(profile)
        .output()
        .context("running callgrind_annotate (Debian package `valgrind`)")?;
    anyhow::ensure!(
        output.status.success(),
        "callgrind_annotate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut costs = std::collections::HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // `  1,234 (12.3%)  file:function [object]`
        let line = line.trim_start();
        let Some((number, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(cost) = number.replace(',', "").parse::<u64>() else {
            continue;
        };
        let Some((_, function)) = rest.split_once(")  ") else {
            continue;
        };
        if function.contains("PROGRAM TOTALS") {
            continue;
        }
        // The function without its file, which callgrind names by the inlined source.
        let function = function.rsplit_once(".rs:").map_or(function, |(_, f)| f);
        *costs.entry(function.to_owned()).or_insert(0) += cost;
    }
    Ok(costs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_picks_scenarios_by_name_and_a_name_in_none_is_refused_with_the_list() {
        let whoami: Vec<_> = chosen(Some("whoami"))
            .unwrap()
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(whoami, ["whoami [session]", "whoami [stateless]"]);
        assert_eq!(chosen(None).unwrap().len(), SCENARIOS.len());
        let refusal = chosen(Some("whoami (session)")).unwrap_err().to_string();
        assert!(refusal.contains("\"whoami (session)\""), "{refusal}");
        assert!(refusal.contains("whoami [session]"), "{refusal}");
    }
}
