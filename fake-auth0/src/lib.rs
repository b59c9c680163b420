//! fake-auth0: a local, offline Auth0 tenant for development and tests.
//!
//! FOR DEVELOPMENT AND TESTING ONLY. It issues real RS256 tokens from a key generated at
//! start, to users and clients of a tenant file, at Auth0's paths, so that OAuth clients,
//! Auth0 SDKs and resource servers work against it unchanged.
//!
//! # Layers
//! Each folder is a layer and imports only the layers before it (the `tidy` crate's tests
//! check this, and that no two files import each other):
//!
//! 1. [`model`]: the tenant's data in Auth0's Management API shapes, file loading, the demo.
//! 2. `oauth`: the wire rules every endpoint shares (errors, parameters, PKCE, redirect URIs).
//! 3. [`keys`]: the signing keys and their rotation.
//! 4. `jwt`: minting access and ID tokens, and the one verifier of the tenant's own tokens.
//! 5. `state`: the live tenant, the stores, the clock, the data dir's database.
//! 6. `grants`: one module per grant, one issuance path, one scope policy.
//! 7. `http`: handlers, pages, error wire formats, the Management API, the control surface.
//! 8. The top: [`App`] (start-up), [`config`], [`tls`], this file and the binary.
//!
//! # Public surface
//! [`App`] and [`Config`] (with [`Cli`]) start a tenant; [`model`] is a tenant file's
//! schema; [`keys`] and [`tls`] are public for the benchmarks and for tests that trust the
//! local CA; [`serve`] and [`router`] remain for callers that start a tenant in a task or
//! drive it in process. Everything else is `pub(crate)`, except `fuzzing` (feature
//! `fuzzing`, hidden), the entry points of the fuzz targets in `fuzz/`.

mod app;
pub mod config;
pub mod keys;
pub mod model;
pub mod tls;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

mod grants;
mod http;
mod jwt;
mod oauth;
mod state;

pub use app::{App, ServeError, StartError, router, serve};
pub use config::{Cli, Config};
pub use http::ControlToken;
pub use model::{Tenant, TenantError, TokenExchangeProfile};
pub use state::DataDirError;
