//! The exchanged-token cache's shared tier: Redis, between the local cache and the IdP, so
//! that several replicas exchange a user's token once between them.
//!
//! On a local miss (the local cache lets one call per key through), [`SharedTier`]:
//! 1. reads the entry (see `sealed`): found and opened, that is the token;
//! 2. otherwise takes the entry's lock (`SET lock NX PX`, for at most the exchange timeout)
//!    and, holding it, exchanges at the IdP, writes the sealed token with a TTL of the
//!    entry's lifetime (the local cache's rule: the earlier expiry of both tokens, minus the
//!    safety margin) and releases the lock (only if still its own);
//! 3. or, when another replica holds the lock, polls for the value with a growing pause
//!    and takes the lock itself if it is released without a value (that exchange failed).
//!
//! The lock never blocks a call longer than the exchange timeout: past it the waiter
//! exchanges without the lock. Redis is never required: when a command fails, or while
//! [`SharedState`] says Redis is down, the call goes straight to the IdP and nothing is
//! written; the local cache in front still keeps what it got.

use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use metrics::Counter;
use redis::aio::ConnectionManager;

use super::cache::cache_ttl;
use super::error::ExchangeError;
use super::grant::ExchangeGrant;
use super::sealed::{SharedEntry, hex};
use super::source::TokenSource;
use super::token::ExchangedToken;
use crate::metrics::{Metrics, names};
use crate::shared_state::SharedState;

/// The first pause of a replica waiting for another's exchange; it doubles up to
/// [`MAX_PAUSE`]. An exchange at Auth0 takes tens of milliseconds.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// Deletes the lock only if it still holds this replica's id, so a lock that expired and
/// was taken by another replica is left alone.
static RELEASE_LOCK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
    )
});

/// The shared tier's lookups (`mcp_exchange_shared_cache_requests_total{result}`).
pub(super) struct SharedCounters {
    hits: Counter,
    misses: Counter,
    unavailable: Counter,
}

impl SharedCounters {
    /// The counters, in `metrics`.
    pub(super) fn new(metrics: &Metrics) -> Self {
        let counter = |result: &'static str| {
            metrics.counter(names::EXCHANGE_SHARED_CACHE, &[("result", result)])
        };
        Self {
            hits: counter("hit"),
            misses: counter("miss"),
            unavailable: counter("unavailable"),
        }
    }
}

/// How the shared tier is set up.
pub(super) struct SharedTierSettings {
    /// The Redis connection and its health.
    pub(super) state: SharedState,
    /// The grant's fingerprint, part of every entry's key name and encryption key.
    pub(super) grant_fingerprint: [u8; 32],
    /// As the local cache's: how long before expiry an entry stops being used.
    pub(super) safety_margin: Duration,
    /// The exchange timeout: the lock's lifetime and the longest a waiter waits.
    pub(super) lock_wait: Duration,
    /// The lookups' counters.
    pub(super) counters: SharedCounters,
}

/// Redis in front of `S` when configured; `S` alone otherwise.
pub(crate) struct SharedTier<S> {
    next: S,
    shared: Option<SharedTierSettings>,
}

/// What one read of the entry found.
enum Lookup {
    Hit(ExchangedToken),
    Miss,
    Unavailable,
}

impl<S: TokenSource> SharedTier<S> {
    /// `next` behind Redis when `settings` is given.
    pub(super) fn new(next: S, shared: Option<SharedTierSettings>) -> Self {
        Self { next, shared }
    }

    /// What the tier is in front of.
    pub(super) fn next(&self) -> &S {
        &self.next
    }

