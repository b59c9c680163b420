//! rmcp's `SessionStore` over the shared state (`shared_state`): what rmcp needs to
//! re-create a session on another replica (the client's `initialize` parameters), stored
//! with the session's owner, for the idle timeout (a Redis TTL renewed on use).
//!
//! Nothing in Redis is usable on its own: keys are SHA-256 digests of the session id, the
//! owner is a digest of its `sub`, and the value holds no token or claim. rmcp calls the
//! store with the session id alone, so the gate names the caller in the [`SESSION_CALLER`]
//! task-local around rmcp: a session is stored for, and restored only for, that caller.

use std::time::Duration;

use aws_lc_rs::digest;
use redis::AsyncCommands;
use rmcp::model::InitializeRequestParams;
use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};
use serde::{Deserialize, Serialize};

use crate::shared_state::SharedState;

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
    shared: SharedState,
    idle_timeout: Duration,
}

impl RedisSessionStore {
    pub(crate) fn new(shared: SharedState, idle_timeout: Duration) -> Self {
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
        let mut redis = self.shared.connection()?;
        let raw: Option<String> = self.shared.observe(
            "session load",
            redis.get_ex(&key, redis::Expiry::EX(ttl)).await,
        )?;
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
        let Some(mut redis) = self.shared.connection() else {
            return;
        };
        let shared = self.shared.clone();
        let key = session_key(session_id);
        let ttl = i64::try_from(self.ttl_seconds()).unwrap_or(i64::MAX);
        tokio::spawn(async move {
            shared.observe("session touch", redis.expire::<_, ()>(&key, ttl).await);
        });
    }
}

fn store_error(message: &'static str) -> SessionStoreError {
    Box::new(std::io::Error::other(message))
}

fn unreachable() -> SessionStoreError {
    store_error("the shared state (Redis) is unreachable")
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
        let mut redis = self.shared.connection().ok_or_else(unreachable)?;
        let stored = redis
            .set_ex::<_, _, ()>(&key, value, self.ttl_seconds())
            .await;
        self.shared
            .observe("session store", stored)
            .ok_or_else(unreachable)
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        let key = session_key(session_id);
        let mut redis = self.shared.connection().ok_or_else(unreachable)?;
        let deleted = redis.del::<_, ()>(&key).await;
        self.shared
            .observe("session delete", deleted)
            .ok_or_else(unreachable)
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
