//! The token exchange (RFC 8693; Auth0's On-Behalf-Of or Custom Token Exchange) behind a cache.
//!
//! The MCP server receives access tokens whose audience is itself and must never pass them
//! on. To call the upstream API on the caller's behalf it trades the inbound token at the
//! identity provider's token endpoint for a token whose audience is the upstream API. This
//! module is the only place the inbound token leaves the process, and the token endpoint
//! is the only place it goes.
//!
//! It does what `@auth0/auth0-api-js`'s `getTokenByExchangeProfile` does, so it works
//! against a real Auth0 tenant unchanged. One file per concern:
//!
//! - `grant`: [`ExchangeGrant`], what is asked for — the RFC 8693 §2.1 form parameters
//!   besides the subject token and the client's credentials. [`ExchangeMode`] selects the
//!   flavour: Auth0's On-Behalf-Of exchange (both token types the access-token type) or
//!   Auth0's Custom Token Exchange (whose `subject_token_type` names the tenant's token
//!   exchange profile), and says what to fix when the IdP refuses it.
//! - `idp`: the exchanger proper. It finds the token endpoint through
//!   [`bearer_auth::discovery::IssuerMetadata`] (once; a failure is retried on the next call),
//!   POSTs the form with `client_secret_post` client authentication, and counts outcomes.
//! - `response`: the checks of the token endpoint's answer, as `oauth4webapi`'s
//!   `processGenericAccessTokenResponse` makes them: status exactly 200, a JSON object,
//!   `access_token` and `token_type` non-empty strings, `token_type` `bearer` in any case,
//!   `expires_in` numeric, `scope` a string; an error answer becomes its RFC 6749 §5.2 code.
//! - `source`: `TokenSource`, "something that exchanges", which the cache sits in front
//!   of: the IdP, or the shared tier in front of it.
//! - `shared`: the shared tier (Redis, `MCP_REDIS_URL`) between the local cache and the
//!   IdP: several replicas exchange a user's token once between them (a short lock per
//!   token), and work on without it when Redis is down. `sealed`: what it stores, sealed
//!   with AES-256-GCM under a key derived from the subject token (HKDF-SHA-256), under a
//!   name derived separately, so a copy of Redis yields no usable token.
//! - `cache`: the exchanged-token cache (moka, bounded). The key is the SHA-256 of the
//!   subject token and the whole grant (mode, audience, scope), so the cache never holds an
//!   inbound token. An entry lives until the issued token's expiry minus a safety margin and
//!   never past the subject token's own expiry minus that margin: a delegated token must not
//!   outlive the delegation it came from. Concurrent calls for one key share one exchange
//!   (single-flight), and failures are not cached.
//! - `exchanger`: [`TokenExchanger`], the public handle: the cache over the IdP.
//! - `config`, `token`, `error`: [`ExchangeConfig`]; [`AccessToken`] and
//!   [`ExchangedToken`]; [`ExchangeError`] and [`Stage`].

mod cache;
mod config;
mod error;
mod exchanger;
mod grant;
mod idp;
mod response;
mod sealed;
mod shared;
mod source;
mod token;

pub use config::ExchangeConfig;
pub use error::{ExchangeError, Stage};
pub use exchanger::TokenExchanger;
pub use grant::{ACCESS_TOKEN_TYPE, ExchangeGrant, ExchangeKind, ExchangeMode};
#[cfg(feature = "fuzzing")]
pub(crate) use response::process_token_response;
pub use token::{AccessToken, ExchangedToken};
