//! An OAuth-protected MCP server (Streamable HTTP, both protocol eras) whose tools are
//! gated by the caller's permissions, and which calls an upstream API on the caller's
//! behalf through Custom Token Exchange.
//!
//! The crate is a library so the end-to-end tests and the demo run it in process; the
//! binary in `main.rs` only parses flags and calls [`serve`].

pub mod auth;
pub mod config;
pub mod discovery;
pub mod exchange;
pub mod greet;
pub mod metrics;
mod outbound;
mod server;
pub mod tools;
pub mod upstream;

pub use config::{Cli, Command, Config, ConfigError, LogFormat};
pub use server::{app, serve};
