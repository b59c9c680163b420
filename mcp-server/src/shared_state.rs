//! The state several replicas share, in Redis (`MCP_REDIS_URL`), and whether it is up.
//!
//! One [`SharedState`] per server holds one connection (redis's `ConnectionManager`:
//! multiplexed, reconnecting by itself, every command bounded by a response timeout) for
//! everything shared: today the exchanged-token cache's shared tier. Redis is an
//! optimisation, never a dependency of a call: a failed command marks the state down, and
//! while it is down callers skip Redis entirely (no timeout paid per call) and work on
//! their local state. A probe pings Redis every [`SharedStateSettings::probe_interval`] and
//! marks it up again when it answers, so the state recovers by itself. The gauge
//! `mcp_shared_state_up` (1 or 0) says which.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use metrics::Gauge;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo as _, RedisResult};
use secrecy::{ExposeSecret as _, SecretString};

use crate::metrics::{Metrics, names};

/// A Redis URL (`redis://`, `rediss://` or `redis+unix://`), checked when configured. It may
/// carry a password, so neither `Debug` nor logs show more than its scheme.
#[derive(Clone)]
pub struct RedisUrl(SecretString);

impl RedisUrl {
    /// Parses `value` as the redis crate does; the error says why, never repeating the URL
    /// (it may hold a password).
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        value
            .into_connection_info()
            .map_err(|e| format!("not a Redis URL ({:?})", e.kind()))?;
        Ok(Self(SecretString::from(value)))
    }

    /// The scheme alone, which is what the logs show.
    fn scheme(&self) -> &str {
        let url = self.0.expose_secret();
        url.split_once("://").map_or("redis", |(scheme, _)| scheme)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({}://[redacted])", self.scheme())
    }
}

/// How the connection to Redis is bounded.
#[derive(Clone, Debug)]
pub struct SharedStateSettings {
    /// Where Redis is.
    pub url: RedisUrl,
    /// Time allowed for one command's answer.
    pub response_timeout: Duration,
    /// Time allowed to open a connection.
    pub connection_timeout: Duration,
    /// How often Redis is pinged, to notice it is back (or gone while nobody asks).
    pub probe_interval: Duration,
}

impl SharedStateSettings {
    /// Loopback-friendly bounds: 500 ms per command and per connection, a probe a second.
    pub fn new(url: RedisUrl) -> Self {
        Self {
            url,
            response_timeout: Duration::from_millis(500),
            connection_timeout: Duration::from_millis(500),
            probe_interval: Duration::from_secs(1),
        }
    }
}

/// The shared state's connection and health. Cheap to clone.
#[derive(Clone)]
pub struct SharedState {
    inner: Arc<Inner>,
}

struct Inner {
    connection: ConnectionManager,
    up: AtomicBool,
    gauge: Gauge,
}

impl fmt::Debug for SharedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedState")
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl SharedState {
    /// Sets up the connection without opening it (Redis may be down at start: the server
    /// starts anyway) and starts the probe, which ends when the last clone is dropped.
    /// Must be called inside a tokio runtime.
    pub fn connect(settings: &SharedStateSettings, metrics: &Metrics) -> RedisResult<Self> {
        let client = redis::Client::open(settings.url.0.expose_secret())?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(settings.response_timeout))
            .set_connection_timeout(Some(settings.connection_timeout))
            // A call must not wait through a long reconnection schedule: one quick retry,
            // and the probe (or the next call) tries again later.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        let gauge = metrics.gauge(names::SHARED_STATE_UP);
        // Unknown until the first probe answers; calls try Redis meanwhile.
        gauge.set(0.0);
        let inner = Arc::new(Inner {
            connection,
            up: AtomicBool::new(true),
            gauge,
        });
        tokio::spawn(probe(Arc::downgrade(&inner), settings.probe_interval));
        tracing::info!(redis = settings.url.scheme(), "shared state configured");
        Ok(Self { inner })
    }

    /// Whether the last command (or probe) reached Redis.
    pub fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::Relaxed)
    }

    /// A handle to send commands on, or `None` while Redis is down: the caller then goes
    /// without (its local state) and pays no timeout.
    pub(crate) fn connection(&self) -> Option<ConnectionManager> {
        self.is_up().then(|| self.inner.connection.clone())
    }

    /// The value of a command's result; an error marks the state down (until the probe
    /// reaches Redis again) and gives `None`. `what` names the operation in the log.
    pub(crate) fn observe<T>(&self, what: &'static str, result: RedisResult<T>) -> Option<T> {
        match result {
            Ok(value) => {
                self.inner.mark(true, what, None);
                Some(value)
            }
            Err(error) => {
                self.inner.mark(false, what, Some(&error));
                None
            }
        }
    }
}

impl Inner {
    fn mark(&self, up: bool, what: &'static str, error: Option<&redis::RedisError>) {
        self.gauge.set(if up { 1.0 } else { 0.0 });
        let was_up = self.up.swap(up, Ordering::Relaxed);
        match (was_up, up) {
            (true, false) => tracing::warn!(
                operation = what,
                error = ?error.map(redis::RedisError::kind),
                "the shared state (Redis) is unavailable; working on local state until it answers again"
            ),
            (false, true) => tracing::info!("the shared state (Redis) answers again"),
            _ => {}
        }
    }
}

/// Pings Redis every `interval` while the shared state is alive.
async fn probe(inner: Weak<Inner>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let mut connection = inner.connection.clone();
        let answer: RedisResult<String> = redis::cmd("PING").query_async(&mut connection).await;
        match answer {
            Ok(_) => inner.mark(true, "ping", None),
            Err(error) => inner.mark(false, "ping", Some(&error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_url_never_shows_its_password() {
        let url = RedisUrl::parse("redis://:hunter2-secret@127.0.0.1:6379/0").unwrap();
        assert_eq!(format!("{url:?}"), "RedisUrl(redis://[redacted])");
        let settings = SharedStateSettings::new(url);
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn a_bad_redis_url_is_refused_without_repeating_it() {
        let error = RedisUrl::parse("http://:hunter2-secret@example.com/").unwrap_err();
        assert!(error.starts_with("not a Redis URL"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        assert!(RedisUrl::parse("redis+unix:///run/redis.sock").is_ok());
    }
}
