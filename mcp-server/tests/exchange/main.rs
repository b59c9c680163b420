//! The token exchange, its cache, the upstream call and `greet`.
//!
//! `real` runs them against the real fake-auth0 and upstream API in process; `shared` runs
//! several replicas sharing one real Redis in front of them. The other
//! modules use small in-process stand-ins that answer as Auth0 and the upstream API do and
//! record every request, to count exchanges exactly and to produce the failures (refusals,
//! hangs, odd answers) the real services do not give on demand.

mod cache;
mod failures;
mod greet;
mod https;
mod real;
mod shared;
mod support;
