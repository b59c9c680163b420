//! The demo's upstream API: the first-party API the MCP server calls on a user's behalf
//! after Custom Token Exchange.
//!
//! It accepts only tokens its tenant issued for *its own* audience (`API_AUTH0_AUDIENCE`),
//! so a token passed through from the MCP server (audience `http://localhost:3001/`) is
//! refused with 401: the exchange is the only way in. Token rules and challenges come from
//! [`bearer_auth`].
//!
//! # Routes
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /api/private-scope` | bearer token with `read:private` in `scope` or `permissions` | `{"msg": "Hello from upstream API", "sub": …, "scopes": […]}` |
//! | `GET /api/public` | none | `{"msg": …}` |
//! | `GET /health` | none | 200 `{"status": "ok"}` while the process runs |
//! | `GET /ready` | none | 200 once signing keys are loaded, else 503 |
//!
//! Unknown routes answer 404 and wrong methods 405, both as JSON.
//!
//! # Layout
//!
//! - `app`: [`App`] (`build` / `build_on` → `local_addr` → `run_until_stopped`) and
//!   [`StartError`]; builds the verifier (with `--ca-file`'s roots).
//! - `config`: [`Cli`] (flags and environment) and the typed [`Config`].
//! - `routes`: the router, the handlers, the `read:private` check (a 403 challenge from
//!   `bearer_auth`) and the one JSON error format of non-authentication errors.
//!
//! # Public surface
//!
//! Only what starts the API: [`App`], [`StartError`], [`ServeError`], [`Config`], [`Cli`],
//! [`Command`], [`ConfigError`], [`LogFormat`]. The routes are reached over HTTP only.

mod app;
mod config;
mod routes;

pub use app::{App, StartError};
pub use config::{Cli, Command, Config, ConfigError};
pub use service_kit::{LogFormat, ServeError};
