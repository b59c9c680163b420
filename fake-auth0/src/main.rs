//! The `fake-auth0` binary: parses flags, starts logging, binds and serves.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser as _;
use fake_auth0::Cli;
use fake_auth0::config::Command;

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    if let Some(Command::Healthcheck) = cli.command {
        return service_kit::healthcheck(cli.listen).await;
    }
    service_kit::init_tracing(cli.log_format, "fake_auth0=info,tower_http=info");
    tracing::warn!(
        "*** fake-auth0 is FOR DEVELOPMENT AND TESTING ONLY: never use it to protect real data ***"
    );
    let config = match cli.to_config() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "cannot load the tenant");
            return ExitCode::from(2);
        }
    };
    if cli.tenant.is_none() {
        tracing::info!(
            "serving the embedded demo tenant; users admin@example.com / admin-pass, \
             user@example.com / user-pass, guest@example.com / guest-pass"
        );
    }
    let listener =
        match service_kit::bind(cli.listen, "fake-auth0", "--listen / FAKE_AUTH0_LISTEN").await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        };
    let app = match fake_auth0::router(config.clone()) {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        listen = %cli.listen,
        issuer = %config.issuer,
        ready_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "fake-auth0 ready"
    );
    match fake_auth0::serve_router(app, listener, service_kit::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
