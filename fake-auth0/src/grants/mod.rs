//! The grants of the token endpoint, free of HTTP: each takes the parsed parameters and
//! the authenticated client and returns a [`TokenResponse`] or an `OAuthError`.
//!
//! - One module per grant: `authorization_code` (with PKCE), `refresh_token` (rotation,
//!   reuse detection), `client_credentials`, `password`, `custom_token_exchange` (Auth0's
//!   Custom Token Exchange, RFC 8693 with a profile's Action), `on_behalf_of` (Auth0's
//!   On-Behalf-Of exchange: access token for access token, no Action).
//! - `issuance` is the one path every grant issues through, with the one `scope_policy`.
//! - `consent`: what a consent page lists, from the same scope policy.
//! - `client_auth`: client authentication (RFC 6749 §2.3), shared with `/oauth/revoke`.
//! - `audience`: which API a request names (`audience`, RFC 8707 `resource`).
//! - `dispatch`: the client's permission for the grant, and committing refresh tokens.
//! - `response`: the success response (RFC 6749 §5.1).

mod audience;
mod authorization_code;
mod client_auth;
mod client_credentials;
mod consent;
mod custom_token_exchange;
mod dispatch;
mod issuance;
mod on_behalf_of;
mod password;
mod refresh_token;
mod response;
mod scope_policy;

pub(crate) use audience::resolve_api;
pub(crate) use client_auth::authenticate_client;
pub(crate) use consent::{ConsentGroup, consent_groups};
pub(crate) use dispatch::grant_tokens;
pub(crate) use response::TokenResponse;
