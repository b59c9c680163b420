//! Log set-up: pretty lines for people at a terminal, JSON lines for log collectors, and
//! `RUST_LOG` over the one default filter every service shares: quiet, with no line per
//! request.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Multi-line, coloured output for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The default filter of a service whose own code logs under `own_targets` (crate names,
/// e.g. `["mcp_server", "bearer_auth"]`): its own events from `info`, every dependency's
/// (rmcp, hyper, tower-http, …) from `warn` only, and no access log
/// ([`crate::ACCESS_LOG_TARGET`]). At this level a service writes what happens to it
/// (start, key rotation, refused clients), never a line per successful request: rmcp logs
/// about 1.2 KB per stateless request at `info`.
pub fn default_filter(own_targets: &[&str]) -> String {
    let mut filter = String::from("warn");
    for target in own_targets {
        filter.push(',');
        filter.push_str(target);
        filter.push_str("=info");
    }
    filter
}

/// Installs the global tracing subscriber.
///
/// `RUST_LOG` wins when set; otherwise [`default_filter`] of `own_targets` applies. One
/// line per request (the access log) is there when asked for, e.g.
/// `RUST_LOG=warn,mcp_server=info,access_log=info`. Calling it twice is harmless: the
/// second call keeps the first subscriber, which is what a process running several
/// services wants.
pub fn init_tracing(format: LogFormat, own_targets: &[&str]) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(own_targets)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _already_installed = match format {
        LogFormat::Pretty => builder.pretty().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_keeps_dependencies_at_warn() {
        assert_eq!(
            default_filter(&["mcp_server", "bearer_auth"]),
            "warn,mcp_server=info,bearer_auth=info"
        );
    }
}
