//! Prometheus metrics, one registry per server instance.
//!
//! The `metrics` crate's macros write to a process-global recorder, which can be installed
//! only once: two servers in one test process would share (or fight over) it. Each server
//! therefore owns a [`PrometheusRecorder`] and registers its handles through
//! [`metrics::with_local_recorder`]; the returned `Counter`/`Histogram` handles keep
//! working outside that closure because they point into this recorder's registry.
//! The metric names live here so the HTTP layer, the tools and the token exchange agree.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use metrics::{Counter, Gauge, Histogram, Label};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// The metric names this server exports.
pub(crate) mod names {
    /// Counter, label `status`: HTTP responses by status code.
    pub const HTTP_REQUESTS: &str = "mcp_http_requests_total";
    /// Counter, label `reason`: bearer tokens refused on /mcp.
    pub const TOKEN_REJECTIONS: &str = "mcp_token_rejections_total";
    /// Counter, labels `tool` and `outcome` (`ok`, `error`, `protocol_error`, `insufficient_scope`).
    pub const TOOL_CALLS: &str = "mcp_tool_calls_total";
    /// Counter, label `outcome`: Custom Token Exchange requests to the IdP.
    pub const TOKEN_EXCHANGES: &str = "mcp_token_exchanges_total";
    /// Counter, label `result` (`hit`, `miss`): exchanged-token cache lookups.
    pub const EXCHANGE_CACHE: &str = "mcp_exchange_cache_requests_total";
    /// Counter, label `result` (`hit`, `miss`, `unavailable`): lookups in the exchanged-token
    /// cache's shared tier (Redis), made on a local miss.
    pub const EXCHANGE_SHARED_CACHE: &str = "mcp_exchange_shared_cache_requests_total";
    /// Gauge: 1 while the shared state (Redis, `MCP_REDIS_URL`) answers, 0 while it does not.
    pub const SHARED_STATE_UP: &str = "mcp_shared_state_up";
    /// Counter, label `outcome`: upstream API calls.
    pub const UPSTREAM_REQUESTS: &str = "mcp_upstream_requests_total";
    /// Histogram (seconds), label `outcome`: upstream API call latency.
    pub const UPSTREAM_LATENCY: &str = "mcp_upstream_request_duration_seconds";
    /// Gauge: live sessions in this replica.
    pub const SESSIONS_LIVE: &str = "mcp_sessions_live";
    /// Counter, label `limit` (`per_user`, `global`): `initialize` refused at a session cap.
    pub const SESSIONS_REFUSED: &str = "mcp_sessions_refused_total";
}

/// Latency buckets for the upstream histogram, in seconds (1 ms … 5 s, the call timeout).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A metric and its label pairs, all static strings (two pairs at most; unused ones empty).
type HandleKey = (&'static str, [(&'static str, &'static str); 2]);

/// This server instance's metrics registry. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    /// Handles already registered: registering copies the labels into a key and looks it
    /// up in the registry, work that a metric named by static strings needs only once,
    /// not on every request.
    counters: Arc<RwLock<HashMap<HandleKey, Counter>>>,
    histograms: Arc<RwLock<HashMap<HandleKey, Histogram>>>,
}

/// The `status` label of every HTTP status code (100–999), made once.
fn status_label(status: u16) -> &'static str {
    static LABELS: OnceLock<Vec<String>> = OnceLock::new();
    let labels = LABELS.get_or_init(|| (100..1000).map(|code: u16| code.to_string()).collect());
    status
        .checked_sub(100)
        .and_then(|index| labels.get(usize::from(index)))
        .map_or("other", String::as_str)
}

/// `labels` as a [`HandleKey`]'s fixed pairs.
fn handle_key(name: &'static str, labels: &[(&'static str, &'static str)]) -> HandleKey {
    let mut pairs = [("", ""); 2];
    for (slot, label) in pairs.iter_mut().zip(labels) {
        *slot = *label;
    }
    debug_assert!(
        labels.len() <= pairs.len(),
        "{name}: more labels than a key holds"
    );
    (name, pairs)
}

