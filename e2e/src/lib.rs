//! End-to-end journeys across fake-auth0, upstream-api and mcp-server.
//!
//! The wiring of the three services, the demo users, the password grant, the MCP test
//! clients and readiness live in the `stack` crate, which the demo and the benchmarks use
//! too; this library re-exports it (so `e2e::TestStack` and `e2e::mcp` keep working) and adds
//! what only the journeys need:
//! - [`python`]: the Python environments of the Python peers, made under `target/` on first
//!   use, and the official Python MCP SDK journey (`e2e/python/mcp_sdk/journey.py`);
//! - [`metadata_document`]: a Client ID Metadata Document served over HTTPS on loopback, the
//!   journeys' client that names itself by URL.
//!
//! The journeys themselves are the test binaries under `tests/`.

pub mod metadata_document;
pub mod python;

pub use stack::*;
