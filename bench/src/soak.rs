//! `cargo run --release -p bench -- soak`: the whole chain as three processes under a steady
//! closed-loop load for a long time (10 minutes by default), sampling each service's
//! resident memory, open file descriptors and threads, to show that nothing grows and
//! nothing fails. Not part of CI: it is as long as it is on purpose.
//!
//! The clients are split over three workloads, so each process does real work: stateless
//! `greet` (mcp-server, its exchange cache, upstream-api), session-era `greet` (the same plus
//! one live session per client) and the IdP's token exchange (fake-auth0 signing a token
//! per call). Writes `soak.json`, `soak.csv` and `soak.svg` into the results folder.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use plotters::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::load::{LiveCounts, Measured, Shape, Workload};
use crate::processes;
use crate::report::plot_error;
use crate::workloads::{self, Era};

/// `soak`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// How long the load runs, seconds.
    #[arg(long, env = "BENCH_SOAK_SECS", default_value_t = 600)]
    pub soak_secs: u64,
    /// Concurrent clients, split 3/4 stateless greet, 1/8 session greet, 1/8 token exchange.
    #[arg(long, env = "BENCH_SOAK_CLIENTS", default_value_t = 256)]
    pub clients: usize,
    /// Seconds between two samples of the services' memory and descriptors.
    #[arg(long, env = "BENCH_SOAK_SAMPLE_SECS", default_value_t = 5)]
    pub sample_secs: u64,
    /// The first seconds, during which caches, pools and allocator arenas fill: the
    /// flatness verdict compares the rest with the end of this warm-up.
    #[arg(long, env = "BENCH_SOAK_WARMUP_SECS", default_value_t = 60)]
    pub warmup_secs: u64,
}

/// RSS may grow by this fraction of its value at the end of warm-up, and by at most
/// [`RSS_SLACK_MB`], and still count as flat (allocators keep some slack).
const RSS_GROWTH_FRACTION: f64 = 0.10;
const RSS_SLACK_MB: f64 = 10.0;
/// Open descriptors may rise by this many above their value at the end of warm-up (a
/// reconnect, a log file rotation) and still count as flat. Falling is never a leak: pooled
/// connections that idle out close, and come back when the load needs them.
const FD_SLACK: usize = 8;

/// One workload of the mix and its share of the clients.
struct Lane {
    name: &'static str,
    clients: usize,
    workload: Workload,
    live: Arc<LiveCounts>,
    addr: std::net::SocketAddr,
}

/// One service at one moment.
#[derive(Debug, Clone, Serialize)]
struct ServiceSample {
    rss_mb: Option<f64>,
    fds: Option<usize>,
    threads: Option<u64>,
}

/// Every service and the load at one moment.
#[derive(Debug, Clone, Serialize)]
struct Sample {
    /// Seconds since the load started.
    t_s: f64,
    /// In the order of [`SoakResults::services`].
    services: Vec<ServiceSample>,
    /// Calls completed so far, all workloads.
    calls: u64,
    /// Calls failed so far, all workloads.
    errors: u64,
}

/// What one service did over the soak, after warm-up.
#[derive(Debug, Clone, Serialize)]
struct ServiceVerdict {
    service: String,
    rss_warm_mb: f64,
    rss_end_mb: f64,
    rss_max_mb: f64,
    /// Least-squares slope of RSS after warm-up, MB per minute.
    rss_trend_mb_per_min: f64,
    fds_warm: usize,
    fds_min: usize,
    fds_max: usize,
    fds_end: usize,
    threads_end: Option<u64>,
    rss_flat: bool,
    fds_flat: bool,
}

#[derive(Debug, Clone, Serialize)]
struct LaneFigures {
    workload: String,
    clients: usize,
    measured: Measured,
}

#[derive(Debug, Clone, Serialize)]
struct SoakResults {
    date: String,
    settings: serde_json::Value,
    services: Vec<String>,
    lanes: Vec<LaneFigures>,
    samples: Vec<Sample>,
    verdicts: Vec<ServiceVerdict>,
    calls: u64,
    errors: u64,
    first_error: Option<String>,
    /// Zero errors, and every service's RSS and descriptors flat after warm-up.
    passed: bool,
}

