//! `cargo run -p upstream-api`: parses configuration, binds, and serves until Ctrl-C or
//! SIGTERM; `upstream-api healthcheck` probes a running server instead.

use std::process::ExitCode;

use clap::Parser;
use upstream_api::{Cli, Command, Config};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    // A missing .env is normal; the environment and flags still apply.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if cli.command == Some(Command::Healthcheck) {
        return Ok(service_kit::healthcheck(cli.listen).await);
    }
    service_kit::init_tracing(
        cli.log_format,
        "upstream_api=info,bearer_auth=info,tower_http=info",
    );
    let config = Config::try_from(cli)?;
    let listener = service_kit::bind(
        config.listen,
        "upstream-api",
        "--listen / UPSTREAM_API_LISTEN",
    )
    .await?;
    tracing::info!(
        address = %listener.local_addr()?,
        issuer = %config.issuer,
        audience = %config.audience,
        "upstream API listening"
    );
    upstream_api::serve(config, listener, service_kit::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
