//! Log set-up: pretty lines for people at a terminal, JSON lines for log collectors, and
//! `RUST_LOG` over each service's default filter.

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

/// Installs the global tracing subscriber.
///
/// `RUST_LOG` wins when set; otherwise `default_filter` applies (for example
/// `"fake_auth0=info,tower_http=info"`). Calling it twice is harmless: the second call
/// keeps the first subscriber, which is what a process running several services wants.
pub fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _already_installed = match format {
        LogFormat::Pretty => builder.pretty().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
