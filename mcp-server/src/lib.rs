//! An OAuth-protected MCP server (Streamable HTTP, both protocol eras) whose tools are
//! gated by the caller's permissions, and which calls an upstream API on the caller's
//! behalf through Custom Token Exchange.
//!
//! The crate is a library so the end-to-end stack, the demo and the tests run it in
//! process; the binary in `main.rs` only parses flags and runs an [`App`].
//!
//! # Layout
//!
//! Start-up and configuration:
//! - `app`: [`App`] (`build` / `build_on` → `local_addr` → `run_until_stopped`) and
//!   [`StartError`].
//! - `config`: [`Cli`] (flags and environment, the quickstart's names) and the typed
//!   [`Config`].
//! - `router`: assembles the application; derives the `Host` and `Origin` allow-lists.
//! - `ops`: `/health`, `/ready`, `/metrics`; `metrics`: the per-instance Prometheus registry.
//!
//! In front of rmcp, on `/mcp`:
//! - `auth`: the gate — Origin check, bearer token, session owner and caps, step-up 403.
//! - `sessions`: the live sessions of this replica, their owners and caps.
//! - `shared_state`: Redis (MCP_REDIS_URL) shared by replicas and its health;
//!   `session_store`: rmcp's `SessionStore` over it (sessions across replicas).
//! - `era`: which protocol revision a request speaks (SSE priming, sessions or none).
//! - `caller`: what the gate hands the tools (the verified token, the raw subject token).
//! - `permissions`: which tool needs which permission (one table for every check).
//! - `discovery`: RFC 9728 protected resource metadata, and the re-served RFC 8414 metadata.
//!
//! Behind rmcp:
//! - `tools`: the rmcp handler (`get_current_time`, `whoami`, `greet`).
//! - `greet`: exchange, call the upstream API, greet.
//! - `exchange/`: the token exchange and its cache (see its docs).
//! - `upstream`: the upstream API client; `outbound`: the token-carrying HTTP client.
//! - `shared_state`: the Redis connection several replicas share (`MCP_REDIS_URL`) and
//!   whether it is up.
//!
//! For the fuzz targets only (feature `fuzzing`, hidden):
//! - `fuzzing`: the gate's JSON-RPC peeks and the token endpoint answer's checks.
//!
//! Imports go one way: `app` → `router` → (`auth`, `discovery`, `ops`, `tools`) →
//! (`sessions`, `session_store`, `era`, `caller`, `permissions`, `greet`) → (`exchange`,
//! `upstream`) → (`outbound`, `shared_state`, `metrics`).
//!
//! # Public surface
//!
//! - [`App`], [`StartError`], [`ServeError`], [`Config`], [`Cli`], [`Command`],
//!   [`ConfigError`], [`LogFormat`], [`SessionLimits`], [`RedisUrl`]: what a binary, the e2e stack and the demo need to start
//!   the server.
//! - [`exchange`], [`greet`], [`upstream`], [`metrics`], [`shared_state`]: the `greet`
//!   path's parts, public so
//!   the integration tests (`tests/exchange`) and the benchmark (`benches/exchange_cache`)
//!   can drive them against stand-ins for the IdP and the upstream API.
//! - [`MAX_BODY_BYTES`]: the largest `/mcp` body, which the HTTP tests exceed on purpose.
//!
//! Everything else (the gate, the tools, discovery, the router) is `pub(crate)`: it is
//! reached over HTTP only.

mod app;
mod auth;
mod caller;
mod config;
mod discovery;
mod era;
pub mod exchange;
pub mod greet;
pub mod metrics;
mod ops;
mod outbound;
mod permissions;
mod router;
mod session_store;
mod sessions;
pub mod shared_state;
mod tools;
pub mod upstream;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use app::{App, StartError};
pub use auth::MAX_BODY_BYTES;
pub use config::{Cli, Command, Config, ConfigError, LogFormat, SessionLimits};
pub use service_kit::ServeError;
pub use shared_state::RedisUrl;
