//! Verifies OAuth 2.0 bearer access tokens issued by Auth0 (or fake-auth0) and refuses the
//! rest the way RFC 6750 and the MCP authorization spec describe. Both resource servers of
//! the workspace, `upstream-api` and `mcp-server`, use it, so the rules live here once.
//!
//! # Usage
//!
//! ```no_run
//! # async fn example() -> Result<(), bearer_auth::ConfigError> {
//! use bearer_auth::{Authenticated, BearerAuthLayer, Issuer, Verifier, VerifierConfig};
//!
//! let issuer = Issuer::from_auth0_domain("tenant.us.auth0.com")?; // https://tenant.us.auth0.com/
//! let verifier = Verifier::new(VerifierConfig::new(issuer, "http://localhost:8787/"), reqwest::Client::new());
//! let app: axum::Router = axum::Router::new()
//!     .route("/private", axum::routing::get(|Authenticated(token): Authenticated| async move { token.subject }))
//!     .route_layer(BearerAuthLayer::new(verifier));
//! # Ok(()) }
//! ```
//!
//! # Rules
//!
//! A token is accepted only when all of these hold, checked in this order:
//!
//! 1. It is at most 16 KiB and is a compact JWS: three base64url parts without padding,
//!    the header a JSON object.
//! 2. The header has no `jku`, `x5u`, `jwk` or `x5c` (keys are never taken from the token,
//!    RFC 8725 §3.10) and no `crit` (we understand no extensions, RFC 7515 §4.1.11).
//! 3. `alg` is in [`VerifierConfig::algorithms`] (RS256 by default). `none` and every HMAC
//!    algorithm are refused whatever the configuration says.
//! 4. `typ` is one of [`VerifierConfig::accepted_typ`] (`at+jwt`, `application/at+jwt`,
//!    `JWT`), compared case-insensitively with the `application/` prefix optional. **A token
//!    without `typ` is refused**: RFC 9068 §4 requires it and Auth0 always sets it.
//! 5. `kid` is present and names a key of the issuer's JWKS, and `alg` fits that key (its
//!    key type, and its `alg` when the JWK states one).
//! 6. The signature verifies.
//! 7. `iss` equals the issuer exactly; `aud` (a string or an array) contains the audience;
//!    `exp`, `iat` and `sub` are present; `exp` is not past, and `nbf` and `iat` are not in
//!    the future, each beyond [`VerifierConfig::leeway`] (30 s), by
//!    [`VerifierConfig::clock`] (the system clock unless a test hands in another).
//! 8. `scope` is a string and `permissions` an array of strings, when present.
//!
//! # Scopes and permissions
//!
//! A verified token grants a permission only when it is in `scope` (RFC 9068 §2.2.3: what
//! this client was granted and the user consented to). Auth0's `permissions` claim lists
//! what the *user* has whatever the client asked for, so it never grants; it only tells
//! whether a step-up can help ([`VerifiedToken::access`], [`Access`]).
//!
//! # Keys
//!
//! The JWKS location comes from the issuer's `/.well-known/openid-configuration`, read by
//! [`discovery::IssuerMetadata`]: `200 OK`, `application/json`, an `issuer` equal to ours,
//! within the fetch timeout and size limit below. [`Verifier::new`] never blocks: discovery and the first JWKS
//! fetch run in the background and retry with exponential backoff, so a service starts
//! while its IdP is down; until keys load, [`Verifier::is_ready`] is false and requests with
//! a well-formed token get 503 ([`Challenge::unavailable`]) at once.
//!
//! Keys are parsed once per fetch into a map by `kid` and swapped in atomically (arc-swap),
//! so verification reads them without locks or network. The set is refreshed in the
//! background at three quarters of [`JwksSettings::max_age`] (10 min); a removed key thus
//! stops verifying within `max_age`. A token with an unknown `kid` triggers a refetch at
//! most once per [`JwksSettings::unknown_kid_cooldown`] (30 s) and only one fetch is ever in
//! flight, so a flood of made-up kids cannot hammer the IdP. When fetches fail the last good
//! keys stay in use for [`JwksSettings::max_stale`] (1 h) after their fetch. Every fetch has
//! a whole-request timeout (5 s) and a response size limit (256 KiB); symmetric (`oct`)
//! keys and keys for encryption are ignored.
//!
//! # Verified tokens
//!
//! Clients send the same token on every request, so a token that passed every rule is
//! remembered (by its SHA-256, up to [`VerifierConfig::verified_cache_capacity`] tokens,
//! 10,000 by default, for at most 10 minutes): seen again, it costs a hash and a lookup
//! (≈ 1 µs) instead of an RSA verification (≈ 17 µs). `exp` is still checked on every
//! use, and a remembered token counts only while the key set that verified it is the
//! current one, so a key rotation or refresh sends it through every rule again. Refused
//! tokens are never remembered.
//!
//! # Refusals (RFC 6750 §3)
//!
//! | situation | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no `Authorization` header, or another scheme (e.g. Basic) | 401 | `Bearer` + the caller's params |
//! | token in the query string (`access_token=`), several headers, malformed `Bearer` credentials | 401 | `Bearer error="invalid_request", error_description="…"` |
//! | token fails any rule above | 401 | `Bearer error="invalid_token", error_description="…"` |
//! | token valid but lacks a permission | 403 | `Bearer error="insufficient_scope", error_description="…", scope="…"` |
//! | no signing keys loaded (cold start, IdP down) | 503 + `Retry-After` | none |
//!
//! RFC 6750 §3.1 allows 400 for `invalid_request`; we answer 401 so clients that start
//! authorization on a 401 (MCP clients) still see the challenge and its parameters. An
//! unsupported scheme counts as "no credentials" as §3.1 says, hence no error code. Values
//! are quoted and escaped; the body repeats the error as
//! `{"error": "…", "error_description": "…"}`. Causes are logged at debug level by reason
//! ([`TokenError::reason`]), never with the token.
//!
//! # Layout
//!
//! - `issuer`: [`Issuer`] from `AUTH0_DOMAIN`.
//! - `config`: [`VerifierConfig`] and [`JwksSettings`]; `clock`: [`Clock`], the source of
//!   "now" for every time rule ([`SystemClock`] in production).
//! - `discovery`: [`discovery::IssuerMetadata`], the one bounded, issuer-checked fetch of
//!   the issuer's metadata, which the MCP server uses too.
//! - `jwks`: the JWKS download and JWK parsing.
//! - `verifier`: [`Verifier`], the checks and the key cache.
//! - `token`: [`VerifiedToken`] and [`Access`], the scope rule; `error`: [`TokenError`].
//! - `challenge`: [`Challenge`]; `middleware`: [`BearerAuthLayer`] and [`Authenticated`].
//! - `testkit` (feature `testkit`): signing keys, a counting JWKS server and a
//!   `ManualClock` for tests.
//! - `fuzzing` (feature `fuzzing`, hidden): the private parsers and an offline verifier,
//!   for the fuzz targets in `fuzz/` only.
//!
//! Imports go one way: `middleware` → (`verifier`, `challenge`, `token`); `verifier` →
//! (`jwks`, `config`, `token`, `error`); `jwks` → `discovery` → `issuer`; `config` →
//! (`clock`, `discovery`, `issuer`); `challenge` and `token` → `error`.
//!
//! # Public surface
//!
//! What a resource server needs to verify tokens and refuse requests: [`Verifier`] with
//! [`VerifierConfig`], [`JwksSettings`], [`Clock`]/[`SystemClock`] and [`Algorithm`];
//! [`Issuer`] and its [`ConfigError`]; [`VerifiedToken`], [`Access`] and [`TokenError`]; the axum glue
//! [`BearerAuthLayer`] (with its [`BearerAuthService`]), [`Authenticated`] and
//! [`bearer_token`] (the MCP server reads the raw token with it to exchange it);
//! [`Challenge`], whose accessors let a server that refuses on its own shape or inspect
//! the answer, and [`bearer_challenge_params`], which reads a challenge back (its inverse).
//! [`discovery`] is public because the MCP server's token exchange and its
//! re-served authorization server metadata fetch the issuer's metadata through it.
//! `testkit` is public behind its feature for the tests of this and other crates. The key
//! cache, JWK parsing and the fetch helpers are private.

mod challenge;
mod clock;
mod config;
pub mod discovery;
mod error;
mod issuer;
mod jwks;
mod middleware;
mod token;
mod verifier;

#[cfg(feature = "testkit")]
pub mod testkit;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use challenge::{Challenge, bearer_challenge_params};
pub use clock::{Clock, SystemClock};
pub use config::{JwksSettings, VerifierConfig};
pub use error::TokenError;
pub use issuer::{ConfigError, Issuer};
pub use jsonwebtoken::Algorithm;
pub use middleware::{Authenticated, BearerAuthLayer, BearerAuthService, bearer_token};
pub use token::{Access, VerifiedToken};
pub use verifier::Verifier;
