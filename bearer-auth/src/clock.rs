//! "Now", as the verifier sees it, so tests can set the time instead of waiting for it.
//!
//! Every time rule (`exp`, `nbf`, `iat`, and the verified-token cache's re-check of `exp`)
//! reads the [`Clock`] of its [`VerifierConfig`](crate::VerifierConfig). Production uses
//! [`SystemClock`]; the testkit's `ManualClock` stands still until a test moves it, so a test
//! of expiry advances the clock past `exp` instead of sleeping until the wall clock gets
//! there. The key cache's intervals (refresh, cooldown, staleness) are not token times and
//! stay on the monotonic clock.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in seconds since the Unix epoch, the unit of JWT NumericDates
    /// (RFC 7519 §2); 0 before the epoch.
    fn unix_seconds(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    }
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
