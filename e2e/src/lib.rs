//! End-to-end journeys across fake-auth0, upstream-api and mcp-server.
//!
//! This library is what the journeys and the root `demo` binary share:
//! - [`TestStack`]: the three services in one process, wired to each other's real URLs;
//! - [`mcp`]: MCP clients for both protocol eras (raw HTTP for 2026-07-28, rmcp for sessions);
//! - [`process`]: the built binaries as child processes, configured by environment variables
//!   (built first when missing or stale);
//! - [`python`]: the Python environments of the Python peers, made under `target/` on first
//!   use, and the official Python MCP SDK journey (`e2e/python/mcp_sdk/journey.py`);
//! - [`DemoUser`]: the demo tenant's users.
//!
//! The journeys themselves are the test binaries under `tests/`.

mod cargo_target;
pub mod mcp;
pub mod process;
pub mod python;
pub mod stack;
pub mod users;

pub use cargo_target::workspace_root;
pub use stack::{BindError, Listeners, StackBuilder, TestStack};
pub use users::DemoUser;
