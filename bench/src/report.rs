//! The results of a run and their three renderings: JSON (every figure), a markdown table
//! (what BENCHMARKS.md shows) and an SVG plot of latency against concurrency.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use plotters::prelude::*;
use serde::Serialize;

use crate::load::Measured;
use crate::processes::ServiceFigures;

/// One measured point of a named scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// e.g. `greet (cache hit)`.
    pub scenario: String,
    /// `stateless` (2026-07-28), `session` (2025-11-25) or `http` (floor, IdP).
    pub era: String,
    /// The driver's figures.
    #[serde(flatten)]
    pub measured: Measured,
    /// calls/s divided by the floor's calls/s at the same concurrency.
    pub floor_fraction: Option<f64>,
    /// In-process RSS (everything in this process) before the point, MB.
    pub rss_before_mb: Option<f64>,
    /// And after.
    pub rss_after_mb: Option<f64>,
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// `model name` of /proc/cpuinfo.
    pub cpu: String,
    /// Online CPUs.
    pub cores: usize,
    /// `uname -r` equivalent (/proc/sys/kernel/osrelease).
    pub kernel: String,
    /// Total memory, MB.
    pub memory_mb: Option<f64>,
}

impl Machine {
    /// Reads /proc.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, name)| name.trim().to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |text| text.trim().to_owned());
        let memory_mb = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
                let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kb * 1024.0 / 1_000_000.0)
            });
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            kernel,
            memory_mb,
        }
    }
}

/// One target of the benchmark and whether this run met it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    /// The target as the issue words it.
    pub target: String,
    /// What this run measured.
    pub measured: String,
    /// Met, missed, or not measured (`None`).
    pub met: Option<bool>,
}

/// The process phase: each binary's readiness, memory, and CPU per call.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessPhase {
    /// One point per Custom Token Exchange scenario, with each service's CPU per call.
    pub per_service: Vec<Point>,
    /// The load steps whose RSS is recorded, in order.
    pub steps: Vec<Point>,
    /// Per service.
    pub services: Vec<ServiceFigures>,
}

/// Everything one run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// RFC 3339 UTC.
    pub date: String,
    /// Where.
    pub machine: Machine,
    /// How: durations, runtimes, concurrency levels.
    pub settings: serde_json::Value,
    /// Time for the in-process stack to answer ready, ms.
    pub in_process_ready_ms: f64,
    /// In-process RSS before the stack started and once it was ready, MB.
    pub in_process_rss_mb: (Option<f64>, Option<f64>),
    /// The chain and its floor.
    pub chain: Vec<Point>,
    /// fake-auth0 on its own.
    pub idp: Vec<Point>,
    /// The password grant rate seen while minting subject tokens for the cache-miss points.
    pub password_grants_per_s: Vec<f64>,
    /// The binaries as processes, when built.
    pub processes: Option<ProcessPhase>,
    /// The targets, each judged.
    pub targets: Vec<TargetCheck>,
    /// Wall time of the whole run, s.
    pub total_s: f64,
}

