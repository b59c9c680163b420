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
//! - [`ServerLimits`]: the limits every service puts on its clients (header, body and request
//!   timeouts, body size, connections, shutdown grace), the same flags in every service.
//! - [`serve`] and [`serve_on`]: the one serving loop, hyper with a timer, within the limits,
//!   with `TCP_NODELAY` and graceful shutdown.
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
mod body_deadline;
mod ca_file;
mod healthcheck;
mod limits;
mod logging;
mod server;
mod signal;

pub use access_log::{ACCESS_LOG_TARGET, with_access_log};
pub use body_deadline::BodyReadTimeout;
pub use ca_file::read_ca_file;
pub use healthcheck::{healthcheck, healthcheck_https};
pub use limits::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT, DEFAULT_SHUTDOWN_GRACE,
    OUTBOUND_POOL_IDLE_TIMEOUT, ServerLimits, parse_duration,
};
pub use logging::{LogFormat, default_filter, init_tracing};
pub use server::{
    BindError, ServeError, Server, bind, invalid_configuration, serve, serve_on,
    serve_until_signal, try_bind,
};
pub use signal::shutdown_signal;
