//! End-to-end journeys across fake-auth0, upstream-api and mcp-server.
//!
//! This library is what the journeys and the root `demo` binary share:
//! - [`TestStack`]: the three services in one process, wired to each other's real URLs;
//! - [`mcp`]: MCP clients for both protocol eras (raw HTTP for 2026-07-28, rmcp for sessions);
//! - [`process`]: the built binaries as child processes, configured by environment variables;
//! - [`python`]: the official Python MCP SDK journey (`e2e/python/journey.py`);
//! - [`DemoUser`]: the demo tenant's users.
//!
//! The journeys themselves are the test binaries under `tests/`.

pub mod mcp;
pub mod process;
pub mod python;
pub mod stack;
pub mod users;

pub use stack::{BindError, Listeners, StackBuilder, TestStack};
pub use users::DemoUser;
