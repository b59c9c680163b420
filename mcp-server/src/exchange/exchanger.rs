//! [`TokenExchanger`], the handle the rest of the server holds: the exchanged-token cache
//! in front of the shared tier (when configured) in front of the IdP.

use std::fmt;
use std::sync::Arc;

use super::cache::{CacheCounters, ExchangeCache, grant_fingerprint};
use super::config::ExchangeConfig;
use super::error::ExchangeError;
use super::idp::IdpExchanger;
use super::shared::{SharedCounters, SharedTier, SharedTierSettings};
use super::source::TokenSource;
use super::token::ExchangedToken;
use crate::metrics::Metrics;

/// Exchanges inbound tokens for upstream tokens, with a cache. Cheap to clone.
#[derive(Clone)]
pub struct TokenExchanger {
    cache: Arc<ExchangeCache<SharedTier<IdpExchanger>>>,
}

impl fmt::Debug for TokenExchanger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idp = self.cache.source().next();
        f.debug_struct("TokenExchanger")
            .field("issuer", &idp.issuer().as_str())
            .field("audience", &idp.grant().audience)
            .field("cached", &self.cache.entry_count())
            .field("shared_tier", &self.cache.source().is_shared())
            .finish_non_exhaustive()
    }
}

impl TokenExchanger {
    /// Builds the exchanger and its HTTP client; makes no request yet. Exchanges (by
    /// outcome) and cache lookups (hit or miss, locally and in the shared tier) are counted
    /// in `metrics`.
    pub fn new(config: ExchangeConfig, metrics: Metrics) -> Result<Self, reqwest::Error> {
        let (capacity, margin) = (config.cache_capacity, config.safety_margin);
        let (shared_state, lock_wait) = (config.shared_state.clone(), config.timeout);
        let counters = CacheCounters::new(&metrics);
        let shared_counters = shared_state.as_ref().map(|_| SharedCounters::new(&metrics));
        let idp = IdpExchanger::new(config, metrics)?;
        let shared =
            shared_state
                .zip(shared_counters)
                .map(|(state, counters)| SharedTierSettings {
                    state,
                    grant_fingerprint: grant_fingerprint(idp.grant()),
                    safety_margin: margin,
                    lock_wait,
                    counters,
                });
        let tiered = SharedTier::new(idp, shared);
        Ok(Self {
            cache: Arc::new(ExchangeCache::new(tiered, capacity, margin, counters)),
        })
    }

    /// A token for the upstream API on behalf of the subject token's user: from the cache,
    /// or from the IdP. `subject_expires_at` is the subject token's `exp` (Unix seconds),
    /// which caps how long the result is reused.
    pub async fn exchange(
        &self,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> Result<Arc<ExchangedToken>, ExchangeError> {
        self.cache.exchange(subject_token, subject_expires_at).await
    }
}