    /// Whether Redis is configured.
    pub(super) fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    async fn exchange_shared(
        &self,
        settings: &SharedTierSettings,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> Result<ExchangedToken, ExchangeError> {
        let counters = &settings.counters;
        let entry = SharedEntry::derive(subject_token, &settings.grant_fingerprint);
        match find_or_lock(settings, &entry).await {
            Found::Token(token) => {
                counters.hits.increment(1);
                Ok(token)
            }
            Found::Unavailable => {
                counters.unavailable.increment(1);
                self.next.exchange(subject_token, subject_expires_at).await
            }
            Found::Nothing {
                mut connection,
                lock_id,
            } => {
                counters.misses.increment(1);
                let result = self
                    .exchange_and_write(
                        settings,
                        &mut connection,
                        &entry,
                        subject_token,
                        subject_expires_at,
                    )
                    .await;
                if let Some(lock_id) = lock_id {
                    let _: Option<i64> = settings.state.observe(
                        "release the exchange lock",
                        RELEASE_LOCK
                            .key(&entry.lock)
                            .arg(&lock_id)
                            .invoke_async(&mut connection)
                            .await,
                    );
                }
                result
            }
        }
    }

    /// One exchange at the IdP, written to Redis when it may be kept.
    async fn exchange_and_write(
        &self,
        settings: &SharedTierSettings,
        connection: &mut ConnectionManager,
        entry: &SharedEntry,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> Result<ExchangedToken, ExchangeError> {
        let token = self
            .next
            .exchange(subject_token, subject_expires_at)
            .await?;
        let received = SystemTime::now();
        let ttl = cache_ttl(
            token.expires_in,
            subject_expires_at,
            received,
            settings.safety_margin,
        );
        if !ttl.is_zero() {
            let _: Option<()> = settings.state.observe(
                "write an exchanged token",
                redis::cmd("SET")
                    .arg(&entry.name)
                    .arg(entry.seal(&token, received))
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(connection)
                    .await,
            );
        }
        Ok(token)
    }
}

/// What the shared tier found for a subject token.
enum Found {
    /// The token, from Redis.
    Token(ExchangedToken),
    /// Redis is down or failed: go to the IdP, write nothing.
    Unavailable,
    /// No token: this replica exchanges, holding the lock (`lock_id`) or, when another
    /// replica held it past the wait, without it.
    Nothing {
        connection: ConnectionManager,
        lock_id: Option<String>,
    },
}

/// Reads the entry; on a miss takes its lock, or waits (polling) while another replica
/// holds it, for at most `lock_wait`.
async fn find_or_lock(settings: &SharedTierSettings, entry: &SharedEntry) -> Found {
    let deadline = Instant::now() + settings.lock_wait;
    let mut pause = FIRST_PAUSE;
    loop {
        let Some(mut connection) = settings.state.connection() else {
            return Found::Unavailable;
        };
        match read(settings, &mut connection, entry).await {
            Lookup::Hit(token) => return Found::Token(token),
            Lookup::Unavailable => return Found::Unavailable,
            Lookup::Miss => {}
        }
        let lock_id = random_id();
        let taken: Option<Option<String>> = settings.state.observe(
            "take the exchange lock",
            redis::cmd("SET")
                .arg(&entry.lock)
                .arg(&lock_id)
                .arg("NX")
                .arg("PX")
                .arg(millis(settings.lock_wait))
                .query_async(&mut connection)
                .await,
        );
        let lock_id = match taken {
            None => return Found::Unavailable,
            Some(Some(_)) => Some(lock_id),
            // Another replica is exchanging this token: wait for its result.
            Some(None) => None,
        };
        let now = Instant::now();
        if lock_id.is_some() || now >= deadline {
            // Ours, or the holder is slow or gone: the lock must not hold this call longer.
            return Found::Nothing {
                connection,
                lock_id,
            };
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Reads and opens the entry. A value that does not open (another format, or tampered
/// with) is a miss: the exchange that follows overwrites it.
async fn read(
    settings: &SharedTierSettings,
    connection: &mut ConnectionManager,
    entry: &SharedEntry,
) -> Lookup {
    let value: Option<Option<Vec<u8>>> = settings.state.observe(
        "read an exchanged token",
        redis::cmd("GET")
            .arg(&entry.name)
            .query_async(connection)
            .await,
    );
    match value {
        None => Lookup::Unavailable,
        Some(None) => Lookup::Miss,
        Some(Some(sealed)) => match entry.open(&sealed, SystemTime::now()) {
            Some(token) => Lookup::Hit(token),
            None => {
                tracing::warn!("a shared exchange cache entry did not open; exchanging again");
                Lookup::Miss
            }
        },
    }
}

/// A random lock owner id, so a replica releases only its own lock.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source works");
    hex(&bytes)
}

/// Milliseconds for `PX`, at least 1 (Redis refuses 0).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl<S: TokenSource> TokenSource for SharedTier<S> {
    fn grant(&self) -> &ExchangeGrant {
        self.next.grant()
    }

    async fn exchange(
        &self,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> Result<ExchangedToken, ExchangeError> {
        match &self.shared {
            Some(settings) => {
                self.exchange_shared(settings, subject_token, subject_expires_at)
                    .await
            }
            None => self.next.exchange(subject_token, subject_expires_at).await,
        }
    }
}
