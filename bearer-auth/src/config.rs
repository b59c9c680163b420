//! What a [`Verifier`](crate::Verifier) accepts and how it keeps its keys fresh.
//!
//! Everything has a default that matches Auth0's practice; tests shorten the intervals.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::Issuer;
use crate::clock::{Clock, SystemClock};
use crate::discovery::FetchLimits;

/// The token acceptance rules of one resource server.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// The only accepted `iss` claim; also where discovery starts.
    pub issuer: Issuer,
    /// The API identifier that must appear in `aud` (a string or an array).
    pub audience: String,
    /// Accepted signing algorithms (RS256 by default). HMAC algorithms and `none` are never
    /// accepted, even when listed here: the verifier drops them at construction.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (30 s by default).
    pub leeway: Duration,
    /// Accepted `typ` header values, compared case-insensitively with an optional
    /// `application/` prefix (RFC 7515 §4.1.9). A token without `typ` is refused.
    pub accepted_typ: Vec<String>,
    /// How the JWKS cache behaves.
    pub jwks: JwksSettings,
    /// How many verified tokens to remember (10,000 by default; 0 turns the cache off).
    ///
    /// A token seen again within its lifetime is accepted after a SHA-256 and a lookup
    /// instead of an RSA verification (≈ 1 µs instead of ≈ 17 µs): clients repeat their
    /// token on every request, and the upstream API sees the same exchanged token until it
    /// expires. A remembered token still has `exp` checked on every use, and counts only
    /// while the key set that verified it is the current one (a rotation forgets it).
    pub verified_cache_capacity: u64,
    /// Where "now" comes from for `exp`, `nbf` and `iat`, in full verifications and cache
    /// hits alike ([`SystemClock`] by default; tests hand in one they can set).
    pub clock: Arc<dyn Clock>,
}

impl VerifierConfig {
    /// The defaults: RS256 only, 30 s leeway, `typ` of `at+jwt` (RFC 9068) or `JWT`
    /// (Auth0's default token dialect), [`JwksSettings::default`] and the system clock.
    pub fn new(issuer: Issuer, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer,
            audience: audience.into(),
            algorithms: vec![Algorithm::RS256],
            leeway: Duration::from_secs(30),
            accepted_typ: vec![
                "at+jwt".to_owned(),
                "application/at+jwt".to_owned(),
                "JWT".to_owned(),
            ],
            jwks: JwksSettings::default(),
            verified_cache_capacity: 10_000,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The JWKS cache's intervals and limits.
///
/// The defaults follow the converged practice of jose, Nimbus, Microsoft.IdentityModel and
/// keyfunc: refresh well before ten minutes, refetch on an unknown `kid` at most every 30 s,
/// keep serving the last good keys through an IdP outage for a bounded time.
#[derive(Clone, Debug)]
pub struct JwksSettings {
    /// The key set is refreshed in the background when it is three quarters of this old,
    /// so a key removed from the JWKS stops being accepted within `max_age` (10 min).
    pub max_age: Duration,
    /// The least time between two refetches caused by tokens with an unknown `kid` (30 s).
    pub unknown_kid_cooldown: Duration,
    /// How long after the last successful fetch the keys stay in use while every refresh
    /// fails (1 h). After that the verifier reports not ready and answers 503.
    pub max_stale: Duration,
    /// The whole-request timeout of one discovery or JWKS fetch (5 s).
    pub fetch_timeout: Duration,
    /// The largest discovery or JWKS response read (256 KiB).
    pub max_response_bytes: usize,
    /// The first retry delay after a failed fetch (500 ms); it doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// The longest retry delay after failed fetches (30 s).
    pub retry_max: Duration,
}

impl JwksSettings {
    /// The limits of one discovery or JWKS request.
    pub(crate) fn fetch_limits(&self) -> FetchLimits {
        FetchLimits {
            timeout: self.fetch_timeout,
            max_bytes: self.max_response_bytes,
        }
    }
}

impl Default for JwksSettings {
    fn default() -> Self {
        JwksSettings {
            max_age: Duration::from_secs(600),
            unknown_kid_cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(3600),
            fetch_timeout: Duration::from_secs(5),
            max_response_bytes: 256 * 1024,
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
        }
    }
}