/// What the point would reach if every core worked for it alone: cores ÷ CPU per call
/// (services and driver). On a shared machine this is steadier than calls/s, since another
/// process's work changes how much CPU we get, not what each call costs.
pub fn cpu_bound_rate(m: &Measured, cores: usize) -> f64 {
    let per_call_s = (m.services_cpu_us_per_call + m.driver_cpu_us_per_call) / 1e6;
    if per_call_s > 0.0 {
        cores as f64 / per_call_s
    } else {
        0.0
    }
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn point_rows(out: &mut String, points: &[Point], cores: usize) {
    out.push_str(
        "| scenario | era | clients | calls/s | × floor | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU µs/call | driver CPU µs/call | cores busy | calls/s if CPU-bound | RSS before → after MB |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for point in points {
        let m = &point.measured;
        let exhausted = if m.pool_exhausted {
            " (pool ran out)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}{exhausted} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {:.1} | {:.1} | {:.2} | {} | {} → {} |",
            point.scenario,
            point.era,
            m.concurrency,
            rate(m.calls_per_s),
            opt(point.floor_fraction, 3),
            m.p50_ms,
            m.p90_ms,
            m.p99_ms,
            m.max_ms,
            m.errors,
            m.services_cpu_us_per_call,
            m.driver_cpu_us_per_call,
            m.cpu_busy,
            rate(cpu_bound_rate(m, cores)),
            opt(point.rss_before_mb, 0),
            opt(point.rss_after_mb, 0),
        );
    }
}

/// The process phase's per-service table: one CPU column per service, in the order the
/// points watched them.
fn per_service_rows(out: &mut String, points: &[Point]) {
    let Some(first) = points.first() else {
        return;
    };
    let services: Vec<&str> = first
        .measured
        .processes_cpu
        .iter()
        .map(|p| p.service.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\n### Each service's CPU per call (release binaries as processes, {} clients)\n",
        first.measured.concurrency
    );
    out.push_str("| scenario | era | clients | calls/s | × floor | p50 ms | p99 ms | errors |");
    for service in &services {
        let _ = write!(out, " {service} µs/call |");
    }
    out.push_str(" driver µs/call |\n|---|---|---:|---:|---:|---:|---:|---:|");
    for _ in &services {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for point in points {
        let m = &point.measured;
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {} |",
            point.scenario,
            point.era,
            m.concurrency,
            rate(m.calls_per_s),
            opt(point.floor_fraction, 3),
            m.p50_ms,
            m.p99_ms,
            m.errors,
        );
        for service in &services {
            let _ = write!(out, " {} |", opt(m.process_cpu_us(service), 1));
        }
        let _ = writeln!(out, " {:.1} |", m.driver_cpu_us_per_call);
    }
}

impl Results {
    /// The markdown report.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "Measured {} on {} ({} cores, {} MB, Linux {}); run took {:.0} s.\n",
            self.date,
            m.cpu,
            m.cores,
            opt(m.memory_mb, 0),
            m.kernel,
            self.total_s
        );
        let _ = writeln!(
            out,
            "In-process stack ready in {:.0} ms; process RSS {} MB before it, {} MB once ready.\n",
            self.in_process_ready_ms,
            opt(self.in_process_rss_mb.0, 1),
            opt(self.in_process_rss_mb.1, 1),
        );
        out.push_str("### Targets\n\n| target | measured | |\n|---|---|---|\n");
        for check in &self.targets {
            let verdict = match check.met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not measured",
            };
            let _ = writeln!(out, "| {} | {} | {verdict} |", check.target, check.measured);
        }
        out.push_str("\n### MCP chain (in-process stack, HTTP/1.1 keep-alive, one connection per client)\n\n");
        point_rows(&mut out, &self.chain, m.cores);
        out.push_str("\n### fake-auth0 token endpoint\n\n");
        point_rows(&mut out, &self.idp, m.cores);
        if !self.password_grants_per_s.is_empty() {
            let rates: Vec<String> = self
                .password_grants_per_s
                .iter()
                .map(|r| rate(*r))
                .collect();
            let _ = writeln!(
                out,
                "\nPassword grants while minting subject tokens (reqwest, 32 in flight): {} tokens/s.",
                rates.join(", ")
            );
        }
        if let Some(phase) = &self.processes {
            per_service_rows(&mut out, &phase.per_service);
            out.push_str(
                "\n### Release binaries as processes: readiness and each service's RSS\n\n",
            );
            point_rows(&mut out, &phase.steps, m.cores);
            out.push_str("\n| service | ready ms | RSS idle MB |");
            for step in &phase.steps {
                let _ = write!(
                    out,
                    " RSS after {} [{}] ×{} MB |",
                    step.scenario, step.era, step.measured.concurrency
                );
            }
            out.push_str("\n|---|---:|---:|");
            for _ in &phase.steps {
                out.push_str("---:|");
            }
            out.push('\n');
            for service in &phase.services {
                let _ = write!(
                    out,
                    "| {} | {:.0} | {} |",
                    service.service,
                    service.ready_ms,
                    opt(service.rss_idle_mb, 1)
                );
                for rss in &service.rss_after_mb {
                    let _ = write!(out, " {} |", opt(*rss, 1));
                }
                out.push('\n');
            }
        }
        out
    }

    /// Writes `results.json`, `results.md` and `latency.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(dir.join("results.json"), json)?;
        std::fs::write(dir.join("results.md"), self.markdown())?;
        self.plot(&dir.join("latency.svg"))?;
        Ok(())
    }

    /// Latency (p50 and p99, log scale) against concurrency, one colour per scenario.
    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let mut scenarios: Vec<String> = Vec::new();
        for point in &self.chain {
            let label = format!("{} [{}]", point.scenario, point.era);
            if !scenarios.contains(&label) {
                scenarios.push(label);
            }
        }
        let series = |label: &str, p99: bool| -> Vec<(f64, f64)> {
            self.chain
                .iter()
                .filter(|p| format!("{} [{}]", p.scenario, p.era) == label)
                .map(|p| {
                    let ms = if p99 {
                        p.measured.p99_ms
                    } else {
                        p.measured.p50_ms
                    };
                    (p.measured.concurrency as f64, ms.max(0.001))
                })
                .collect()
        };
        let max_c = self
            .chain
            .iter()
            .map(|p| p.measured.concurrency)
            .max()
            .unwrap_or(1)
            .max(2) as f64;
        let max_ms = self
            .chain
            .iter()
            .map(|p| p.measured.p99_ms)
            .fold(1.0_f64, f64::max)
            * 1.5;
        let min_ms = self
            .chain
            .iter()
            .map(|p| p.measured.p50_ms)
            .fold(f64::INFINITY, f64::min)
            .clamp(0.001, 1.0)
            * 0.7;

        let root = SVGBackend::new(path, (1200, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let panels = root.split_evenly((1, 2));
        let palette = [
            RGBColor(0x33, 0x33, 0x33),
            RGBColor(0x1f, 0x77, 0xb4),
            RGBColor(0xff, 0x7f, 0x0e),
            RGBColor(0x2c, 0xa0, 0x2c),
            RGBColor(0xd6, 0x27, 0x28),
            RGBColor(0x94, 0x67, 0xbd),
            RGBColor(0x8c, 0x56, 0x4b),
            RGBColor(0xe3, 0x77, 0xc2),
        ];
        for (panel, (title, p99)) in panels
            .iter()
            .zip([("p50 latency", false), ("p99 latency", true)])
        {
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    format!("{title} (ms, log) vs concurrent clients"),
                    ("sans-serif", 18),
                )
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d((1.0..max_c * 1.2).log_scale(), (min_ms..max_ms).log_scale())
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .x_desc("concurrent clients")
                .y_desc("ms")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| format!("{y}"))
                .draw()
                .map_err(plot_error)?;
            for (index, label) in scenarios.iter().enumerate() {
                let color = palette[index % palette.len()];
                let data = series(label, p99);
                chart
                    .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
                    .map_err(plot_error)?
                    .label(label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(
                        data.into_iter()
                            .map(|xy| Circle::new(xy, 3, color.filled())),
                    )
                    .map_err(plot_error)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
        Ok(())
    }
}

/// A plotters error as this crate's error, for every plot the bench draws.
pub(crate) fn plot_error<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the plot: {error:?}")
}
