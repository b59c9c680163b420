//! What a successful exchange yields: the upstream token, which never shows itself in
//! `Debug` output, and the rest of the token endpoint's answer.

use std::fmt;
use std::time::Duration;

/// An access token issued by the exchange. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token received from the IdP.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, to put in an `Authorization: Bearer` header.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// A successful token exchange response (RFC 8693 §2.2.1), as checked.
#[derive(Clone, Debug)]
pub struct ExchangedToken {
    /// The token for the upstream API.
    pub access_token: AccessToken,
    /// Always `bearer` (lower-cased, as oauth4webapi reports it).
    pub token_type: String,
    /// The token's lifetime when it was issued; `None` if the IdP did not say.
    pub expires_in: Option<Duration>,
    /// The granted scope, when the IdP reported it.
    pub scope: Option<String>,
    /// RFC 8693 `issued_token_type`, when present.
    pub issued_token_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_token() {
        let token = AccessToken::new("very-secret");
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
    }
}
