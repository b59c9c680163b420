//! tidy: tests that hold the whole repository to its own rules by reading its files, in
//! the manner of rust-analyzer's `xtask/src/tidy.rs`.
//!
//! The crate has no library code; everything is in `tests/tidy/`, run by
//! `cargo test -p tidy` (and by `cargo test --workspace`):
//!
//! - `cycles`: no two source files of a crate import each other, directly or round a loop.
//! - `layers`: fake-auth0's folders are layers, and none imports a layer above it.
//! - `docs`: every `.rs` file under a `src/` folder opens with a `//!` comment saying why
//!   it exists.
//! - `self_contained`: no tracked file points at the team's shared folder outside the
//!   repository, which a clone does not have.
