//! The stores of the grants' in-flight state: login transactions and codes of the
//! authorization code flow, and refresh-token families. Each store is a small type behind
//! its own mutex, held only for a map operation and never across an `.await`.

use super::authorization_flow::{AuthorizationCode, LoginTransaction};
use super::expiring_map::ExpiringMap;
use super::refresh_tokens::RefreshTokens;

/// Every store of the server.
#[derive(Debug, Default)]
pub(crate) struct GrantStores {
    pub transactions: ExpiringMap<LoginTransaction>,
    pub codes: ExpiringMap<AuthorizationCode>,
    pub refresh_tokens: RefreshTokens,
}

impl GrantStores {
    /// Forgets everything (the control surface's reset).
    pub(crate) fn clear(&self) {
        self.transactions.clear();
        self.codes.clear();
        self.refresh_tokens.clear();
    }
}
