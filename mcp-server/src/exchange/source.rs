//! "Something that exchanges": what the exchanged-token cache sits in front of.
//!
//! The IdP itself (`idp`), and the shared cache tier (`shared`: Redis, shared by several MCP
//! server replicas) wrapping it, with the local cache still in front of both.

use std::future::Future;

use super::error::ExchangeError;
use super::grant::ExchangeGrant;
use super::token::ExchangedToken;

/// Trades a subject token for an upstream token, without caching of its own.
pub(crate) trait TokenSource: Send + Sync {
    /// What this source asks for; the cache keys its entries by it.
    fn grant(&self) -> &ExchangeGrant;

    /// One exchange of `subject_token`, which expires at `subject_expires_at` (Unix
    /// seconds; a source that keeps the result must not keep it longer).
    fn exchange(
        &self,
        subject_token: &str,
        subject_expires_at: u64,
    ) -> impl Future<Output = Result<ExchangedToken, ExchangeError>> + Send;
}
