//! The HTTP surface: handlers at Auth0's paths, the pages a person sees, the error wire
//! formats, and the router that ties them together. Handlers parse the request, call the
//! grants or the state, and write the answer; the rules themselves live below.
//!
//! - `router`: every route and the layers they share.
//! - `token`, `revoke`: `/oauth/token` and `/oauth/revoke` (RFC 6749, RFC 7009), over
//!   `grants`. `body`: their form-or-JSON bodies and the size limit.
//! - `authorize` with `pages`: `/authorize`, `/u/login`, `/u/consent` (RFC 6749 §4.1,
//!   PKCE, RFC 9207 `iss`).
//! - `discovery`, `register`, `userinfo`, `logout`: the other protocol endpoints.
//! - `management/`: the Management API subset under `/api/v2/`, with Auth0's error shape.
//! - `control`: the test control surface under `/_control/` (RFC 9457 problem details).
//! - `oauth_error`: the OAuth error wire format; `bearer`: reading a bearer token.

mod authorize;
mod bearer;
mod body;
mod control;
mod discovery;
mod logout;
mod management;
mod oauth_error;
mod pages;
mod register;
mod revoke;
mod router;
mod token;
mod userinfo;

pub use control::ControlToken;
pub(crate) use router::routes;

#[cfg(feature = "fuzzing")]
pub(crate) use body::parse_body;
