//! In-process HTTP tests of the MCP server against fake-auth0: discovery, authentication,
//! permission-gated tools, step-up, Origin refusal, both protocol eras and session owners.

mod discovery;
mod eras;
mod gate;
mod ops;
mod replicas;
mod session_limits;
mod sessions;
mod support;
mod tools;
