//! The state several replicas share through Redis (MCP_REDIS_URL), and whether it is up.
//!
//! Redis is optional and never in the way: every command runs with short connection and
//! response timeouts, and while Redis is unreachable ([`SharedState::is_up`] false) the hot
//! path skips it entirely and serves from local state. A probe (`PING` every
//! [`PROBE_INTERVAL`]) notices when Redis returns, so the server recovers by itself;
//! `/ready` (`shared_state`) and `/metrics` (`mcp_shared_state_up`) report the tier.
//!
//! [`RedisSessionStore`] is rmcp's `SessionStore` over it: what rmcp needs to re-create a
//! session on another replica (the client's `initialize` parameters), stored with the
//! session's owner. Nothing in Redis is usable on its own: keys are SHA-256 digests of the
//! session id, the owner is a digest of its `sub`, and the value holds no token or claim.

use std::sync::{
    Arc, Weak,
    atomic::{AtomicBool, Ordering},
};
use std::time::Duration;

use aws_lc_rs::digest;
use redis::{AsyncCommands, aio::ConnectionManager};
use rmcp::model::InitializeRequestParams;
use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};
use serde::{Deserialize, Serialize};

use crate::config::RedisUrl;
use crate::metrics::Metrics;

/// How often an unreachable (or reachable) Redis is probed.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// Bounds on one Redis round trip; past them the call goes on with local state.
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// The Redis connection shared by this replica's parts, and whether it answers.
pub(crate) struct SharedState {
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
    pub(crate) fn connect(url: &RedisUrl, metrics: Metrics) -> redis::RedisResult<Arc<Self>> {
        let client = redis::Client::open(url.0.as_str())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            // One quick retry: a call must not wait out a reconnect loop.
            .set_number_of_retries(1)
            .set_max_delay(PROBE_INTERVAL);
        let redis = ConnectionManager::new_lazy_with_config(client, config)?;
        let shared = Arc::new(Self {
            redis,
            up: AtomicBool::new(false),
            metrics,
        });
        shared.metrics.shared_state_up(false);
        tokio::spawn(probe(Arc::downgrade(&shared)));
        Ok(shared)
    }

    /// True while the last command (or probe) reached Redis.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

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

    /// Runs `command` if Redis is up; `None` when it is down or the command fails (which
    /// marks it down until the probe reaches it again).
    async fn run<T, F, Fut>(&self, command: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.is_up() {
            return None;
        }
        match command(self.redis.clone()).await {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::warn!(error = %err, "a shared state (Redis) command failed");
                self.mark(false);
                None
            }
        }
    }
}

async fn probe(shared: Weak<SharedState>) {
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

/// A digest that names something in Redis without revealing it.
fn digest_hex(domain: &str, value: &str) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(domain.as_bytes());
    context.update(&[0]);
    context.update(value.as_bytes());
    hex::encode(context.finish().as_ref())
}

/// Who a session belongs to, as Redis stores it: a digest of the `sub`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OwnerDigest(String);

impl OwnerDigest {
    pub(crate) fn of(subject: &str) -> Self {
        Self(digest_hex("mcp-session-owner", subject))
    }
}

fn session_key(session_id: &str) -> String {
    format!("mcp:session:{}", digest_hex("mcp-session-id", session_id))
}

tokio::task_local! {
    /// The verified caller of the request rmcp is handling, set by the gate around rmcp:
    /// rmcp's `SessionStore` calls carry only the session id, and a session must be stored
    /// with, and restored only for, its owner.
    pub(crate) static SESSION_CALLER: OwnerDigest;
}

/// What Redis holds for one session.
#[derive(Serialize, Deserialize)]
struct SessionRecord {
    owner: OwnerDigest,
    initialize: InitializeRequestParams,
}

/// A session as another replica finds it.
pub(crate) struct SharedSession {
    pub(crate) owner: OwnerDigest,
    /// The version its `initialize` asked for (it fixes the SSE framing).
    pub(crate) protocol_version: String,
}

/// rmcp's `SessionStore` in Redis; the TTL is the session idle timeout, renewed on use.
#[derive(Clone, Debug)]
pub(crate) struct RedisSessionStore {
    shared: Arc<SharedState>,
    idle_timeout: Duration,
}

impl RedisSessionStore {
    pub(crate) fn new(shared: Arc<SharedState>, idle_timeout: Duration) -> Self {
        Self {
            shared,
            idle_timeout,
        }
    }

    fn ttl_seconds(&self) -> u64 {
        self.idle_timeout.as_secs().max(1)
    }

    async fn record(&self, session_id: &str) -> Option<SessionRecord> {
        let key = session_key(session_id);
        let ttl = self.ttl_seconds();
        let raw: Option<String> = self
            .shared
            .run(|mut redis| async move { redis.get_ex(&key, redis::Expiry::EX(ttl)).await })
            .await?;
        let raw = raw?;
        match serde_json::from_str(&raw) {
            Ok(record) => Some(record),
            Err(err) => {
                tracing::warn!(error = %err, "ignored an unreadable shared session record");
                None
            }
        }
    }

    /// The shared session `session_id` (renewing its TTL), if Redis is up and has it.
    pub(crate) async fn find(&self, session_id: &str) -> Option<SharedSession> {
        let record = self.record(session_id).await?;
        Some(SharedSession {
            owner: record.owner,
            protocol_version: record.initialize.protocol_version.to_string(),
        })
    }

    /// Renews a session's TTL without waiting (a request of a session this replica holds).
    pub(crate) fn touch(&self, session_id: &str) {
        if !self.shared.is_up() {
            return;
        }
        let store = self.clone();
        let key = session_key(session_id);
        tokio::spawn(async move {
            let ttl = i64::try_from(store.ttl_seconds()).unwrap_or(i64::MAX);
            store
                .shared
                .run(|mut redis| async move { redis.expire::<_, ()>(&key, ttl).await })
                .await;
        });
    }
}

fn store_error(message: &'static str) -> SessionStoreError {
    Box::new(std::io::Error::other(message))
}

#[async_trait::async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let Ok(caller) = SESSION_CALLER.try_with(Clone::clone) else {
            return Ok(None);
        };
        Ok(self
            .record(session_id)
            .await
            .filter(|record| record.owner == caller)
            .map(|record| SessionState::new(record.initialize)))
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let owner = SESSION_CALLER
            .try_with(Clone::clone)
            .map_err(|_| store_error("a session stored outside an authenticated request"))?;
        let record = SessionRecord {
            owner,
            initialize: state.initialize_params.clone(),
        };
        let value = serde_json::to_string(&record)?;
        let key = session_key(session_id);
        let ttl = self.ttl_seconds();
        self.shared
            .run(|mut redis| async move { redis.set_ex::<_, _, ()>(&key, value, ttl).await })
            .await
            .ok_or_else(|| store_error("the shared state (Redis) is unreachable"))
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        let key = session_key(session_id);
        self.shared
            .run(|mut redis| async move { redis.del::<_, ()>(&key).await })
            .await
            .ok_or_else(|| store_error("the shared state (Redis) is unreachable"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_names_reveal_neither_the_session_id_nor_the_subject() {
        let key = session_key("0123-session");
        assert!(key.starts_with("mcp:session:"), "{key}");
        assert!(!key.contains("0123-session"), "{key}");
        assert_eq!(key.len(), "mcp:session:".len() + 64);
        let owner = OwnerDigest::of("auth0|alice");
        assert!(!owner.0.contains("alice"));
        assert_ne!(owner, OwnerDigest::of("auth0|bob"));
        assert_eq!(owner, OwnerDigest::of("auth0|alice"));
    }
}
