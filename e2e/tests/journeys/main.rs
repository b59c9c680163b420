//! The user journeys, as one test binary (one link step for all of them).
//!
//! Each test starts its own [`e2e::TestStack`] on free ports, so tests run in parallel and
//! never share state. The modules follow what a user does: see tools, call them, get
//! refused and step up, live through an outage; then the same through the built binaries
//! and through the official Python MCP SDK.

mod balancer;
mod failures;
mod fastmcp;
mod greet;
mod hostile_clients;
mod processes;
mod python_sdk;
mod rotation;
mod step_up;
mod tools;
mod whoami;
