//! The state several replicas share through Redis (MCP_REDIS_URL), and whether it is up.
//!
//! Redis is optional and never in the way: every command runs with short connection and
//! response timeouts, and while Redis is unreachable ([`SharedState::is_up`] false) the hot
//! path skips it entirely and serves from local state. A probe (`PING` every
//! [`PROBE_INTERVAL`]) notices when Redis returns, so the server recovers by itself;
//! `/ready` (`shared_state`) and `/metrics` (`mcp_shared_state_up`) report the tier.
//!
//! Its users (`session_store`: rmcp's sessions) take a [`SharedState::connection`] (none
//! while Redis is down) and report each result through [`SharedState::observe`].

use std::sync::{
    Arc, Weak,
    atomic::{AtomicBool, Ordering},
};
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::config::RedisUrl;
use crate::metrics::Metrics;

/// How often an unreachable (or reachable) Redis is probed.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// Bounds on one Redis round trip; past them the call goes on with local state.
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// The Redis connection shared by this replica's parts, and whether it answers. Cheap to
/// clone.
#[derive(Clone)]
pub(crate) struct SharedState {
    inner: Arc<Inner>,
}

struct Inner {
    redis: ConnectionManager,
    up: AtomicBool,
    metrics: Metrics,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl SharedState {
    /// Connects lazily (start-up never waits for Redis) and starts the probe, which stops
    /// when the last handle is dropped.
    pub(crate) fn connect(url: &RedisUrl, metrics: Metrics) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url.0.as_str())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            // One quick retry: a call must not wait out a reconnect loop.
            .set_number_of_retries(1)
            .set_max_delay(PROBE_INTERVAL);
        let redis = ConnectionManager::new_lazy_with_config(client, config)?;
        let inner = Arc::new(Inner {
            redis,
            up: AtomicBool::new(false),
            metrics,
        });
        inner.metrics.shared_state_up(false);
        tokio::spawn(probe(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// True while the last command (or probe) reached Redis.
    pub(crate) fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::Relaxed)
    }

    /// A handle to send commands on, or `None` while Redis is down: the caller then goes
    /// without (its local state) and pays no timeout.
    pub(crate) fn connection(&self) -> Option<ConnectionManager> {
        self.is_up().then(|| self.inner.redis.clone())
    }

    /// The value of a command's result; an error marks the state down (until the probe
    /// reaches Redis again) and gives `None`. `what` names the operation in the log.
    pub(crate) fn observe<T>(
        &self,
        what: &'static str,
        result: redis::RedisResult<T>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::warn!(error = %err, operation = what, "a shared state (Redis) command failed");
                self.inner.mark(false);
                None
            }
        }
    }
}

impl Inner {
    fn mark(&self, up: bool) {
        if self.up.swap(up, Ordering::Relaxed) != up {
            self.metrics.shared_state_up(up);
            if up {
                tracing::info!("the shared state (Redis) is reachable");
            } else {
                tracing::warn!("the shared state (Redis) is unreachable; serving from local state");
            }
        }
    }
}

async fn probe(shared: Weak<Inner>) {
    let mut interval = tokio::time::interval(PROBE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut redis = shared.redis.clone();
        let answered = redis::cmd("PING")
            .query_async::<String>(&mut redis)
            .await
            .is_ok();
        shared.mark(answered);
    }
}