/// Runs the soak against the release binaries in `dir`, on `driver`, and writes the results.
pub async fn run(
    args: &SoakArgs,
    out: &Path,
    driver: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    anyhow::ensure!(args.clients >= 8, "a soak needs at least 8 clients");
    let dir = processes::binary_dir()?;
    anyhow::ensure!(
        processes::binaries_present(&dir),
        "the soak runs the release binaries, which are not built in {} \
         (`cargo build --release -p fake-auth0 -p upstream-api -p mcp-server`)",
        dir.display()
    );
    let stack = processes::start(&dir, &[]).await?;
    let http = reqwest::Client::new();
    let (tokens, _) =
        workloads::mint_tokens(&http, &stack.idp.base_url, contract::MCP_AUDIENCE, 1, 1).await?;
    let token = &tokens[0];
    let arguments = json!({ "name": "soak" });
    let mcp = workloads::addr_of(&stack.mcp.base_url)?;
    let idp = workloads::addr_of(&stack.idp.base_url)?;
    let session_clients = args.clients / 8;
    let exchange_clients = args.clients / 8;
    let lanes = vec![
        lane(
            "greet [stateless]",
            args.clients - session_clients - exchange_clients,
            workloads::tool_call(Era::Stateless, "greet", &arguments, Some(token), None)?,
            mcp,
        ),
        lane(
            "greet [session]",
            session_clients,
            workloads::tool_call(Era::Session, "greet", &arguments, Some(token), None)?,
            mcp,
        ),
        lane(
            "token exchange [fake-auth0]",
            exchange_clients,
            workloads::token_exchange(token, contract::UPSTREAM_AUDIENCE, false)?,
            idp,
        ),
    ];
    let services: Vec<String> = stack
        .services()
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    let duration = Duration::from_secs(args.soak_secs);
    eprintln!(
        "soak: {} clients for {} s ({}), sampling every {} s",
        args.clients,
        args.soak_secs,
        lanes
            .iter()
            .map(|l| format!("{} × {}", l.clients, l.name))
            .collect::<Vec<_>>()
            .join(", "),
        args.sample_secs
    );

    let started = Instant::now();
    let mut runs = Vec::new();
    for lane in &lanes {
        let workload = lane.workload.clone();
        let shape = Shape {
            concurrency: lane.clients,
            warmup: Duration::ZERO,
            duration,
        };
        let addr = lane.addr;
        runs.push(
            driver.spawn(async move { crate::load::run(addr, &workload, shape, Vec::new()).await }),
        );
    }
    let live: Vec<Arc<LiveCounts>> = lanes.iter().map(|l| Arc::clone(&l.live)).collect();
    let totals = || -> (u64, u64) {
        live.iter()
            .fold((0, 0), |(c, e), l| (c + l.calls(), e + l.errors()))
    };
    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(args.sample_secs.max(1)));
    let mut last_calls = 0;
    loop {
        ticker.tick().await;
        let t_s = started.elapsed().as_secs_f64();
        let (calls, errors) = totals();
        let sample = Sample {
            t_s,
            services: stack
                .services()
                .iter()
                .map(|s| ServiceSample {
                    rss_mb: processes::rss_mb(s),
                    fds: processes::open_fds(s),
                    threads: processes::threads(s),
                })
                .collect(),
            calls,
            errors,
        };
        eprintln!(
            "  {t_s:>6.0} s  {:>7.0} calls/s  errors {errors:<5} {}",
            (calls - last_calls) as f64 / args.sample_secs.max(1) as f64,
            services
                .iter()
                .zip(&sample.services)
                .map(|(name, s)| format!(
                    "{name} {} MB {} fds",
                    s.rss_mb.map_or("?".to_owned(), |mb| format!("{mb:.1}")),
                    s.fds.map_or("?".to_owned(), |n| n.to_string())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if errors > 0 && samples.last().is_none_or(|s: &Sample| s.errors == 0) {
            for lane in &lanes {
                if let Some(error) = lane.live.first_error() {
                    eprintln!("  first error of {}: {error}", lane.name);
                }
            }
        }
        last_calls = calls;
        samples.push(sample);
        if started.elapsed() >= duration {
            break;
        }
    }
    let mut figures = Vec::new();
    for (lane, run) in lanes.iter().zip(runs) {
        let measured = run
            .await
            .context("a soak workload panicked")?
            .with_context(|| format!("soak workload {}", lane.name))?;
        figures.push(LaneFigures {
            workload: lane.name.to_owned(),
            clients: lane.clients,
            measured,
        });
    }
    let (calls, errors) = totals();
    let first_error = live.iter().find_map(|l| l.first_error());
    stack.stop().await?;

    let verdicts = verdicts(&services, &samples, args.warmup_secs as f64);
    let passed = errors == 0 && verdicts.iter().all(|v| v.rss_flat && v.fds_flat);
    let results = SoakResults {
        date: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        settings: json!({
            "soak_s": args.soak_secs,
            "clients": args.clients,
            "sample_s": args.sample_secs,
            "warmup_s": args.warmup_secs,
            "rss_flat": format!("growth after warm-up ≤ {:.0} % and ≤ {RSS_SLACK_MB} MB", RSS_GROWTH_FRACTION * 100.0),
            "fds_flat": format!("at most {FD_SLACK} above the value at the end of warm-up"),
            "machine_cores": std::thread::available_parallelism().map_or(1, usize::from),
        }),
        services,
        lanes: figures,
        samples,
        verdicts,
        calls,
        errors,
        first_error,
        passed,
    };
    results.write(out)?;
    println!("{}", results.markdown());
    eprintln!(
        "wrote {0}/soak.json, {0}/soak.csv, {0}/soak.svg",
        out.display()
    );
    anyhow::ensure!(
        results.passed,
        "the soak failed: errors or growth (see above)"
    );
    Ok(())
}

fn lane(
    name: &'static str,
    clients: usize,
    mut workload: Workload,
    addr: std::net::SocketAddr,
) -> Lane {
    let live = Arc::new(LiveCounts::default());
    workload.live = Some(Arc::clone(&live));
    Lane {
        name,
        clients,
        workload,
        live,
        addr,
    }
}

/// Each service's figures after warm-up, and whether they stayed flat.
fn verdicts(services: &[String], samples: &[Sample], warmup_s: f64) -> Vec<ServiceVerdict> {
    let after: Vec<&Sample> = samples.iter().filter(|s| s.t_s >= warmup_s).collect();
    let after = if after.is_empty() {
        samples.iter().collect()
    } else {
        after
    };
    services
        .iter()
        .enumerate()
        .map(|(index, service)| {
            let rss: Vec<(f64, f64)> = after
                .iter()
                .filter_map(|s| s.services[index].rss_mb.map(|mb| (s.t_s, mb)))
                .collect();
            let fds: Vec<usize> = after.iter().filter_map(|s| s.services[index].fds).collect();
            let rss_warm_mb = rss.first().map_or(0.0, |p| p.1);
            let rss_end_mb = rss.last().map_or(0.0, |p| p.1);
            let rss_max_mb = rss.iter().map(|p| p.1).fold(0.0, f64::max);
            let fds_warm = fds.first().copied().unwrap_or(0);
            let fds_min = fds.iter().copied().min().unwrap_or(0);
            let fds_max = fds.iter().copied().max().unwrap_or(0);
            let growth_allowed = (rss_warm_mb * RSS_GROWTH_FRACTION).min(RSS_SLACK_MB);
            ServiceVerdict {
                service: service.clone(),
                rss_warm_mb,
                rss_end_mb,
                rss_max_mb,
                rss_trend_mb_per_min: slope(&rss) * 60.0,
                fds_warm,
                fds_min,
                fds_max,
                fds_end: fds.last().copied().unwrap_or(0),
                threads_end: after.last().and_then(|s| s.services[index].threads),
                rss_flat: !rss.is_empty() && rss_max_mb - rss_warm_mb <= growth_allowed,
                fds_flat: !fds.is_empty() && fds_max <= fds_warm + FD_SLACK,
            }
        })
        .collect()
}

/// The least-squares slope of `points` (y per x); 0 for fewer than two points.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if variance == 0.0 {
        0.0
    } else {
        covariance / variance
    }
}

