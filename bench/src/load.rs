//! The load driver: a fixed number of virtual clients, each on its own keep-alive HTTP/1.1
//! connection (hyper, `TCP_NODELAY`), each sending its next request as soon as the previous
//! answer is read — a closed loop, like wrk or oha with `-c N`.
//!
//! One driver for every figure (the floor, the MCP tools, the IdP) so that the ratio of two
//! figures measures the servers, not a difference between load tools. Latencies go into one
//! HDR histogram per client (merged at the end), so no client shares a lock with another.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::header::{CONTENT_TYPE, HOST, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

use crate::cpu;

/// Where the `{id}` placeholder of a body template goes: each request gets its own JSON-RPC id.
const ID_PLACEHOLDER: &str = "{id}";

/// A body with an optional JSON-RPC id slot, so building a request is two copies, not a
/// JSON serialisation (the driver shares the cores with the servers it measures).
#[derive(Debug, Clone)]
pub struct BodyTemplate {
    head: Bytes,
    tail: Option<Bytes>,
}

impl BodyTemplate {
    /// A template; `{id}` (at most once) is replaced by a per-request number.
    pub fn new(text: &str) -> Self {
        match text.split_once(ID_PLACEHOLDER) {
            Some((head, tail)) => Self {
                head: Bytes::copy_from_slice(head.as_bytes()),
                tail: Some(Bytes::copy_from_slice(tail.as_bytes())),
            },
            None => Self {
                head: Bytes::copy_from_slice(text.as_bytes()),
                tail: None,
            },
        }
    }

    fn render(&self, id: u64) -> Bytes {
        match &self.tail {
            None => self.head.clone(),
            Some(tail) => {
                let id = id.to_string();
                let mut body = Vec::with_capacity(self.head.len() + id.len() + tail.len());
                body.extend_from_slice(&self.head);
                body.extend_from_slice(id.as_bytes());
                body.extend_from_slice(tail);
                Bytes::from(body)
            }
        }
    }
}

/// Tokens handed out one per call (the exchange-cache-miss scenario); when they run out the
/// point ends early, and the report says so.
#[derive(Debug)]
pub struct TokenPool {
    headers: Vec<HeaderValue>,
    next: AtomicUsize,
}

impl TokenPool {
    /// A pool of `Authorization` header values.
    pub fn new(tokens: &[String]) -> anyhow::Result<Self> {
        let headers = tokens
            .iter()
            .map(|token| HeaderValue::from_str(&format!("Bearer {token}")))
            .collect::<Result<Vec<_>, _>>()
            .context("a token is not a valid header value")?;
        Ok(Self {
            headers,
            next: AtomicUsize::new(0),
        })
    }

    fn take(&self) -> Option<HeaderValue> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        self.headers.get(index).cloned()
    }

    /// How many tokens were handed out (capped at the pool size).
    pub fn used(&self) -> usize {
        self.next.load(Ordering::Relaxed).min(self.headers.len())
    }

    /// How many tokens the pool held.
    pub fn len(&self) -> usize {
        self.headers.len()
    }
}

/// What a successful answer looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// HTTP 200 carrying a JSON-RPC `result` that is not a tool error (`isError: true`).
    McpResult,
    /// HTTP 200 whose body contains this text (e.g. `access_token`).
    Contains(&'static str),
}

/// An older-era session, opened by each client on its own connection before timing starts.
#[derive(Debug, Clone)]
pub struct SessionSetup {
    /// The `initialize` body.
    pub initialize: Bytes,
    /// The `notifications/initialized` body.
    pub initialized: Bytes,
    /// The protocol version header sent after `initialize`.
    pub protocol_version: HeaderValue,
}

/// One kind of call, repeated by every client of a point.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Path and query, e.g. `/mcp`.
    pub path: String,
    /// Headers every request carries (Host and Content-Length are added).
    pub headers: HeaderMap,
    /// The body.
    pub body: BodyTemplate,
    /// A fresh `Authorization` per call instead of one in `headers`.
    pub tokens: Option<Arc<TokenPool>>,
    /// Open a session per client first (older protocol era).
    pub session: Option<SessionSetup>,
    /// How an answer is judged.
    pub expect: Expect,
    /// Counters updated after every call, warm-up included, for whoever watches a long run
    /// while it goes (the soak); `None` for the measured points.
    pub live: Option<Arc<LiveCounts>>,
}

