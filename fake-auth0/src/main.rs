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
        if cli.tls {
            // The CA file is where `--tls` keeps it for these same flags.
            let tls = fake_auth0::tls::TlsSettings::in_data_dir_or_cache(cli.data_dir.as_deref());
            return service_kit::healthcheck_https(cli.listen, &tls.ca_file()).await;
        }
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
    // With --tls the CA is made or loaded before anything is served, and its certificate's
    // path is logged: that is the file clients must trust.
    let tls = match &config.tls {
        Some(settings) => match settings.server(&config.issuer) {
            Ok(tls) => {
                tracing::info!(
                    ca_file = %tls.ca_file().display(),
                    "serving HTTPS; trust the CA file, e.g. SSL_CERT_FILE=<ca_file> or NODE_EXTRA_CA_CERTS=<ca_file>"
                );
                Some(tls)
            }
            Err(error) => {
                tracing::error!(%error, "cannot set up TLS");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    if config.control {
        tracing::warn!("the control surface is on: /_control/ (loopback callers only)");
    }
    let app = match fake_auth0::router(config.clone()) {
        Ok(app) => app,
        // A data dir that cannot be used is a configuration problem (exit 2), like a bad
        // tenant file: say what and where, and stop without touching it.
        Err(error) if error.is::<fake_auth0::DataDirError>() => {
            tracing::error!(%error, "cannot use the data dir");
            eprintln!("fake-auth0: {error}");
            return ExitCode::from(2);
        }
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
    let served = match tls {
        Some(tls) => tls
            .serve(listener, app, service_kit::shutdown_signal())
            .await
            .map_err(anyhow::Error::from),
        None => fake_auth0::serve_router(app, listener, service_kit::shutdown_signal()).await,
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
