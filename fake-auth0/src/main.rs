//! The `fake-auth0` binary: parses flags, starts logging, builds the [`App`] and serves it
//! until Ctrl-C or SIGTERM through service-kit's `serve_until_signal`, as every service does.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser as _;
use fake_auth0::config::Command;
use fake_auth0::{App, Cli, StartError};

/// mimalloc instead of glibc's allocator: malloc and free were about a quarter of the
/// instructions of a tool call (callgrind; BENCHMARKS.md, "Instructions per call").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    service_kit::init_tracing(cli.log_format, &["fake_auth0", "service_kit"]);
    tracing::warn!(
        "*** fake-auth0 is FOR DEVELOPMENT AND TESTING ONLY: never use it to protect real data ***"
    );
    let app = match start(&cli).await {
        Ok(app) => app,
        Err(error) => return report(&error),
    };
    tracing::info!(
        listen = %app.local_addr(),
        issuer = %app.issuer(),
        ready_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "fake-auth0 ready"
    );
    // Start-up failures were reported above, each in its own form and exit status.
    service_kit::serve_until_signal("fake-auth0", Ok::<_, StartError>(app), |app, stop| {
        app.run_until_stopped(stop)
    })
    .await
}

/// Loads the configuration and builds the app, logging what a user needs to know on the way.
async fn start(cli: &Cli) -> Result<App, StartError> {
    let config = cli.to_config()?;
    if cli.tenant.is_none() {
        let users: Vec<String> = contract::DemoUser::ALL
            .iter()
            .map(|user| format!("{} / {}", user.email(), user.password()))
            .collect();
        tracing::info!(
            "serving the embedded demo tenant; users {}",
            users.join(", ")
        );
    }
    let app = App::build(config).await?;
    if app.control_token().is_some() {
        if cli.control_token.is_some() {
            tracing::warn!(
                "the control surface is on: /_control/, for loopback callers with the token \
                 given by --control-token / FAKE_AUTH0_CONTROL_TOKEN"
            );
        } else {
            // Generated: written where only this user can read it, never logged.
            let file = fake_auth0::config::control_token_file(
                cli.data_dir.as_deref(),
                app.local_addr().port(),
            );
            app.write_control_token(&file)?;
            tracing::warn!(
                token_file = %file.display(),
                "the control surface is on: /_control/, for loopback callers sending \
                 Authorization: Bearer <the token in token_file>"
            );
        }
    }
    // With --tls, the CA's certificate is the file clients must trust.
    if let Some(ca_file) = app.ca_file() {
        tracing::info!(
            ca_file = %ca_file.display(),
            "serving HTTPS; trust the CA file, e.g. SSL_CERT_FILE=<ca_file> or NODE_EXTRA_CA_CERTS=<ca_file>"
        );
    }
    Ok(app)
}

/// Reports why the server did not start, in the form each failure has always had, and
/// returns the exit status (2 for a tenant file or data dir to fix).
fn report(error: &StartError) -> ExitCode {
    match error {
        StartError::Bind(_) => eprintln!("{error}"),
        StartError::Tenant(_) => tracing::error!(%error, "cannot load the tenant"),
        StartError::DataDir(_) => {
            tracing::error!(%error, "cannot use the data dir");
            eprintln!("fake-auth0: {error}");
        }
        StartError::Tls(_) => tracing::error!(%error, "cannot set up TLS"),
        StartError::Keys(_) | StartError::ClientMetadata(_) => {
            tracing::error!(%error, "cannot start");
        }
        StartError::ControlToken(_) => tracing::error!(%error, "cannot write the control token"),
    }
    ExitCode::from(error.exit_code())
}
