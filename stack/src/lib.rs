//! The three services wired together, and what it takes to talk to them.
//!
//! One crate owns how fake-auth0, upstream-api and mcp-server are started side by side, so
//! the demo, the benchmarks and every test run the same wiring:
//! - [`TestStack`]: the three in one process, each through its `App::build_on` seam, wired to
//!   each other's real URLs (free ports for tests, the contract's ports for the demo);
//! - [`process`]: the built binaries as child processes, configured by environment variables
//!   only ([`process::ProcessStack`]; built first when missing or stale);
//! - [`tokens`]: the password-grant helper that signs a demo user in;
//! - [`mcp`]: MCP clients for both protocol eras (raw HTTP for 2026-07-28, rmcp for sessions);
//! - [`readiness`]: waiting until each service answers its probe;
//! - [`redis`]: a real `redis-server` on a Unix socket, for the shared state of replicas;
//! - [`DemoUser`] and the other defaults, re-exported from the `contract` crate.
//!
//! This crate depends on the three services. A service's own integration tests may use it
//! (they link the same library the stack does), but its unit tests (`#[cfg(test)]` in
//! `src/`) must not: those are a second build of the crate, and its types would not match.

pub mod cargo_target;
mod in_process;
pub mod mcp;
pub mod process;
pub mod readiness;
pub mod redis;
pub mod tokens;

pub use cargo_target::workspace_root;
pub use contract::{self, DemoUser};
pub use in_process::{ListenOn, Listeners, StackBuilder, TestStack};
pub use service_kit::BindError;
