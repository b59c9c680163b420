//! "Something that exchanges": what the exchanged-token cache sits in front of.
//!
//! Today that is the IdP itself (`idp`); a shared cache tier (Redis) shared by several
//! MCP server replicas would be one more implementation, wrapping the IdP, with the local
//! cache still in front of it.

use std::future::Future;

use super::error::ExchangeError;
use super::grant::ExchangeGrant;
use super::token::ExchangedToken;

/// Trades a subject token for an upstream token, without caching of its own.
pub(crate) trait TokenSource: Send + Sync {
    /// What this source asks for; the cache keys its entries by it.
    fn grant(&self) -> &ExchangeGrant;

    /// One exchange of `subject_token`.
    fn exchange(
        &self,
        subject_token: &str,
    ) -> impl Future<Output = Result<ExchangedToken, ExchangeError>> + Send;
}
