//! What every service binary in this workspace does the same way.
//!
//! The three services differ in what they serve, not in how they start and stop. Keeping
//! the start-up plumbing here means a fix (a missed signal, a missing socket option) is
//! made once, and the binaries stay thin: parse configuration, call into their library.
//!
//! - [`LogFormat`] and [`init_tracing`]: pretty logs for people, JSON for machines, quiet
//!   by default ([`default_filter`]: no line per request, dependencies at `warn`).
//! - [`with_access_log`]: one line per request, only when [`ACCESS_LOG_TARGET`] is enabled.
//! - [`bind`] and [`try_bind`]: bind a listener, and say which flag to change when the port
//!   is taken ([`BindError`]).
//! - [`serve`]: `axum::serve` with `TCP_NODELAY` and graceful shutdown.
//! - [`Server`]: the start-up seam's last step, a bound listener and its router, which
//!   knows its address before it serves and stops when told ([`ServeError`]).
//! - [`invalid_configuration`] and [`serve_until_signal`]: how every `main` ends, so the
//!   binaries print start-up errors and exit the same way.
//! - [`shutdown_signal`]: resolves on Ctrl-C or SIGTERM.
//! - [`healthcheck`]: the `healthcheck` subcommand that container images run instead of curl.
//! - [`read_ca_file`]: extra root certificates for outbound HTTPS (`--ca-file`), e.g. the
//!   local CA of `fake-auth0 --tls`.
//!
//! Everything listed is public, because it exists to be called by the services' libraries
//! and binaries; the healthcheck's URL and HTTP helpers are private.

mod access_log;
mod ca_file;
mod healthcheck;
mod logging;
mod server;
mod signal;

pub use access_log::{ACCESS_LOG_TARGET, with_access_log};
pub use ca_file::read_ca_file;
pub use healthcheck::{healthcheck, healthcheck_https};
pub use logging::{LogFormat, default_filter, init_tracing};
pub use server::{
    BindError, ServeError, Server, bind, invalid_configuration, serve, serve_until_signal, try_bind,
};
pub use signal::shutdown_signal;
