//! The limits every service puts on its clients, so that a client that opens connections and
//! sends nothing, trickles its headers or body, or sends a huge body, holds a file descriptor
//! and memory only for a bounded time.
//!
//! One [`ServerLimits`] is a `clap::Args` struct, flattened into each service's command line,
//! so every service has the same flags, environment variables and defaults (one rule in one
//! place), and the serving loop ([`crate::serve_on`]) and the services' routers read the same
//! values.

use std::time::Duration;

use tower_http::timeout::TimeoutLayer;

/// The default for `--header-read-timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default for `--body-read-timeout`.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for `--request-timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for `--max-body-bytes`: 4 MiB, the MCP server's `/mcp` bound (the largest any
/// route of the workspace accepts; fake-auth0's routes keep their smaller 64 KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The default for `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// The default for `--shutdown-grace`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long the services' own HTTP clients keep an idle pooled connection: half the
/// default header-read timeout, after which a peer of this workspace closes it. A client
/// that kept it longer could send a request on a connection just as the peer closes it,
/// and that request would fail for no reason of its own.
pub const OUTBOUND_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a service allows a client, as flags and environment variables.
///
/// Durations are written `500ms`, `10s`, `2m` or `1h` (a bare number is seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct ServerLimits {
    /// Time a connection has to send a complete request head (request line and headers),
    /// counted from when it opens or, on a kept-alive connection, from the end of the previous
    /// response; so it is also how long an idle keep-alive connection stays open.
    #[arg(
        long,
        env = "HTTP_HEADER_READ_TIMEOUT",
        default_value = "10s",
        value_parser = parse_duration
    )]
    pub header_read_timeout: Duration,
    /// Time a request has to send its whole body, counted from the end of its head; a body
    /// that is not complete by then is refused and the connection closed.
    #[arg(
        long,
        env = "HTTP_BODY_READ_TIMEOUT",
        default_value = "30s",
        value_parser = parse_duration
    )]
    pub body_read_timeout: Duration,
    /// Time a request has for its answer, body included, on every route but streams (the MCP
    /// server's `/mcp`, whose SSE replies and GET streams last as long as the session).
    #[arg(
        long,
        env = "HTTP_REQUEST_TIMEOUT",
        default_value = "30s",
        value_parser = parse_duration
    )]
    pub request_timeout: Duration,
    /// The largest request body accepted, in bytes (routes with a smaller limit of their own
    /// keep it: fake-auth0's 64 KiB).
    #[arg(long, env = "HTTP_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// The most connections served at once; past it, new connections wait in the listen
    /// backlog until one closes (logged as a warning).
    #[arg(
        long,
        env = "HTTP_MAX_CONNECTIONS",
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = parse_at_least_one
    )]
    pub max_connections: usize,
    /// Time open connections get to finish once shutdown begins (streams are told to end);
    /// connections still open then are closed.
    #[arg(
        long,
        env = "HTTP_SHUTDOWN_GRACE",
        default_value = "5s",
        value_parser = parse_duration
    )]
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl ServerLimits {
    /// The per-request timeout, for a service's routes that answer in one piece (every route
    /// but streams): `408 Request Timeout` when the answer is not ready in time.
    pub fn request_timeout_layer(&self) -> TimeoutLayer {
        TimeoutLayer::with_status_code(http::StatusCode::REQUEST_TIMEOUT, self.request_timeout)
    }
}

/// A count that must be at least 1 (no connections at all would serve nobody).
fn parse_at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("`{text}` is not a number of at least 1")),
        Ok(n) => Ok(n),
    }
}

/// Parses a duration: a number and a unit, `ms`, `s`, `m`, `h` or `d` (seconds when
/// absent); more than zero. The one duration syntax of every service's flags.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 90s, 15m, 1h or 1d"))?;
    let millis_per_unit = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => return Err(format!("unknown unit `{other}`: use ms, s, m, h or d")),
    };
    match number.checked_mul(millis_per_unit) {
        Some(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
        _ => Err(format!("`{text}` must be more than zero")),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        limits: ServerLimits,
    }

    #[test]
    fn durations_read_like_humans_write_them() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3_600)));
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn the_flags_default_to_the_documented_values() {
        let cli = Cli::try_parse_from(["service"]).unwrap();
        assert_eq!(cli.limits, ServerLimits::default());
    }

    #[test]
    fn each_limit_is_a_flag() {
        let cli = Cli::try_parse_from([
            "service",
            "--header-read-timeout",
            "1s",
            "--body-read-timeout",
            "2s",
            "--request-timeout",
            "3s",
            "--max-body-bytes",
            "1024",
            "--max-connections",
            "8",
            "--shutdown-grace",
            "250ms",
        ])
        .unwrap();
        assert_eq!(
            cli.limits,
            ServerLimits {
                header_read_timeout: Duration::from_secs(1),
                body_read_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(3),
                max_body_bytes: 1024,
                max_connections: 8,
                shutdown_grace: Duration::from_millis(250),
            }
        );
        assert!(Cli::try_parse_from(["service", "--max-connections", "0"]).is_err());
    }
}
