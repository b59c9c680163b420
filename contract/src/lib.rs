//! The stack's shared defaults: the contract between fake-auth0, upstream-api, mcp-server,
//! the demo, the tests and the docs.
//!
//! The three services work together with no configuration because each one's defaults point
//! at the others' defaults; a real Auth0 tenant replaces fake-auth0 by configuration alone.
//! Those defaults are written here once: the services take their default flags from these
//! constants, the stack and the tests name the demo users and tools from here, and
//! `CONTRACT.md` at the workspace root is [`render_markdown`]'s output (a test fails when the
//! file, or the README's tables, drift from this crate).
//!
//! The demo tenant itself (`fake-auth0/src/model/demo.yaml`) stays in Auth0's Management API
//! shapes; fake-auth0's tests check that it holds exactly the clients and users below.
//!
//! Change a value here only on purpose: it changes every service's default at once.

pub mod addresses;
pub mod clients;
mod markdown;
pub mod tools;
pub mod users;

pub use addresses::*;
pub use clients::*;
pub use markdown::{render_markdown, users_row};
pub use tools::{TOOLS, Tool};
pub use users::DemoUser;