/// Calls and failures so far, shared by every client of a run.
#[derive(Debug, Default)]
pub struct LiveCounts {
    calls: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl LiveCounts {
    fn record(&self, result: &anyhow::Result<()>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = result {
            self.errors.fetch_add(1, Ordering::Relaxed);
            self.first_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(|| error.to_string());
        }
    }

    /// Calls completed so far (successes and failures).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls that failed so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The first failure, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// How long and how wide one measurement point is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Concurrent clients (= connections).
    pub concurrency: usize,
    /// Calls during this time are not counted (connections and caches settle).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// A service running as its own process, whose CPU a point reads at the edges of its
/// measured window (the figure an in-process stack cannot split by service).
#[derive(Debug, Clone)]
pub struct WatchedProcess {
    /// The service's name in the report.
    pub service: String,
    /// Its process id.
    pub pid: u32,
}

impl WatchedProcess {
    /// CPU seconds so far; `None` once the process is gone (or its `stat` unreadable).
    fn cpu_s(&self) -> Option<f64> {
        cpu::process_cpu_s(&format!("/proc/{}/stat", self.pid))
    }
}

/// One watched process's CPU time per call of a point.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessCpu {
    /// The service.
    pub service: String,
    /// Its CPU time (utime + stime, every thread) over the measured window ÷ calls, µs.
    pub cpu_us_per_call: f64,
}

/// The figures of one point.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// Concurrent clients.
    pub concurrency: usize,
    /// Calls completed inside the measured window (successes and errors).
    pub calls: u64,
    /// Calls that failed (transport error, unexpected status or body).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// The measured window actually used, seconds (shorter when a token pool ran out).
    pub window_s: f64,
    /// Calls per second.
    pub calls_per_s: f64,
    /// Latency percentiles of every counted call, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest call.
    pub max_ms: f64,
    /// True when the point ended because a token pool ran out.
    pub pool_exhausted: bool,
    /// CPU time per call of every thread but the driver's (the services, in process), µs.
    pub services_cpu_us_per_call: f64,
    /// CPU time per call of the driver's threads, µs.
    pub driver_cpu_us_per_call: f64,
    /// CPU seconds used per second of the window, all threads (the machine has `cores`).
    pub cpu_busy: f64,
    /// Each watched process's CPU per call, in the order they were given (none in process).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes_cpu: Vec<ProcessCpu>,
}

impl Measured {
    /// The CPU per call of the watched process named `service`, µs.
    pub fn process_cpu_us(&self, service: &str) -> Option<f64> {
        self.processes_cpu
            .iter()
            .find(|p| p.service == service)
            .map(|p| p.cpu_us_per_call)
    }
}

struct ClientOutcome {
    histogram: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
    last_end: Instant,
    pool_exhausted: bool,
}

/// Runs one point: `shape.concurrency` clients against `addr` for warmup + duration; the CPU
/// of this process's threads and of each `watched` process is read when the measured window
/// opens and when it closes.
pub async fn run(
    addr: SocketAddr,
    workload: &Workload,
    shape: Shape,
    watched: Vec<WatchedProcess>,
) -> anyhow::Result<Measured> {
    let workload = Arc::new(workload.clone());
    let host = HeaderValue::from_str(&addr.to_string()).context("host header")?;

    // Connect (and open sessions) before the clock starts, so setup cost is not a figure.
    let mut connections = Vec::with_capacity(shape.concurrency);
    for _ in 0..shape.concurrency {
        let mut sender = connect(addr).await?;
        let session = match &workload.session {
            Some(setup) => Some(open_session(&mut sender, &workload, &host, setup).await?),
            None => None,
        };
        connections.push((sender, session));
    }

    let start = Instant::now();
    let measure_from = start + shape.warmup;
    let until = measure_from + shape.duration;
    let sampler = tokio::spawn(async move {
        let processes_cpu_s = || {
            watched
                .iter()
                .map(WatchedProcess::cpu_s)
                .collect::<Vec<_>>()
        };
        tokio::time::sleep_until(measure_from.into()).await;
        let before = cpu::sample(cpu::DRIVER_THREAD);
        let processes_before = processes_cpu_s();
        tokio::time::sleep_until(until.into()).await;
        let used = cpu::sample(cpu::DRIVER_THREAD).since(before);
        // A process without both readings (it died, or was never there) gets no figure
        // rather than a wrong one: 0 µs per call would pass every budget.
        let processes_used: Vec<(String, f64)> = watched
            .iter()
            .zip(processes_cpu_s().into_iter().zip(processes_before))
            .filter_map(|(process, readings)| match readings {
                (Some(after), Some(before)) => {
                    Some((process.service.clone(), (after - before).max(0.0)))
                }
                _ => {
                    eprintln!(
                        "    no CPU figure for {} (pid {}): /proc/<pid>/stat was not readable at both edges of the window",
                        process.service, process.pid
                    );
                    None
                }
            })
            .collect();
        (used, processes_used)
    });
    let mut tasks = Vec::with_capacity(shape.concurrency);
    for (index, (sender, session)) in connections.into_iter().enumerate() {
        let workload = Arc::clone(&workload);
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            client_loop(
                addr,
                index,
                sender,
                session,
                &workload,
                &host,
                measure_from,
                until,
            )
            .await
        }));
    }

    let mut histogram = new_histogram();
    let mut errors = 0;
    let mut first_error = None;
    let mut last_end = measure_from;
    let mut pool_exhausted = false;
    for task in tasks {
        let outcome = task.await.context("a load client panicked")?;
        histogram
            .add(&outcome.histogram)
            .context("merging histograms")?;
        errors += outcome.errors;
        if first_error.is_none() {
            first_error = outcome.first_error;
        }
        last_end = last_end.max(outcome.last_end);
        pool_exhausted |= outcome.pool_exhausted;
    }
    let window = if pool_exhausted {
        last_end.saturating_duration_since(measure_from)
    } else {
        shape.duration
    };
    let window_s = window.as_secs_f64().max(1e-9);
    let ms = |micros: u64| micros as f64 / 1000.0;
    let (used, processes_used) = sampler.await.context("the CPU sampler panicked")?;
    let per_call = |seconds: f64| seconds * 1e6 / (histogram.len().max(1) as f64);
    let processes_cpu = processes_used
        .into_iter()
        .map(|(service, seconds)| ProcessCpu {
            service,
            cpu_us_per_call: per_call(seconds),
        })
        .collect();
    Ok(Measured {
        concurrency: shape.concurrency,
        calls: histogram.len(),
        errors,
        first_error,
        window_s,
        calls_per_s: histogram.len() as f64 / window_s,
        p50_ms: ms(histogram.value_at_quantile(0.50)),
        p90_ms: ms(histogram.value_at_quantile(0.90)),
        p99_ms: ms(histogram.value_at_quantile(0.99)),
        max_ms: ms(histogram.max()),
        pool_exhausted,
        services_cpu_us_per_call: per_call(used.services_s),
        driver_cpu_us_per_call: per_call(used.driver_s),
        cpu_busy: (used.services_s + used.driver_s) / shape.duration.as_secs_f64(),
        processes_cpu,
    })
}