impl SoakResults {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("soak.json"), serde_json::to_string_pretty(self)?)?;
        std::fs::write(dir.join("soak.csv"), self.csv())?;
        self.plot(&dir.join("soak.svg"))?;
        Ok(())
    }

    /// One row per sample: time, the load so far, then RSS, descriptors and threads of
    /// each service.
    fn csv(&self) -> String {
        let mut out = String::from("t_s,calls,errors");
        for service in &self.services {
            let _ = write!(out, ",{service}_rss_mb,{service}_fds,{service}_threads");
        }
        out.push('\n');
        let cell = |value: Option<String>| value.unwrap_or_default();
        for sample in &self.samples {
            let _ = write!(out, "{:.1},{},{}", sample.t_s, sample.calls, sample.errors);
            for service in &sample.services {
                let _ = write!(
                    out,
                    ",{},{},{}",
                    cell(service.rss_mb.map(|mb| format!("{mb:.2}"))),
                    cell(service.fds.map(|n| n.to_string())),
                    cell(service.threads.map(|n| n.to_string())),
                );
            }
            out.push('\n');
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Soak: {} clients for {} s, {} calls, {} errors{} — {}\n",
            self.settings["clients"],
            self.settings["soak_s"],
            self.calls,
            self.errors,
            self.first_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
            if self.passed { "passed" } else { "FAILED" }
        );
        out.push_str("| workload | clients | calls/s | p50 ms | p99 ms | max ms | errors |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        for lane in &self.lanes {
            let m = &lane.measured;
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {} |",
                lane.workload, lane.clients, m.calls_per_s, m.p50_ms, m.p99_ms, m.max_ms, m.errors
            );
        }
        out.push_str(
            "\n| service | RSS at warm-up end MB | RSS max MB | RSS end MB | trend MB/min | fds warm / min / max / end | threads | flat |\n",
        );
        out.push_str("|---|---:|---:|---:|---:|---|---:|---|\n");
        for v in &self.verdicts {
            let _ = writeln!(
                out,
                "| {} | {:.1} | {:.1} | {:.1} | {:+.3} | {} / {} / {} / {} | {} | {} |",
                v.service,
                v.rss_warm_mb,
                v.rss_max_mb,
                v.rss_end_mb,
                v.rss_trend_mb_per_min,
                v.fds_warm,
                v.fds_min,
                v.fds_max,
                v.fds_end,
                v.threads_end.map_or("–".to_owned(), |n| n.to_string()),
                match (v.rss_flat, v.fds_flat) {
                    (true, true) => "yes",
                    (false, true) => "RSS grew",
                    (true, false) => "fds grew",
                    (false, false) => "RSS and fds",
                }
            );
        }
        out
    }

    /// Three panels over time: RSS per service, open descriptors per service, calls/s.
    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let root = SVGBackend::new(path, (1200, 960)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let panels = root.split_evenly((3, 1));
        let palette = [
            RGBColor(0x1f, 0x77, 0xb4),
            RGBColor(0xff, 0x7f, 0x0e),
            RGBColor(0x2c, 0xa0, 0x2c),
        ];
        let minutes = |t_s: f64| t_s / 60.0;
        let end_min = self.samples.last().map_or(1.0, |s| minutes(s.t_s)).max(0.1);
        let warmup_min = minutes(self.settings["warmup_s"].as_f64().unwrap_or(0.0));
        let per_service = |pick: &dyn Fn(&ServiceSample) -> Option<f64>| -> Vec<Vec<(f64, f64)>> {
            (0..self.services.len())
                .map(|index| {
                    self.samples
                        .iter()
                        .filter_map(|s| pick(&s.services[index]).map(|y| (minutes(s.t_s), y)))
                        .collect()
                })
                .collect()
        };
        let rss = per_service(&|s| s.rss_mb);
        let fds = per_service(&|s| s.fds.map(|n| n as f64));
        let rates: Vec<(f64, f64)> = self
            .samples
            .windows(2)
            .map(|pair| {
                let seconds = (pair[1].t_s - pair[0].t_s).max(1e-9);
                (
                    minutes(pair[1].t_s),
                    (pair[1].calls - pair[0].calls) as f64 / seconds,
                )
            })
            .collect();
        let panel_specs = [
            ("resident memory (VmRSS) per service", "MB", rss, true),
            ("open file descriptors per service", "fds", fds, true),
            (
                "calls/s, all workloads (errors: see title)",
                "calls/s",
                vec![rates],
                false,
            ),
        ];
        for (panel, (title, unit, series, legend)) in panels.iter().zip(panel_specs) {
            let max_y = series.iter().flatten().map(|p| p.1).fold(1.0_f64, f64::max) * 1.15;
            let caption = if legend {
                format!("{title} — warm-up ends at {warmup_min:.1} min")
            } else {
                format!(
                    "calls/s, all workloads — {} calls, {} errors",
                    self.calls, self.errors
                )
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..end_min * 1.02, 0.0..max_y)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .x_desc("minutes since the load started")
                .y_desc(unit)
                .draw()
                .map_err(plot_error)?;
            chart
                .draw_series(LineSeries::new(
                    [(warmup_min, 0.0), (warmup_min, max_y)],
                    BLACK.mix(0.3).stroke_width(1),
                ))
                .map_err(plot_error)?;
            for (index, data) in series.into_iter().enumerate() {
                let color = palette[index % palette.len()];
                let drawn = chart
                    .draw_series(LineSeries::new(data, color.stroke_width(2)))
                    .map_err(plot_error)?;
                if legend {
                    drawn
                        .label(self.services[index].clone())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                        });
                }
            }
            if legend {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 12))
                    .draw()
                    .map_err(plot_error)?;
            }
        }
        root.present().map_err(plot_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_s: f64, rss_mb: f64, fds: usize) -> Sample {
        Sample {
            t_s,
            services: vec![ServiceSample {
                rss_mb: Some(rss_mb),
                fds: Some(fds),
                threads: Some(4),
            }],
            calls: 0,
            errors: 0,
        }
    }

    #[test]
    fn the_slope_of_a_line_is_its_gradient() {
        assert!((slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(0.0, 1.0)]), 0.0);
    }

    #[test]
    fn growth_after_warm_up_fails_the_verdict_and_warm_up_growth_does_not() {
        let services = ["svc".to_owned()];
        // Doubles during warm-up, then holds: flat.
        let steady = [
            sample(0.0, 10.0, 10),
            sample(30.0, 20.0, 300),
            sample(60.0, 20.0, 300),
            sample(600.0, 20.5, 302),
        ];
        let verdict = &verdicts(&services, &steady, 60.0)[0];
        assert!(verdict.rss_flat && verdict.fds_flat, "{verdict:?}");
        // Pooled connections idle out and come back: descriptors dip, nothing leaks.
        let breathing = [
            sample(60.0, 20.0, 300),
            sample(300.0, 20.0, 250),
            sample(600.0, 20.0, 305),
        ];
        let verdict = &verdicts(&services, &breathing, 60.0)[0];
        assert!(verdict.fds_flat, "{verdict:?}");
        // Keeps growing after warm-up: a leak of memory and of descriptors.
        let leaking = [
            sample(60.0, 20.0, 300),
            sample(300.0, 26.0, 340),
            sample(600.0, 32.0, 380),
        ];
        let verdict = &verdicts(&services, &leaking, 60.0)[0];
        assert!(!verdict.rss_flat && !verdict.fds_flat, "{verdict:?}");
        assert!(verdict.rss_trend_mb_per_min > 1.0);
    }
}
