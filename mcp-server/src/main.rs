//! The `mcp-server` binary: flags, `.env` and environment in; an [`App`] serving until
//! Ctrl-C or SIGTERM out. `mcp-server healthcheck` probes a running server instead.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use mcp_server::{App, Cli, Command, Config};

/// mimalloc instead of glibc's allocator: malloc and free were about a quarter of the
/// instructions of a tool call (callgrind; BENCHMARKS.md, "Instructions per call").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the environment and flags still apply.
    let _ = dotenvy::dotenv();
    let matches = Cli::command()
        .after_help(Cli::exchange_help_from_env())
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let (command, log_format) = (cli.command, cli.log_format);
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(error) => return service_kit::invalid_configuration("mcp-server", &error),
    };
    if let Some(Command::Healthcheck) = command {
        return service_kit::healthcheck(config.listen).await;
    }
    service_kit::init_tracing(log_format, &["mcp_server", "bearer_auth", "service_kit"]);
    service_kit::serve_until_signal(
        "mcp-server",
        App::build(config).await,
        App::run_until_stopped,
    )
    .await
}
