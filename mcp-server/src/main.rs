//! The `mcp-server` binary: flags, `.env` and environment in; [`mcp_server::serve`] out.

use std::process::ExitCode;

use clap::Parser;
use mcp_server::{Cli, Command, Config};

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the environment and flags still apply.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let command = cli.command;
    let log_format = cli.log_format;
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mcp-server: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Healthcheck) = command {
        return service_kit::healthcheck(config.listen).await;
    }
    service_kit::init_tracing(log_format, "info");
    let listener = match service_kit::bind(
        config.listen,
        "mcp-server",
        "--port / PORT (and --host / MCP_BIND_HOST)",
    )
    .await
    {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match mcp_server::serve(config, listener, service_kit::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
