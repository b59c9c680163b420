//! OAuth's wire-level rules that every endpoint shares, free of the tenant's state and of
//! HTTP serving: the error codes (RFC 6749 §5.2 and its extensions), request parameters
//! parsed once (RFC 6749 §3.1), scopes (§3.3), PKCE (RFC 7636), redirect-URI matching
//! (RFC 8252 §7.3), token type URIs (RFC 8693 §3), the `act` chain (§4.1), Client ID Metadata
//! Document rules and unguessable values.
//!
//! The grants and the HTTP handlers both build on these; how an [`OAuthError`] is written
//! on the wire is the HTTP layer's business (`http::oauth_error`).

pub(crate) mod actor;
pub(crate) mod client_metadata;
pub(crate) mod error;
pub(crate) mod params;
pub(crate) mod pkce;
pub(crate) mod random;
pub(crate) mod redirect_uri;
pub(crate) mod token_type;

pub(crate) use actor::Actor;
pub(crate) use error::{ErrorCode, OAuthError};
pub(crate) use params::{FormParams, split_scope};
pub(crate) use random::random_token;
pub(crate) use token_type::{ACCESS_TOKEN_TYPE, TokenType};
