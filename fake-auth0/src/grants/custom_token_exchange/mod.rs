//! Custom Token Exchange: Auth0's flavour of RFC 8693 token exchange at `/oauth/token`.
//!
//! A client sends `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` with a
//! `subject_token` and a `subject_token_type`. The type selects a token-exchange profile
//! of the tenant (`model::TokenExchangeProfile`); the profile's Action (built in: the
//! first-party on-behalf-of template) validates the subject token and returns one
//! decision: the user the new token is for, or a rejection. The tenant then issues an
//! access token for the requested API and that user through the common issuance path.
//!
//! - `request`: the request's parameters, checked first.
//! - `exchange`: the platform's checks (client, profile, audience, actor token), running
//!   the Action, and issuing.
//! - `action`: the Action's interface (its event and its decision).
//! - `first_party_on_behalf_of`: the built-in template, with its checks and messages.

mod action;
mod exchange;
mod first_party_on_behalf_of;
mod request;

pub(crate) use exchange::exchange;
