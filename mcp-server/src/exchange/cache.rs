//! The exchanged-token cache, in front of a [`TokenSource`].
//!
//! - **Key**: SHA-256 of the subject token and the grant's fingerprint (mode, audience,
//!   scope), so the cache never holds an inbound token and two grants never share an entry.
//! - **Lifetime**: until the issued token's expiry minus the safety margin, and never past
//!   the subject token's own expiry minus that margin (a delegated token must not outlive
//!   the delegation it came from). A token that would live less than that is handed out but
//!   not kept.
//! - **Single flight**: concurrent callers with one key share one exchange (moka's
//!   `or_try_insert_with`); a failure is shared by those callers but never cached.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use metrics::Counter;
use moka::Expiry;
use moka::future::Cache;

use super::error::ExchangeError;
use super::grant::ExchangeGrant;
use super::source::TokenSource;
use super::token::ExchangedToken;
use crate::metrics::{Metrics, names};

/// The SHA-256 of the subject token and the grant's fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct CacheKey([u8; 32]);

/// SHA-256 of length-prefixed parts, so ("ab", "c") and ("a", "bc") stay apart.
pub(super) fn digest_of(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// What identifies a grant in the key: its mode (with the mode's parameters), audience and
/// scope. Computed once per cache, since a cache serves one grant.
pub(super) fn grant_fingerprint(grant: &ExchangeGrant) -> [u8; 32] {
    let mode = grant.mode.cache_label();
    digest_of(&[
        mode.as_bytes(),
        grant.audience.as_bytes(),
        grant.scope.as_deref().unwrap_or_default().as_bytes(),
    ])
}

fn cache_key(subject_token: &str, grant_fingerprint: &[u8; 32]) -> CacheKey {
    CacheKey(digest_of(&[subject_token.as_bytes(), grant_fingerprint]))
}

/// A cached token and how long it may be used from when it was received.
#[derive(Clone)]
struct Cached {
    token: Arc<ExchangedToken>,
    ttl: Duration,
}

/// Gives each entry its own lifetime, computed when the token arrived.
struct PerEntryTtl;

impl Expiry<CacheKey, Cached> for PerEntryTtl {
    fn expire_after_create(&self, _: &CacheKey, value: &Cached, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// How long an exchanged token may be served from the cache: until the earlier of its
/// own expiry and the subject token's, minus the margin. Zero means "do not cache".
pub(super) fn cache_ttl(
    expires_in: Option<Duration>,
    subject_expires_at: u64,
    now: SystemTime,
    margin: Duration,
) -> Duration {
    let subject_left = (UNIX_EPOCH + Duration::from_secs(subject_expires_at))
        .duration_since(now)
        .unwrap_or_default();
    expires_in
        .unwrap_or_default()
        .min(subject_left)
        .saturating_sub(margin)
}

/// Why the cache's initialiser did not hand moka a value to keep.
enum NotCached {
    /// The exchange failed; errors are not cached.
    Failed(ExchangeError),
    /// The exchange worked but the token must not be reused (the subject token is about to
    /// expire); callers waiting on the same key still share it.
    Fresh(Arc<ExchangedToken>),
}

/// The cache's lookup counters (`mcp_exchange_cache_requests_total{result}`), registered
/// once: a cache hit must not pay for a registry lookup.
pub(crate) struct CacheCounters {
    hits: Counter,
    misses: Counter,
}

impl CacheCounters {
    /// The counters, in `metrics`.
    pub(crate) fn new(metrics: &Metrics) -> Self {
        Self {
            hits: metrics.counter(names::EXCHANGE_CACHE, &[("result", "hit")]),
            misses: metrics.counter(names::EXCHANGE_CACHE, &[("result", "miss")]),
        }
    }
}

/// Exchanged tokens by subject token, in front of `S`.
pub(crate) struct ExchangeCache<S> {
    source: S,
    grant_fingerprint: [u8; 32],
    cache: Cache<CacheKey, Cached>,
    safety_margin: Duration,
    counters: CacheCounters,
}

impl<S: TokenSource> ExchangeCache<S> {
    /// A cache of at most `capacity` tokens in front of `source`.
    pub(crate) fn new(
        source: S,
        capacity: u64,
        safety_margin: Duration,
        counters: CacheCounters,
    ) -> Self {
        let cache = Cache::builder()
            .name("token-exchange")
            .max_capacity(capacity)
            .expire_after(PerEntryTtl)
            .build();
        Self {
            grant_fingerprint: grant_fingerprint(source.grant()),
            source,
            cache,
            safety_margin,
            counters,
        }
    }

    /// What the cache is in front of.
    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// Number of cached tokens (moka's estimate).
    pub(crate) fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// A token for `subject_token`'s user: from the cache, or from the source, shared with
    /// every concurrent caller for the same key. `subject_expires_at` (Unix seconds) caps how
    /// long the result is kept.
    pub(crate) async fn exchange(
        &self,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> Result<Arc<ExchangedToken>, ExchangeError> {
        let key = cache_key(subject_token, &self.grant_fingerprint);
        // The common case first: a plain lookup is cheaper than setting up an insertion.
        if let Some(cached) = self.cache.get(&key).await {
            self.counters.hits.increment(1);
            return Ok(cached.token);
        }
        let init = async {
            let token = Arc::new(
                self.source
                    .exchange(subject_token, subject_expires_at)
                    .await
                    .map_err(NotCached::Failed)?,
            );
            let ttl = cache_ttl(
                token.expires_in,
                subject_expires_at,
                SystemTime::now(),
                self.safety_margin,
            );
            if ttl.is_zero() {
                return Err(NotCached::Fresh(token));
            }
            Ok(Cached { token, ttl })
        };
        // Single flight: the first caller runs `init`, the others wait for its outcome.
        match self.cache.entry(key).or_try_insert_with(init).await {
            Ok(entry) => {
                if entry.is_fresh() {
                    self.counters.misses.increment(1);
                } else {
                    self.counters.hits.increment(1);
                }
                Ok(entry.into_value().token)
            }
            Err(not_cached) => {
                self.counters.misses.increment(1);
                match &*not_cached {
                    NotCached::Fresh(token) => Ok(Arc::clone(token)),
                    NotCached::Failed(err) => Err(err.clone()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(subject_token_type: &str, audience: &str, scope: Option<&str>) -> [u8; 32] {
        grant_fingerprint(&ExchangeGrant::custom_token_exchange(
            subject_token_type,
            audience,
            scope.map(str::to_owned),
        ))
    }

    #[test]
    fn the_cache_key_separates_its_parts() {
        let read = grant("urn:fastmcp:mcp", "aud", Some("read"));
        assert_eq!(cache_key("t", &read), cache_key("t", &read));
        assert_ne!(cache_key("t", &read), cache_key("u", &read));
        // Every part of the grant counts: scope, audience, and the mode's parameters.
        assert_ne!(read, grant("urn:fastmcp:mcp", "aud", None));
        assert_ne!(read, grant("urn:fastmcp:mcp", "other-aud", Some("read")));
        assert_ne!(read, grant("urn:other:profile", "aud", Some("read")));
        // The mode itself: On-Behalf-Of never shares an entry with Custom Token Exchange,
        // not even with a profile whose type is the access-token type.
        let obo = grant_fingerprint(&ExchangeGrant::on_behalf_of("aud", Some("read".to_owned())));
        assert_ne!(obo, read);
        assert_ne!(
            obo,
            grant(crate::exchange::ACCESS_TOKEN_TYPE, "aud", Some("read"))
        );
        // Length prefixes keep the parts apart.
        assert_ne!(grant("x", "ab", Some("c")), grant("x", "a", Some("bc")));
    }

    #[test]
    fn a_cached_token_expires_a_margin_before_either_token() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let margin = Duration::from_secs(30);
        let hour = Some(Duration::from_secs(3600));
        // The issued token expires first.
        assert_eq!(
            cache_ttl(hour, 1_000_000 + 7200, now, margin),
            Duration::from_secs(3570)
        );
        // The subject token expires first: it caps the entry.
        assert_eq!(
            cache_ttl(hour, 1_000_000 + 600, now, margin),
            Duration::from_secs(570)
        );
        // Either within the margin, or already expired, or no expiry given: not cached.
        assert_eq!(cache_ttl(hour, 1_000_000 + 20, now, margin), Duration::ZERO);
        assert_eq!(cache_ttl(hour, 999_000, now, margin), Duration::ZERO);
        assert_eq!(
            cache_ttl(Some(Duration::from_secs(10)), 1_000_000 + 600, now, margin),
            Duration::ZERO
        );
        assert_eq!(
            cache_ttl(None, 1_000_000 + 600, now, margin),
            Duration::ZERO
        );
    }
}
