//! The one source of "now" for issuing and checking tokens, codes and refresh tokens.
//!
//! Every expiry decision goes through [`Clock`], so a controllable clock (freeze,
//! advance) can be added in one place without touching the grants.

use std::time::{SystemTime, UNIX_EPOCH};

/// The tenant's clock. Today it reads the system clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    _private: (),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { _private: () }
    }

    /// Seconds since the Unix epoch, the unit of JWT `iat`/`exp` (RFC 7519 §2 NumericDate).
    pub fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    }
}
