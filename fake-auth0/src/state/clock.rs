//! The one source of "now" for issuing and checking tokens, codes and refresh tokens.
//!
//! Every expiry decision goes through [`Clock`], so tests can freeze or advance time in one
//! place (through the control surface, `crate::control`) and see codes, refresh tokens and
//! access tokens expire without waiting. Issuing and checking read the same clock, so a
//! token minted at a frozen time is checked against that time too.
//!
//! Reading the clock is on every request's path: it is two relaxed atomic loads and no
//! lock. Changing it is rare (a test's control call) and serialised by a mutex so that
//! "advance" never races with "freeze".

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// `frozen_at` holds this when the clock is not frozen (no real time is that far back).
const NOT_FROZEN: i64 = i64::MIN;

/// The tenant's clock: the system clock, possibly frozen or shifted. Clones share the
/// same setting, so the control surface and the token issuer see one clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Unix seconds the clock is frozen at, or [`NOT_FROZEN`].
    frozen_at: AtomicI64,
    /// Seconds added to the system time when not frozen.
    offset: AtomicI64,
    /// Serialises writers; readers never take it.
    write: Mutex<()>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            frozen_at: AtomicI64::new(NOT_FROZEN),
            offset: AtomicI64::new(0),
            write: Mutex::new(()),
        }
    }
}

/// What the clock does now, as the control surface reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ClockMode {
    /// The system clock.
    Real,
    /// Stopped at `at` (Unix seconds) until changed.
    Frozen { at: u64 },
    /// The system clock plus `by` seconds (negative: behind).
    Offset { by: i64 },
}

impl Clock {
    /// The system clock, neither frozen nor shifted.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Seconds since the Unix epoch, the unit of JWT `iat`/`exp` (RFC 7519 §2 NumericDate).
    pub fn now(&self) -> u64 {
        let frozen = self.shared.frozen_at.load(Ordering::Relaxed);
        let seconds = if frozen == NOT_FROZEN {
            system_now().saturating_add(self.shared.offset.load(Ordering::Relaxed))
        } else {
            frozen
        };
        u64::try_from(seconds).unwrap_or(0)
    }

    /// How the clock is set.
    pub fn mode(&self) -> ClockMode {
        let frozen = self.shared.frozen_at.load(Ordering::Relaxed);
        if frozen != NOT_FROZEN {
            return ClockMode::Frozen {
                at: u64::try_from(frozen).unwrap_or(0),
            };
        }
        match self.shared.offset.load(Ordering::Relaxed) {
            0 => ClockMode::Real,
            by => ClockMode::Offset { by },
        }
    }

    /// Stops the clock at `at` (Unix seconds).
    pub fn freeze_at(&self, at: u64) {
        let _writer = self.lock();
        let at = i64::try_from(at).unwrap_or(i64::MAX);
        self.shared.frozen_at.store(at, Ordering::Relaxed);
        self.shared.offset.store(0, Ordering::Relaxed);
    }

    /// Moves the clock by `seconds` (negative: back): a frozen clock stays frozen at the new
    /// time, a running one keeps running that far ahead of the system clock.
    pub fn advance(&self, seconds: i64) {
        let _writer = self.lock();
        let frozen = self.shared.frozen_at.load(Ordering::Relaxed);
        if frozen == NOT_FROZEN {
            let offset = self.shared.offset.load(Ordering::Relaxed);
            self.shared
                .offset
                .store(offset.saturating_add(seconds), Ordering::Relaxed);
        } else {
            // Never reach the sentinel, whatever the caller asks.
            let moved = frozen.saturating_add(seconds).max(0);
            self.shared.frozen_at.store(moved, Ordering::Relaxed);
        }
    }

    /// Back to the system clock.
    pub fn set_real(&self) {
        let _writer = self.lock();
        self.shared.frozen_at.store(NOT_FROZEN, Ordering::Relaxed);
        self.shared.offset.store(0, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.shared
            .write
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stands_still_and_advances_on_request() {
        let clock = Clock::system();
        clock.freeze_at(1_000);
        assert_eq!(clock.now(), 1_000);
        assert_eq!(clock.mode(), ClockMode::Frozen { at: 1_000 });
        clock.advance(61);
        assert_eq!(clock.now(), 1_061);
        clock.advance(-5_000);
        assert_eq!(clock.now(), 0);
    }

    #[test]
    fn clones_share_the_setting_and_offsets_follow_the_system_clock() {
        let clock = Clock::system();
        let issuer_copy = clock.clone();
        let real = clock.now();
        clock.advance(3_600);
        assert_eq!(clock.mode(), ClockMode::Offset { by: 3_600 });
        let shifted = issuer_copy.now();
        assert!((real + 3_600..real + 3_610).contains(&shifted), "{shifted}");
        clock.set_real();
        assert_eq!(issuer_copy.mode(), ClockMode::Real);
        assert!(issuer_copy.now() < real + 10);
    }
}
