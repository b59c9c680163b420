//! Bounded sessions: which live session belongs to whom in this replica, and the caps that
//! keep one user (or everyone together) from exhausting it.
//!
//! A session is admitted only after a slot is [`reserve`](SessionRegistry::reserve)d: a
//! user at `MCP_MAX_SESSIONS_PER_USER`, or the replica at `MCP_MAX_SESSIONS`, is refused
//! ([`SessionCap`]) and nothing else happens — no other user's session is ever evicted to
//! make room (rmcp's `LocalSessionManager` has no cap of its own; the binding cache this
//! replaces did evict past its capacity). A binding unused for `MCP_SESSION_IDLE_TIMEOUT_SECS`
//! expires with the rmcp session it names, and gives its slot back.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use crate::config::SessionLimits;
use crate::era::SseFraming;
use crate::metrics::Metrics;

/// What the gate remembers of a session.
#[derive(Clone, Debug)]
pub(crate) struct SessionEntry {
    /// The `sub` that opened it.
    pub(crate) owner: Arc<str>,
    /// The framing of its streams, fixed by the version its `initialize` asked for.
    pub(crate) framing: SseFraming,
}

/// Which cap refused a new session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionCap {
    /// The user holds `MCP_MAX_SESSIONS_PER_USER` sessions already.
    PerUser(usize),
    /// The replica holds `MCP_MAX_SESSIONS` sessions already.
    Global(usize),
}

impl SessionCap {
    /// The metric label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SessionCap::PerUser(_) => "per_user",
            SessionCap::Global(_) => "global",
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_owner: HashMap<Arc<str>, usize>,
}

impl Counts {
    fn release(&mut self, owner: &Arc<str>) {
        self.total = self.total.saturating_sub(1);
        if let Some(count) = self.per_owner.get_mut(owner) {
            *count -= 1;
            if *count == 0 {
                self.per_owner.remove(owner);
            }
        }
    }
}

type SharedCounts = Arc<Mutex<Counts>>;

fn lock(counts: &SharedCounts) -> std::sync::MutexGuard<'_, Counts> {
    // The counts stay consistent under every panic point (each update is one statement).
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The live sessions of this replica and their owners, with the caps.
pub(crate) struct SessionRegistry {
    bindings: moka::future::Cache<String, SessionEntry>,
    counts: SharedCounts,
    limits: SessionLimits,
    metrics: Metrics,
}

/// A slot held for a session being opened; given back on drop unless bound.
#[must_use]
pub(crate) struct Reservation {
    counts: SharedCounts,
    owner: Arc<str>,
    metrics: Metrics,
    bound: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.bound {
            let mut counts = lock(&self.counts);
            counts.release(&self.owner);
            self.metrics.sessions_live(counts.total);
        }
    }
}

impl SessionRegistry {
    pub(crate) fn new(limits: SessionLimits, metrics: Metrics) -> Self {
        let counts = SharedCounts::default();
        let released = counts.clone();
        let listener_metrics = metrics.clone();
        let bindings = moka::future::Cache::builder()
            // No capacity bound: the caps are checked before a binding exists, and a full
            // cache would evict somebody's live session.
            .time_to_idle(limits.idle_timeout)
            .eviction_listener(move |_id, entry: SessionEntry, _cause| {
                let mut counts = lock(&released);
                counts.release(&entry.owner);
                listener_metrics.sessions_live(counts.total);
            })
            .build();
        Self {
            bindings,
            counts,
            limits,
            metrics,
        }
    }

    /// The session `id`, if this replica holds it (its idle time restarts).
    pub(crate) async fn get(&self, id: &str) -> Option<SessionEntry> {
        self.bindings.get(id).await
    }

    /// Holds a slot for a new session of `owner`, or says which cap refuses it.
    pub(crate) async fn reserve(&self, owner: &Arc<str>) -> Result<Reservation, SessionCap> {
        match self.try_reserve(owner) {
            Ok(reservation) => Ok(reservation),
            Err(_) => {
                // Idle bindings expire lazily: give their slots back, then look again.
                self.bindings.run_pending_tasks().await;
                self.try_reserve(owner).inspect_err(|cap| {
                    self.metrics.session_refused(cap.label());
                })
            }
        }
    }

    fn try_reserve(&self, owner: &Arc<str>) -> Result<Reservation, SessionCap> {
        let mut counts = lock(&self.counts);
        let own = counts.per_owner.get(owner).copied().unwrap_or(0);
        if own >= self.limits.max_sessions_per_user {
            return Err(SessionCap::PerUser(self.limits.max_sessions_per_user));
        }
        if counts.total >= self.limits.max_sessions {
            return Err(SessionCap::Global(self.limits.max_sessions));
        }
        counts.total += 1;
        *counts.per_owner.entry(owner.clone()).or_default() += 1;
        self.metrics.sessions_live(counts.total);
        Ok(Reservation {
            counts: self.counts.clone(),
            owner: owner.clone(),
            metrics: self.metrics.clone(),
            bound: false,
        })
    }

    /// Binds session `id` to the reservation's owner; the slot is the binding's from now
    /// on and comes back when it ends.
    pub(crate) async fn bind(&self, id: String, framing: SseFraming, mut reservation: Reservation) {
        let entry = SessionEntry {
            owner: reservation.owner.clone(),
            framing,
        };
        reservation.bound = true;
        self.bindings.insert(id, entry).await;
    }

    /// Ends session `id` here (a `DELETE`).
    pub(crate) async fn remove(&self, id: &str) {
        self.bindings.invalidate(id).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn registry(per_user: usize, total: usize) -> SessionRegistry {
        SessionRegistry::new(
            SessionLimits {
                max_sessions: total,
                max_sessions_per_user: per_user,
                idle_timeout: Duration::from_secs(60),
                max_stream_lifetime: Duration::from_secs(60),
            },
            Metrics::new(),
        )
    }

    #[tokio::test]
    async fn one_user_at_the_cap_is_refused_while_others_still_get_sessions() {
        let sessions = registry(2, 3);
        let alice: Arc<str> = Arc::from("alice");
        let bob: Arc<str> = Arc::from("bob");
        for id in ["a1", "a2"] {
            let slot = sessions.reserve(&alice).await.unwrap();
            sessions.bind(id.to_owned(), SseFraming::Primed, slot).await;
        }
        assert_eq!(
            sessions.reserve(&alice).await.err(),
            Some(SessionCap::PerUser(2))
        );
        let slot = sessions.reserve(&bob).await.unwrap();
        sessions
            .bind("b1".to_owned(), SseFraming::Primed, slot)
            .await;
        assert_eq!(
            sessions.reserve(&bob).await.err(),
            Some(SessionCap::Global(3))
        );
        // Nobody was evicted by the refusals.
        for id in ["a1", "a2", "b1"] {
            assert!(sessions.get(id).await.is_some(), "{id}");
        }
        // A closed session gives its slot back; an unbound reservation too.
        sessions.remove("a1").await;
        drop(sessions.reserve(&alice).await.unwrap());
        let slot = sessions.reserve(&alice).await.unwrap();
        sessions
            .bind("a3".to_owned(), SseFraming::Plain, slot)
            .await;
        assert_eq!(sessions.get("a3").await.unwrap().owner, alice);
    }
}