/// The handle of `key` in `cache`, registered by `register` the first time.
fn cached<H: Clone>(
    cache: &RwLock<HashMap<HandleKey, H>>,
    key: HandleKey,
    register: impl FnOnce() -> H,
) -> H {
    if let Some(handle) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
    {
        return handle.clone();
    }
    cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key)
        .or_insert_with(register)
        .clone()
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh, empty registry.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(names::UPSTREAM_LATENCY.to_owned()),
                LATENCY_BUCKETS,
            )
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        Self {
            recorder: Arc::new(recorder),
            handle,
            counters: Arc::default(),
            histograms: Arc::default(),
        }
    }

    /// Drains the histograms' recorded samples into their buckets every `every`, until the
    /// last clone of this registry is dropped. The recorder keeps each sample until an
    /// upkeep (rendering `/metrics` runs one), so a server nobody scrapes would otherwise
    /// grow by every upstream call it makes. Must be called inside a tokio runtime.
    pub(crate) fn spawn_upkeep(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let recorder = Arc::downgrade(&self.recorder);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(recorder) = recorder.upgrade() else {
                    return;
                };
                recorder.handle().run_upkeep();
            }
        })
    }

    /// The Prometheus text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// A counter handle in this registry.
    pub(crate) fn counter(
        &self,
        name: &'static str,
        labels: &[(&'static str, &'static str)],
    ) -> Counter {
        cached(&self.counters, handle_key(name, labels), || {
            let labels = static_labels(labels);
            metrics::with_local_recorder(self.recorder.as_ref(), || metrics::counter!(name, labels))
        })
    }

    /// A gauge handle (without labels) in this registry.
    pub(crate) fn gauge(&self, name: &'static str) -> Gauge {
        metrics::with_local_recorder(self.recorder.as_ref(), || metrics::gauge!(name))
    }

    /// A histogram handle in this registry.
    pub(crate) fn histogram(
        &self,
        name: &'static str,
        labels: &[(&'static str, &'static str)],
    ) -> Histogram {
        cached(&self.histograms, handle_key(name, labels), || {
            let labels = static_labels(labels);
            metrics::with_local_recorder(self.recorder.as_ref(), || {
                metrics::histogram!(name, labels)
            })
        })
    }

    /// The number of live sessions in this replica.
    pub(crate) fn sessions_live(&self, live: usize) {
        // Session counts stay far below 2^52, where f64 stops being exact.
        #[allow(clippy::cast_precision_loss)]
        self.gauge(names::SESSIONS_LIVE).set(live as f64);
    }

    /// Counts one `initialize` refused at a session cap.
    pub(crate) fn session_refused(&self, limit: &'static str) {
        self.counter(names::SESSIONS_REFUSED, &[("limit", limit)])
            .increment(1);
    }

    /// Counts one HTTP response.
    pub(crate) fn http_request(&self, status: u16) {
        self.counter(names::HTTP_REQUESTS, &[("status", status_label(status))])
            .increment(1);
    }

    /// Counts one refused bearer token.
    pub(crate) fn token_rejection(&self, reason: &'static str) {
        self.counter(names::TOKEN_REJECTIONS, &[("reason", reason)])
            .increment(1);
    }

    /// Counts one tool call.
    pub(crate) fn tool_call(&self, tool: &'static str, outcome: &'static str) {
        self.counter(names::TOOL_CALLS, &[("tool", tool), ("outcome", outcome)])
            .increment(1);
    }

    /// Counts one token exchange at the IdP.
    pub(crate) fn token_exchange(&self, outcome: &'static str) {
        self.counter(names::TOKEN_EXCHANGES, &[("outcome", outcome)])
            .increment(1);
    }

    /// Counts one upstream API call.
    pub(crate) fn upstream_request(&self, outcome: &'static str) {
        self.counter(names::UPSTREAM_REQUESTS, &[("outcome", outcome)])
            .increment(1);
    }

    /// Records one upstream API call's latency.
    pub(crate) fn upstream_latency(&self, seconds: f64, outcome: &'static str) {
        self.histogram(names::UPSTREAM_LATENCY, &[("outcome", outcome)])
            .record(seconds);
    }
}

/// Labels that borrow their static strings instead of copying them.
fn static_labels(labels: &[(&'static str, &'static str)]) -> Vec<Label> {
    labels
        .iter()
        .map(|(key, value)| Label::from_static_parts(key, value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_instances_do_not_share_counts() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.tool_call("whoami", "ok");
        a.tool_call("whoami", "ok");
        b.upstream_latency(0.01, "ok");
        a.http_request(200);
        a.http_request(200);
        a.http_request(404);
        let a_text = a.render();
        let b_text = b.render();
        assert!(
            a_text.contains(r#"mcp_tool_calls_total{tool="whoami",outcome="ok"} 2"#),
            "{a_text}"
        );
        assert!(
            a_text.contains(r#"mcp_http_requests_total{status="200"} 2"#),
            "{a_text}"
        );
        assert!(
            a_text.contains(r#"mcp_http_requests_total{status="404"} 1"#),
            "{a_text}"
        );
        assert!(!b_text.contains("mcp_tool_calls_total"), "{b_text}");
        assert!(
            b_text.contains("mcp_upstream_request_duration_seconds_bucket"),
            "{b_text}"
        );
    }

    #[tokio::test]
    async fn the_upkeep_task_ends_with_the_last_clone_of_its_registry() {
        let metrics = Metrics::new();
        let upkeep = metrics.spawn_upkeep(std::time::Duration::from_millis(1));
        metrics.upstream_latency(0.01, "ok");
        let scraped = metrics.clone();
        drop(metrics);
        assert!(
            scraped
                .render()
                .contains("mcp_upstream_request_duration_seconds_count{outcome=\"ok\"} 1"),
            "the clone still records"
        );
        assert!(!upkeep.is_finished(), "ended while a clone was alive");
        drop(scraped);
        tokio::time::timeout(std::time::Duration::from_secs(10), upkeep)
            .await
            .expect("the upkeep task ends once the registry is gone")
            .expect("the upkeep task does not panic");
    }
}
