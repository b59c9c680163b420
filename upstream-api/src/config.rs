//! Configuration: `AUTH0_DOMAIN` and `API_AUTH0_AUDIENCE` (the quickstart's names), plus a
//! listen address, from flags, the environment or a `.env` file.
//!
//! The upstream API deliberately does not read `PORT`: a `.env` the MCP server reads too
//! has it as the MCP server's port. The clap [`Cli`] is the outside view (strings); [`Config`] is the typed view.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bearer_auth::{Issuer, JwksSettings};
use service_kit::LogFormat;

/// The upstream API's command line. Every flag can also be set through the environment
/// variable shown in `--help` (or a `.env` file in the working directory).
#[derive(Debug, clap::Parser)]
#[command(name = "upstream-api", version, about)]
pub struct Cli {
    /// The Auth0 tenant (issuer): a bare host means `https://<host>/`.
    #[arg(long, env = "AUTH0_DOMAIN", default_value = contract::AUTH0_DOMAIN)]
    pub auth0_domain: String,
    /// This API's identifier at Auth0: the only audience accepted.
    #[arg(long, env = "API_AUTH0_AUDIENCE", default_value = contract::UPSTREAM_AUDIENCE)]
    pub api_auth0_audience: String,
    /// Extra CA certificates (PEM) to trust for HTTPS to the tenant, besides the system's:
    /// e.g. the `ca.pem` of `fake-auth0 --tls`.
    #[arg(long, env = "AUTH0_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Address to listen on; containers use 0.0.0.0:8787.
    #[arg(long, env = "UPSTREAM_API_LISTEN", default_value_t = contract::UPSTREAM_LISTEN)]
    pub listen: SocketAddr,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// What clients are allowed: timeouts, body size, connections (the same flags in every
    /// service).
    #[command(flatten)]
    pub limits: service_kit::ServerLimits,
    /// What to do; without a subcommand the API serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands besides serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Exits 0 when `GET /health` of the server at `--listen` answers 2xx (for container
    /// images without curl).
    Healthcheck,
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable (or flag) at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// The typed configuration the API runs on. `Default` is the local stack's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// The tenant whose tokens are accepted.
    pub issuer: Issuer,
    /// The API identifier tokens must carry in `aud`.
    pub audience: String,
    /// Where [`App::build`](crate::App::build) binds ([`App::build_on`](crate::App::build_on)
    /// takes a bound listener instead).
    pub listen: SocketAddr,
    /// Clock skew tolerated on token times.
    pub leeway: Duration,
    /// JWKS cache intervals; tests shorten them.
    pub jwks: JwksSettings,
    /// Extra root certificates (PEM file) for HTTPS to the tenant (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    /// What clients are allowed: timeouts, body size, connections (service-kit's, as for
    /// every service).
    pub limits: service_kit::ServerLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: Issuer::from_auth0_domain(contract::AUTH0_DOMAIN)
                .expect("the default issuer is valid"),
            audience: contract::UPSTREAM_AUDIENCE.to_owned(),
            listen: contract::UPSTREAM_LISTEN,
            leeway: Duration::from_secs(30),
            jwks: JwksSettings::default(),
            ca_file: None,
            limits: service_kit::ServerLimits::default(),
        }
    }
}

impl TryFrom<Cli> for Config {
    type Error = ConfigError;

    fn try_from(cli: Cli) -> Result<Self, Self::Error> {
        let issuer = Issuer::from_auth0_domain(&cli.auth0_domain).map_err(|e| ConfigError {
            variable: "AUTH0_DOMAIN",
            message: e.to_string(),
        })?;
        let audience = cli.api_auth0_audience.trim().to_owned();
        if audience.is_empty() {
            return Err(ConfigError {
                variable: "API_AUTH0_AUDIENCE",
                message: "must not be empty".to_owned(),
            });
        }
        Ok(Config {
            issuer,
            audience,
            listen: cli.listen,
            ca_file: cli.ca_file,
            limits: cli.limits,
            ..Config::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn flags_become_a_typed_config() {
        let cli = Cli::try_parse_from([
            "upstream-api",
            "--auth0-domain",
            "tenant.us.auth0.com",
            "--api-auth0-audience",
            "https://api.example.com/",
            "--listen",
            "0.0.0.0:9000",
        ])
        .unwrap();
        let config = Config::try_from(cli).unwrap();
        assert_eq!(config.issuer.as_str(), "https://tenant.us.auth0.com/");
        assert_eq!(config.audience, "https://api.example.com/");
        assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
    }

    #[test]
    fn a_ca_file_is_kept_as_a_path_and_read_at_start() {
        let cli =
            Cli::try_parse_from(["upstream-api", "--ca-file", "/nonexistent/ca.pem"]).unwrap();
        let config = Config::try_from(cli).unwrap();
        assert_eq!(
            config.ca_file.as_deref(),
            Some(std::path::Path::new("/nonexistent/ca.pem"))
        );
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let cli = Cli::try_parse_from(["upstream-api", "--api-auth0-audience", " "]).unwrap();
        let error = Config::try_from(cli).unwrap_err();
        assert_eq!(error.variable, "API_AUTH0_AUDIENCE");
        let cli = Cli::try_parse_from(["upstream-api", "--auth0-domain", "ftp://x"]).unwrap();
        let error = Config::try_from(cli).unwrap_err();
        assert_eq!(error.variable, "AUTH0_DOMAIN");
        assert!(error.to_string().starts_with("AUTH0_DOMAIN: "), "{error}");
    }

    #[test]
    fn healthcheck_is_a_subcommand() {
        let cli = Cli::try_parse_from(["upstream-api", "--listen", "0.0.0.0:9000", "healthcheck"])
            .unwrap();
        assert_eq!(cli.command, Some(Command::Healthcheck));
    }

    #[test]
    fn the_defaults_point_at_the_local_stack() {
        let config = Config::default();
        assert_eq!(config.issuer.as_str(), "http://localhost:4000/");
        assert_eq!(config.audience, "http://localhost:8787/");
        assert_eq!(config.listen, "127.0.0.1:8787".parse().unwrap());
    }
}