/// Sends `calls` one after the other on one keep-alive connection, each checked as the load
/// points check theirs; the first call's workload opens a session first when it has one.
/// For counting a fixed number of calls (`instructions`), not for timing them.
pub async fn run_in_sequence<'a>(
    addr: SocketAddr,
    calls: impl IntoIterator<Item = &'a Workload>,
) -> anyhow::Result<()> {
    let host = HeaderValue::from_str(&addr.to_string()).context("host header")?;
    let mut sender = connect(addr).await?;
    let mut session = None;
    for (index, workload) in calls.into_iter().enumerate() {
        if index == 0
            && let Some(setup) = &workload.session
        {
            session = Some(open_session(&mut sender, workload, &host, setup).await?);
        }
        let id = index as u64 + 1;
        call(
            &mut sender,
            workload,
            &host,
            workload.body.render(id),
            None,
            session.as_ref(),
        )
        .await
        .with_context(|| format!("call {id} of the sequence"))?;
    }
    Ok(())
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 60 s at 3 significant digits: every latency this benchmark can see.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds are valid")
}

/// One HTTP/1.1 connection with Nagle off (as the servers set it), its driver task spawned.
async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP/1.1 handshake")?;
    tokio::spawn(async move {
        // The connection ends when the client drops its sender; an error then is expected.
        let _ = connection.await;
    });
    Ok(sender)
}

fn build(
    workload: &Workload,
    host: &HeaderValue,
    body: Bytes,
    authorization: Option<HeaderValue>,
    session: Option<&HeaderValue>,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(workload.path.as_str())
        .body(Full::new(body))?;
    let headers = request.headers_mut();
    headers.clone_from(&workload.headers);
    headers.insert(HOST, host.clone());
    if let Some(authorization) = authorization {
        headers.insert(http::header::AUTHORIZATION, authorization);
    }
    if let Some(session) = session {
        headers.insert(HeaderName::from_static("mcp-session-id"), session.clone());
    }
    Ok(request)
}

