//! Custom Token Exchange: Auth0's flavour of RFC 8693 token exchange at `/oauth/token`.
//!
//! A client sends `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` with a
//! `subject_token` and a `subject_token_type`. The type selects a
//! [`TokenExchangeProfile`] of the tenant; the profile's [`Action`] (built in:
//! [`OnBehalfOf`], after Auth0's marketplace template) validates the subject token and
//! returns one [`Decision`]: the user the new token is for, or a rejection. The tenant then
//! issues an access token for the requested API and that user.
//!
//! # Layout
//! - `profile`: the tenant objects and their load-time checks (reserved namespaces).
//! - `action`: the Action trait, its event and its decision.
//! - `on_behalf_of`: the built-in Action.
//! - `grant`: the HTTP-facing grant: parameters, client, profile, Action, issuance.

mod action;
mod grant;
mod on_behalf_of;

#[cfg(test)]
mod tests;

use crate::client_auth::AuthenticatedClient;
use crate::oauth::FormParams;
use crate::oauth::OAuthError;
use crate::state::AppState;
use crate::tokens::TokenResponse;

/// The token-exchange grant, called by `/oauth/token` once the client is authenticated.
pub(crate) async fn grant(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    // Verifying and signing take a few hundred microseconds of CPU, which is fine inline.
    grant::exchange(state, client, params)
}