async fn open_session(
    sender: &mut SendRequest<Full<Bytes>>,
    workload: &Workload,
    host: &HeaderValue,
    setup: &SessionSetup,
) -> anyhow::Result<HeaderValue> {
    let mut initialize = build(workload, host, setup.initialize.clone(), None, None)?;
    // `initialize` negotiates the version: it carries none of the later requests' headers.
    initialize.headers_mut().remove("mcp-protocol-version");
    initialize.headers_mut().remove("mcp-method");
    initialize.headers_mut().remove("mcp-name");
    sender.ready().await?;
    let response = sender
        .send_request(initialize)
        .await
        .context("initialize")?;
    let status = response.status();
    let session = response.headers().get("mcp-session-id").cloned();
    let body = response.into_body().collect().await?.to_bytes();
    let Some(session) = session.filter(|_| status == StatusCode::OK) else {
        bail!(
            "initialize answered {status} without a session: {}",
            String::from_utf8_lossy(&body)
        );
    };
    let mut initialized = build(
        workload,
        host,
        setup.initialized.clone(),
        None,
        Some(&session),
    )?;
    let headers = initialized.headers_mut();
    headers.insert("mcp-protocol-version", setup.protocol_version.clone());
    headers.remove("mcp-method");
    headers.remove("mcp-name");
    sender.ready().await?;
    let response = sender
        .send_request(initialized)
        .await
        .context("initialized")?;
    let status = response.status();
    let _ = response.into_body().collect().await?;
    if !status.is_success() {
        bail!("notifications/initialized answered {status}");
    }
    Ok(session)
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the list
async fn client_loop(
    addr: SocketAddr,
    index: usize,
    mut sender: SendRequest<Full<Bytes>>,
    session: Option<HeaderValue>,
    workload: &Workload,
    host: &HeaderValue,
    measure_from: Instant,
    until: Instant,
) -> ClientOutcome {
    let mut outcome = ClientOutcome {
        histogram: new_histogram(),
        errors: 0,
        first_error: None,
        last_end: measure_from,
        pool_exhausted: false,
    };
    let mut id = (index as u64) << 32;
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let authorization = match &workload.tokens {
            Some(pool) => match pool.take() {
                Some(token) => Some(token),
                None => {
                    outcome.pool_exhausted = true;
                    break;
                }
            },
            None => None,
        };
        id += 1;
        let result = call(
            &mut sender,
            workload,
            host,
            workload.body.render(id),
            authorization,
            session.as_ref(),
        )
        .await;
        let ended = Instant::now();
        if let Some(live) = &workload.live {
            live.record(&result);
        }
        let counted = started >= measure_from && ended <= until;
        if counted {
            let micros =
                u64::try_from(ended.duration_since(started).as_micros()).unwrap_or(u64::MAX);
            outcome.histogram.saturating_record(micros.max(1));
            outcome.last_end = ended;
        }
        if let Err(error) = result {
            if counted {
                outcome.errors += 1;
                outcome.first_error.get_or_insert(error.to_string());
            }
            // A broken connection is replaced (a session-era client would need a new session:
            // the error count shows it).
            if sender.is_closed() {
                match connect(addr).await {
                    Ok(fresh) => sender = fresh,
                    Err(error) => {
                        outcome.first_error.get_or_insert(error.to_string());
                        break;
                    }
                }
            }
        }
    }
    outcome
}

async fn call(
    sender: &mut SendRequest<Full<Bytes>>,
    workload: &Workload,
    host: &HeaderValue,
    body: Bytes,
    authorization: Option<HeaderValue>,
    session: Option<&HeaderValue>,
) -> anyhow::Result<()> {
    let request = build(workload, host, body, authorization, session)?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    let body = response.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK {
        bail!("HTTP {status}: {}", snippet(&body));
    }
    let ok = match workload.expect {
        Expect::McpResult => {
            // Compact JSON from serde (rmcp): these byte patterns are how the fields appear.
            contains(&body, b"\"result\"") && !contains(&body, b"\"isError\":true")
        }
        Expect::Contains(text) => contains(&body, text.as_bytes()),
    };
    if !ok {
        bail!(
            "unexpected answer ({}): {}",
            if is_sse { "SSE" } else { "JSON" },
            snippet(&body)
        );
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watched_process_has_a_cpu_reading_while_it_lives_and_none_after() {
        let this = WatchedProcess {
            service: "bench".to_owned(),
            pid: std::process::id(),
        };
        assert!(this.cpu_s().is_some_and(|seconds| seconds >= 0.0));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = WatchedProcess {
            service: "true".to_owned(),
            pid: child.id(),
        };
        child.wait().unwrap();
        assert_eq!(gone.cpu_s(), None, "a reaped process must give no reading");
    }

    #[test]
    fn a_template_puts_each_request_id_in_its_slot() {
        let template = BodyTemplate::new(r#"{"id":{id},"method":"x"}"#);
        assert_eq!(&template.render(7)[..], br#"{"id":7,"method":"x"}"#);
        let fixed = BodyTemplate::new("grant_type=client_credentials");
        assert_eq!(&fixed.render(7)[..], b"grant_type=client_credentials");
    }

    #[test]
    fn a_token_pool_hands_each_token_out_once() {
        let pool = TokenPool::new(&["a".to_owned(), "b".to_owned()]).unwrap();
        assert_eq!(pool.take().unwrap(), "Bearer a");
        assert_eq!(pool.take().unwrap(), "Bearer b");
        assert!(pool.take().is_none());
        assert_eq!(pool.used(), 2);
    }
}
